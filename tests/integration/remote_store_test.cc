// The remote store inside a Runtime, against the fake Weave trace server
// (tests/support/fake_weave_server.py, started as a child process on loopback).
#include <gtest/gtest.h>
#include <httplib.h>

#include <weft/digest.h>
#include <weft/json.h>
#include <weft/remote.h>
#include <weft/runtime.h>
#include <weft/store.h>

#include "runtime/cli/eval_workload.h"
#include "tests/support/child_process.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::TempDir;

constexpr const char* kKey = "remote-store-test-key";

class FakeServer {
 public:
  FakeServer(const TempDir& dir, const std::string& faults)
      : port_file_(dir.path() / "port"),
        child_({"/usr/bin/env", "python3", WEFT_SOURCE_DIR "/tests/support/fake_weave_server.py", "--port", "0",
                "--port-file", port_file_.string(), "--api-key", kKey, "--faults", faults, "--max-seconds", "300"},
               dir.path() / "server.log") {
    auto port = testing::poll_until(30s, [&]() -> std::optional<int> {
      std::string s = testing::read_file(port_file_);
      if (s.empty() || s.back() != '\n') return std::nullopt;
      return std::stoi(s);
    });
    if (!port) throw std::runtime_error("the fake server did not start: " + child_.log());
    port_ = *port;
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  Value get(const std::string& path) const {
    httplib::Client c("127.0.0.1", port_);
    auto r = c.Get(path);
    if (!r) throw std::runtime_error("fake server: no answer to " + path);
    return parse_json(r->body).value();
  }
  void control(const std::string& json) const {
    httplib::Client c("127.0.0.1", port_);
    c.Post("/__control", json, "application/json");
  }

 private:
  std::filesystem::path port_file_;
  ChildProcess child_;
  int port_ = 0;
};

Config remote_config(const FakeServer& server, const TempDir& dir) {
  RemoteOptions o;
  o.url = server.url();
  o.api_key = kKey;
  o.outbox_path = (dir.path() / "outbox.db").string();
  Config cfg;
  cfg.project = "weft/remote-test";
  cfg.store = std::shared_ptr<Store>(open_remote_store(cfg.project, o).value());
  cfg.dead_letter_path = (dir.path() / "dead-letter.jsonl").string();
  return cfg;
}

uint64_t answers(const MetricsSnapshot& m) {
  uint64_t n = 0;
  for (const auto& a : m.remote.answers) n += a.count;
  return n;
}

// Weave's "paused client" scenario: every answer is held back 1.5 s. The whole evaluation
// returns to the application before a single answer arrived (so no call waited on the
// server), and a flush then delivers all of it.
TEST(RemoteStore, APausedServerNeverMakesTheApplicationWait) {
  TempDir dir("weft-remote");
  FakeServer server(dir, R"({"delay": {"rate": 1.0, "ms": 1500}})");
  Runtime rt(remote_config(server, dir));
  EvalWorkloadResult r = run_eval_workload(rt, EvalWorkloadOptions{20, 42});
  MetricsSnapshot during = rt.metrics();
  EXPECT_EQ(answers(during), 0u) << "an answer arrived before the workload returned";
  EXPECT_TRUE(during.remote.enabled);
  ASSERT_FALSE(r.call_ns.empty());
  FlushResult f = rt.flush(120s);
  EXPECT_TRUE(f) << f.failed << " failed, " << f.pending << " pending";
  RuntimeStats s = rt.stats();
  EXPECT_EQ(s.call_start, s.call_end);
  EXPECT_EQ(s.store_failures, 0u);
  Value audit = server.get("/__audit");
  EXPECT_EQ(audit.find("violations")->items().size(), 0u) << canonical_json(audit);
  EXPECT_EQ(static_cast<uint64_t>(audit.find("counts")->find("calls")->as_int()), s.call_start);
}

// A value that holds refs takes the server's digest (the server rewrites refs before
// hashing); a ref-free one keeps the local digest. Both refs resolve on the server.
TEST(RemoteStore, ServerDigestsForValuesThatHoldRefs) {
  TempDir dir("weft-remote");
  FakeServer server(dir, "{}");
  Runtime rt(remote_config(server, dir));
  Value inner = make_object("Inner", {{"x", Value::number(0.25)}});
  SavedRef outer = rt.save(make_object("Outer", {{"inner", inner}, {"tag", Value::string("t")}}), "outer");
  SavedRef leaf = rt.save(inner);  // the instance outer holds: one object
  ASSERT_TRUE(rt.flush(60s));
  ASSERT_TRUE(outer.ok()) << outer.error();
  ASSERT_TRUE(leaf.ok()) << leaf.error();
  EXPECT_EQ(rt.metrics().remote.digest_round_trips, 1u);

  // The same values into the local SQLite store: the ref-free digest is the same, the
  // ref-bearing one is not (the local store hashes over external refs, as Weave's does).
  Config local;
  local.project = "weft/remote-test";
  local.store_path = (dir.path() / "local.db").string();
  Runtime lrt(local);
  Value inner2 = make_object("Inner", {{"x", Value::number(0.25)}});
  SavedRef louter = lrt.save(make_object("Outer", {{"inner", inner2}, {"tag", Value::string("t")}}), "outer");
  SavedRef lleaf = lrt.save(inner2);
  ASSERT_TRUE(lrt.flush(60s));
  EXPECT_EQ(leaf.digest(), lleaf.digest());
  EXPECT_NE(outer.digest(), louter.digest());

  Value audit = server.get("/__audit");
  EXPECT_EQ(audit.find("violations")->items().size(), 0u) << canonical_json(audit);
  EXPECT_EQ(audit.find("counts")->find("objects")->as_int(), 2);
}

}  // namespace
}  // namespace weft
