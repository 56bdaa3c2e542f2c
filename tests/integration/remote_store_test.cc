// The remote store inside a Runtime, against the fake Weave trace server
// (tests/support/fake_weave_server.py, started as a child process on loopback).
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <mutex>
#include <string>
#include <vector>

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
  FakeServer(const TempDir& dir, const std::string& faults, const std::string& calls_mode = "any")
      : port_file_(dir.path() / "port"),
        child_({"/usr/bin/env", "python3", WEFT_SOURCE_DIR "/tests/support/fake_weave_server.py", "--port", "0",
                "--port-file", port_file_.string(), "--api-key", kKey, "--faults", faults, "--max-seconds", "300",
                "--calls-mode", calls_mode},
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

Config remote_config(const FakeServer& server, const TempDir& dir, RemoteOptions o = {}) {
  o.url = server.url();
  o.api_key = kKey;
  o.outbox_path = (dir.path() / "outbox.db").string();
  Config cfg;
  cfg.project = "weft/remote-test";
  cfg.store = std::shared_ptr<Store>(open_remote_store(cfg.project, o).value());
  cfg.dead_letter_path = (dir.path() / "dead-letter.jsonl").string();
  return cfg;
}

uint64_t answers(const MetricsSnapshot& m, std::string_view route = {}, std::string_view status = {}) {
  uint64_t n = 0;
  for (const auto& a : m.remote.answers)
    if ((route.empty() || a.route == route) && (status.empty() || a.status == status)) n += a.count;
  return n;
}

// Requests the fake server answered on a route (its /__stats, by status), all statuses.
int64_t served(const Value& stats, const std::string& route, const std::string& status = {}) {
  const Value* per = stats.find("by_route")->find(route);
  if (!per) return 0;
  int64_t n = 0;
  for (const auto& [k, v] : per->entries())
    if (status.empty() || k == status) n += v.as_int();
  return n;
}

int64_t injected(const Value& stats, const std::string& what) {
  const Value* n = stats.find("injected")->find(what);
  return n ? n->as_int() : 0;
}

constexpr const char* kComplete = "/v2/{entity}/{project}/calls/complete";
constexpr const char* kStartV2 = "/v2/{entity}/{project}/call/start";
constexpr const char* kEndV2 = "/v2/{entity}/{project}/call/end";

// The whole demo workload arrived: every call with its start and end, nothing refused.
void expect_delivered(const FakeServer& server, Runtime& rt) {
  FlushResult f = rt.flush(120s);
  EXPECT_TRUE(f) << f.failed << " failed, " << f.pending << " pending";
  RuntimeStats s = rt.stats();
  EXPECT_EQ(s.call_start, s.call_end);
  EXPECT_EQ(s.store_failures, 0u);
  EXPECT_EQ(s.dead_lettered, 0u);
  Value audit = server.get("/__audit");
  EXPECT_EQ(audit.find("violations")->items().size(), 0u) << canonical_json(audit);
  EXPECT_EQ(audit.find("refused")->items().size(), 0u) << canonical_json(audit);
  EXPECT_EQ(static_cast<uint64_t>(audit.find("counts")->find("calls")->as_int()), s.call_start);
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

// Complete mode: one /v2/{entity}/{project}/calls/complete item per finished call, and
// not one request to /call/upsert_batch.
TEST(RemoteStore, CallsCompleteSendsEachFinishedCallAsOneItem) {
  TempDir dir("weft-remote");
  FakeServer server(dir, "{}");
  RemoteOptions o;
  o.calls_route = CallsRoute::kComplete;
  Runtime rt(remote_config(server, dir, o));
  run_eval_workload(rt, EvalWorkloadOptions{20, 42});
  expect_delivered(server, rt);
  Value stats = server.get("/__stats");
  EXPECT_EQ(served(stats, "/call/upsert_batch"), 0);
  EXPECT_GT(served(stats, kComplete, "200"), 0);
  EXPECT_EQ(served(stats, kStartV2), 0) << "no call ran long enough to be shown while running";
  MetricsSnapshot m = rt.metrics();
  EXPECT_EQ(m.remote.calls_route, "complete");
  EXPECT_EQ(m.remote.route_switches, 0u);
  EXPECT_EQ(static_cast<int64_t>(answers(m, kComplete, "2xx")), served(stats, kComplete, "200"));
}

// The demo workload against a server with --calls-mode `server_mode`, the store starting
// on `start`: everything arrives, and the store ends on `end` after exactly one switch,
// with one refused request on the server's side (counted as its policy) per 4xx seen.
void expect_one_switch(const std::string& server_mode, CallsRoute start, const std::string& end,
                       const std::string& refusal, std::string_view refused_route) {
  TempDir dir("weft-remote");
  FakeServer server(dir, "{}", server_mode);
  RemoteOptions o;
  o.calls_route = start;
  Runtime rt(remote_config(server, dir, o));
  run_eval_workload(rt, EvalWorkloadOptions{20, 42});
  expect_delivered(server, rt);
  Value stats = server.get("/__stats");
  MetricsSnapshot m = rt.metrics();
  EXPECT_EQ(m.remote.calls_route, end);
  EXPECT_EQ(m.remote.route_switches, 1u);
  EXPECT_GT(injected(stats, refusal), 0);
  EXPECT_EQ(static_cast<int64_t>(answers(m, refused_route, "4xx")), injected(stats, refusal));
  EXPECT_EQ(m.remote.rejected, 0u);
}

// A project in Weave's calls_complete mode answers the v1 routes with 400
// CALLS_COMPLETE_MODE_REQUIRED: the store switches once, and every call still arrives.
TEST(RemoteStore, AServerRequiringCompleteModeSwitchesTheStore) {
  expect_one_switch("complete-required", CallsRoute::kUpsertBatch, "complete", "complete_mode_required",
                    "/call/upsert_batch");
}

// Asked for complete mode, a server without the v2 routes (404): back to upsert_batch.
TEST(RemoteStore, AServerWithoutTheV2RoutesSwitchesBack) {
  expect_one_switch("legacy-only", CallsRoute::kComplete, "upsert_batch", "v2_absent", {});
}

// In complete mode a call still running after show_running_after is shown while it runs:
// its start goes alone to /v2/.../call/start, its end later to /v2/.../call/end. A call
// that finishes at once still goes as one calls/complete item.
TEST(RemoteStore, ALongRunningCallShowsWhileItRuns) {
  TempDir dir("weft-remote");
  FakeServer server(dir, "{}");
  RemoteOptions o;
  o.calls_route = CallsRoute::kComplete;
  o.show_running_after = 100ms;
  Runtime rt(remote_config(server, dir, o));
  Value op = make_op("long_task", "def long_task(x): ...");
  Call running = rt.start_call(op, Value::dict({{"x", Value::number(1)}}));
  ASSERT_TRUE(running.recorded());
  auto shown = testing::poll_until(60s, [&]() -> std::optional<bool> {
    if (served(server.get("/__stats"), kStartV2, "200") == 1) return true;
    return std::nullopt;
  });
  ASSERT_TRUE(shown) << "the running call's start never reached /v2/.../call/start";
  {
    Call quick = rt.start_call(op, Value::dict({{"x", Value::number(2)}}));
    ASSERT_TRUE(quick.finish(Value::number(4)).is_ok());
  }
  ASSERT_TRUE(running.finish(Value::number(2)).is_ok());
  expect_delivered(server, rt);
  Value stats = server.get("/__stats");
  EXPECT_EQ(served(stats, kStartV2, "200"), 1);
  EXPECT_EQ(served(stats, kEndV2, "200"), 1);
  EXPECT_GE(served(stats, kComplete, "200"), 1);
  EXPECT_EQ(served(stats, "/call/upsert_batch"), 0);
  Value audit = server.get("/__audit");
  EXPECT_EQ(audit.find("counts")->find("calls")->as_int(), 2);
}

// weft top shows the remote store: answers by status class, retries, the outbox, the route.
TEST(RemoteStore, WeftTopShowsTheRemoteStore) {
  TempDir dir("weft-remote");
  FakeServer server(dir, R"({"error": {"count": 2}})");
  Config cfg = remote_config(server, dir);
  cfg.metrics_listen = "127.0.0.1:0";
  Runtime rt(cfg);
  run_eval_workload(rt, EvalWorkloadOptions{5, 42});
  ASSERT_TRUE(rt.flush(120s));
  ChildProcess top({WEFT_CLI_PATH, "top", "--once", "--interval", "0.05", "--url",
                    "http://127.0.0.1:" + std::to_string(rt.metrics_port()) + "/metrics"},
                   dir.path() / "top.log");
  ASSERT_TRUE(top.wait_exit(60s));
  EXPECT_EQ(top.exit_code(), 0) << top.log();
  MetricsSnapshot m = rt.metrics();
  const std::string want = "0 in flight, " + std::to_string(answers(m)) + " answers";
  EXPECT_NE(top.log().find(want), std::string::npos) << want << "\n" << top.log();
  EXPECT_NE(top.log().find("5xx 2, none 0), 2 retries"), std::string::npos) << top.log();
  EXPECT_NE(top.log().find("outbox 0 requests (0 bytes), 0 kept, 0 refused by the server, calls to upsert_batch"),
            std::string::npos)
      << top.log();
}

// A dependency deadline shorter than the server's answers does not fail parents: the store
// tells them how each digest request ended, so the runtime stretches the deadline to the
// store's own (RuntimeCore::dependency_timeout). Every answer here takes 1 s; the
// configured deadline is 200 ms; the ref-bearing values' parents still wait and succeed.
TEST(RemoteStore, ASlowServerDoesNotTripTheDependencyDeadline) {
  TempDir dir("weft-remote");
  FakeServer server(dir, R"({"delay": {"rate": 1.0, "ms": 1000}})");
  std::vector<std::string> errors;
  std::mutex errors_mu;
  Config cfg = remote_config(server, dir);
  cfg.dependency_timeout = 200ms;
  cfg.on_error = [&](const std::string& e) {
    std::lock_guard<std::mutex> lock(errors_mu);
    errors.push_back(e);
  };
  Runtime rt(cfg);
  Value inner = make_object("Inner", {{"x", Value::number(0.5)}});
  SavedRef outer = rt.save(make_object("Outer", {{"inner", inner}}), "outer");
  SavedRef outermost = rt.save(make_object("Outermost", {{"outer", make_object("Outer", {{"inner", inner}})}}));
  ASSERT_TRUE(rt.flush(120s));
  EXPECT_TRUE(outer.ok()) << outer.error();
  EXPECT_TRUE(outermost.ok()) << outermost.error();
  // "outer", the nested "Outer" (another name: another object), then "Outermost" after it.
  EXPECT_EQ(rt.metrics().remote.digest_round_trips, 3u);
  std::lock_guard<std::mutex> lock(errors_mu);
  for (const auto& e : errors) EXPECT_EQ(e.find("gave up"), std::string::npos) << e;
}

// Complete mode's failure paths keep both halves of a call together. A refused key keeps
// every request in the outbox (a start waiting for its end too); the next runtime on that
// outbox pairs them again and delivers all of it.
TEST(RemoteStore, CompleteModeKeepsBothHalvesAndReplaysThem) {
  TempDir dir("weft-remote");
  FakeServer server(dir, R"({"bad_key": true})");
  RemoteOptions o;
  o.calls_route = CallsRoute::kComplete;
  uint64_t kept = 0, calls = 0;
  {
    Runtime rt(remote_config(server, dir, o));
    calls = run_eval_workload(rt, EvalWorkloadOptions{10, 42}).calls;
    FlushResult f = rt.flush(60s);
    EXPECT_FALSE(f);
    EXPECT_EQ(f.pending, 0);
    RuntimeStats s = rt.stats();
    MetricsSnapshot m = rt.metrics();
    kept = s.kept_by_store;
    EXPECT_GT(m.remote.auth_failures, 0u);
    EXPECT_EQ(s.store_failures, kept) << "every request the store was given is kept";
    EXPECT_EQ(s.dead_lettered, 0u);
    EXPECT_EQ(s.lost, 0u);
    EXPECT_EQ(m.remote.outbox_depth, kept) << "every request is still in the outbox";
    // Also failed, and reported: values holding refs, which wait for the server's digest
    // of a kept child, so their own request never exists (docs/REMOTE.md, the outbox's
    // guarantee for ref-bearing work).
    EXPECT_GT(f.failed, kept);
  }
  ASSERT_GT(kept, 2 * calls);  // every call's start and end, plus objects
  server.control(R"({"reset_faults": true})");
  Runtime replay(remote_config(server, dir, o));
  ASSERT_TRUE(replay.flush(120s));
  auto done = testing::poll_until(60s, [&]() -> std::optional<bool> {
    MetricsSnapshot m = replay.metrics();
    if (m.remote.replay_delivered == kept && m.remote.outbox_depth == 0) return true;
    return std::nullopt;
  });
  MetricsSnapshot m = replay.metrics();
  EXPECT_TRUE(done) << m.remote.replay_delivered << " of " << kept << " delivered, outbox " << m.remote.outbox_depth;
  Value audit = server.get("/__audit");
  EXPECT_EQ(audit.find("violations")->items().size(), 0u) << canonical_json(audit);
  EXPECT_EQ(static_cast<uint64_t>(audit.find("counts")->find("calls")->as_int()), calls)
      << "every call, its start and end paired again";
  EXPECT_GT(served(server.get("/__stats"), kComplete, "200"), 0);
}

// A finished call too big for one request: its calls/complete item is refused (413, a
// single item: no split), and both its start and its end are dead-lettered, counted once
// as a rejected request.
TEST(RemoteStore, ACompleteItemOverTheLimitDeadLettersBothHalves) {
  TempDir dir("weft-remote");
  FakeServer server(dir, R"({"max_body_bytes": 16384})");
  RemoteOptions o;
  o.calls_route = CallsRoute::kComplete;
  Runtime rt(remote_config(server, dir, o));
  Value op = make_op("big_answer", "def big_answer(x): ...");
  {
    Call call = rt.start_call(op, Value::dict({{"x", Value::number(1)}}));
    ASSERT_TRUE(call.finish(Value::string(std::string(32 * 1024, 'a'))).is_ok());
  }
  FlushResult f = rt.flush(60s);
  EXPECT_FALSE(f);
  RuntimeStats s = rt.stats();
  MetricsSnapshot m = rt.metrics();
  EXPECT_EQ(s.dead_lettered, 2u) << "the call's start and its end";
  EXPECT_EQ(m.remote.rejected, 1u) << "one request refused";
  EXPECT_EQ(m.remote.splits, 0u);
  EXPECT_EQ(m.remote.outbox_depth, 0u);
  std::string lines = testing::read_file(dir.path() / "dead-letter.jsonl");
  EXPECT_EQ(std::count(lines.begin(), lines.end(), '\n'), 2);
  EXPECT_NE(lines.find("\"call_start\""), std::string::npos);
  EXPECT_NE(lines.find("\"call_end\""), std::string::npos);
}

}  // namespace
}  // namespace weft
