// The metrics endpoint (issue 4): GET /metrics over HTTP, clear start-up errors, an
// exposition promtool accepts, a real Prometheus scraping it, and the CLI around it
// (`weft demo --metrics-listen --hold`, `weft top --once`).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>

#include <weft/json.h>
#include <weft/runtime.h>

#include "runtime/cli/eval_workload.h"
#include "runtime/metrics/metrics_json.h"
#include "tests/support/child_process.h"
#include "tests/support/test_support.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::ChildProcess;
using testing::poll_until;
using testing::TempDir;
using testing::TempStore;
using testing::test_config;

constexpr auto kFlush = 120s;

Config listening_config(const TempStore& store, const std::string& listen = "127.0.0.1:0") {
  Config c = test_config(store);
  c.metrics_listen = listen;
  c.on_error = [](const std::string&) {};
  return c;
}

httplib::Client client_for(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5);
  c.set_read_timeout(10);
  return c;
}

TEST(MetricsEndpoint, ServesThePrometheusTextAtSlashMetrics) {
  TempStore store;
  Runtime rt(listening_config(store));
  ASSERT_GT(rt.metrics_port(), 0) << "port 0 binds some free port and reports it";
  run_eval_workload(rt, EvalWorkloadOptions{5, 1});
  ASSERT_TRUE(rt.flush(kFlush));

  auto cli = client_for(rt.metrics_port());
  auto res = cli.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u)
      << res->get_header_value("Content-Type");
  EXPECT_NE(res->body.find("# TYPE weft_actors_spawned_total counter\n"), std::string::npos);
  EXPECT_NE(res->body.find("weft_actors_spawned_total{kind=\"call\"} 17\n"), std::string::npos) << "3 * 5 + 2 calls";
  EXPECT_NE(res->body.find("# TYPE weft_handler_seconds histogram\n"), std::string::npos);

  auto missing = cli.Get("/nope");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto wrong_method = cli.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(wrong_method);
  EXPECT_NE(wrong_method->status, 200);

  auto inst = cli.Get("/metrics/instances?n=3");
  ASSERT_TRUE(inst);
  EXPECT_EQ(inst->status, 200);
  MetricsSnapshot parsed;
  EXPECT_TRUE(parse_instances_json(inst->body, parsed).is_ok()) << inst->body;
  auto bad_n = cli.Get("/metrics/instances?n=x");
  ASSERT_TRUE(bad_n);
  EXPECT_EQ(bad_n->status, 400);
}

TEST(MetricsEndpoint, ATakenPortIsAClearErrorAtStartUp) {
  // Hold a port the way another server would (no SO_REUSEPORT).
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(fd, 1), 0);
  ASSERT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len), 0);
  const std::string listen = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));

  TempStore store;
  auto rt = Runtime::open(listening_config(store, listen));
  ::close(fd);
  ASSERT_FALSE(rt);
  EXPECT_EQ(rt.code(), StatusCode::kUnavailable);
  EXPECT_EQ(rt.error(), "metrics endpoint: " + listen + ": address already in use");
}

TEST(MetricsEndpoint, BadAddressesAreClearErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"127.0.0.1", "missing port"},
      {"127.0.0.1:", "missing port"},
      {":9464", "missing host"},
      {"127.0.0.1:65536", "not a number from 0 to 65535"},
      {"127.0.0.1:-1", "not a number from 0 to 65535"},
      {"127.0.0.1:http", "not a number from 0 to 65535"},
      {"metrics.example.com:9464", "is not an IPv4 or IPv6 address or 'localhost'"},
      {"999.0.0.1:9464", "is not an IPv4 or IPv6 address"},
      {"::1:9464", "an IPv6 address needs brackets"},
      {"[::1:9464", "missing ']'"},
  };
  for (const auto& [listen, why] : cases) {
    TempStore store;
    auto rt = Runtime::open(listening_config(store, listen));
    ASSERT_FALSE(rt) << listen;
    EXPECT_EQ(rt.error().rfind(std::string("metrics endpoint: bad listen address '") + listen + "': ", 0), 0u)
        << rt.error();
    EXPECT_NE(rt.error().find(why), std::string::npos) << rt.error();
    EXPECT_EQ(rt.code(), StatusCode::kInvalidArgument) << listen;
  }
  // A well-formed address this host does not have: the OS's reason.
  TempStore store;
  auto rt = Runtime::open(listening_config(store, "192.0.2.1:9464"));  // TEST-NET-1
  ASSERT_FALSE(rt);
  EXPECT_NE(rt.error().find("192.0.2.1:9464: "), std::string::npos) << rt.error();
}

TEST(MetricsEndpoint, LocalhostIsAccepted) {
  TempStore store;
  Runtime rt(listening_config(store, "localhost:0"));
  auto res = client_for(rt.metrics_port()).Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

// `promtool check metrics` (Debian's prometheus package) reads the exposition on stdin and
// prints problems and lint warnings; it must print nothing and exit 0.
TEST(MetricsEndpoint, PromtoolAcceptsTheExposition) {
  if (!std::filesystem::exists("/usr/bin/promtool")) GTEST_SKIP() << "promtool missing (scripts/setup installs it)";
  TempStore store;
  Runtime rt(listening_config(store));
  Call open_call = rt.start_call(make_op("held", "def held(): ..."), Value::dict({}));  // a waiter
  run_eval_workload(rt, EvalWorkloadOptions{10, 2});
  ASSERT_TRUE(rt.flush(kFlush));
  auto res = client_for(rt.metrics_port()).Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);

  TempDir dir("weft-promtool");
  std::ofstream(dir.path() / "metrics.txt", std::ios::binary) << res->body;
  ChildProcess promtool({"/usr/bin/promtool", "check", "metrics"}, dir.path() / "out.txt", dir.path() / "metrics.txt");
  ASSERT_TRUE(promtool.wait_exit(60s)) << "promtool did not finish";
  EXPECT_EQ(promtool.exit_code(), 0) << promtool.log();
  EXPECT_EQ(promtool.log(), "") << "lint warnings";
  ASSERT_TRUE(open_call.finish(Value()).is_ok());
}

// A real Prometheus (Debian 2.42) on loopback scrapes a running weft every second; its
// query API must return weft_ series. Prometheus runs under `timeout` so that even a test
// process killed outright cannot leave it running; the guard stops it and removes its
// data directory whatever happens.
TEST(MetricsEndpoint, PrometheusScrapesWeftSeries) {
  if (!std::filesystem::exists("/usr/bin/prometheus"))
    GTEST_SKIP() << "prometheus missing (scripts/setup installs it)";
  TempStore store;
  Runtime rt(listening_config(store));
  run_eval_workload(rt, EvalWorkloadOptions{5, 3});
  ASSERT_TRUE(rt.flush(kFlush));

  TempDir dir("weft-prometheus");
  std::string config = testing::read_file(std::filesystem::path(WEFT_SOURCE_DIR) / "tests/support/prometheus/prometheus.yml.in");
  config = std::regex_replace(config, std::regex("@TARGET@"), "127.0.0.1:" + std::to_string(rt.metrics_port()));
  std::ofstream(dir.path() / "prometheus.yml") << config;
  const int port = testing::free_loopback_port();
  ASSERT_GT(port, 0);
  ChildProcess prometheus({"/usr/bin/timeout", "300", "/usr/bin/prometheus",
                           "--config.file=" + (dir.path() / "prometheus.yml").string(),
                           "--storage.tsdb.path=" + (dir.path() / "data").string(),
                           "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                          dir.path() / "prometheus.log");

  httplib::Client api("127.0.0.1", port);
  api.set_connection_timeout(2);
  api.set_read_timeout(5);
  auto series = poll_until(60s, [&]() -> std::optional<Value> {
    if (prometheus.exited()) return std::nullopt;
    auto res = api.Get("/api/v1/query?query=weft_actors_spawned_total");
    if (!res || res->status != 200) return std::nullopt;
    auto doc = parse_json(res->body);
    if (!doc || doc->kind() != ValueKind::kDict) return std::nullopt;
    const Value* data = doc->find("data");
    const Value* result = data != nullptr && data->kind() == ValueKind::kDict ? data->find("result") : nullptr;
    if (result == nullptr || result->kind() != ValueKind::kList || result->items().empty()) return std::nullopt;
    return *result;
  });
  ASSERT_FALSE(prometheus.exited()) << "prometheus exited:\n" << prometheus.log();
  ASSERT_TRUE(series.has_value()) << "no weft_ series within 60 s; prometheus log:\n" << prometheus.log();
  // One series per kind, labelled as weft labels them plus Prometheus's job and instance.
  bool saw_call = false;
  for (const Value& s : series->items()) {
    const Value* metric = s.find("metric");
    ASSERT_NE(metric, nullptr);
    ASSERT_NE(metric->find("__name__"), nullptr);
    EXPECT_EQ(metric->find("__name__")->as_string(), "weft_actors_spawned_total");
    ASSERT_NE(metric->find("job"), nullptr);
    EXPECT_EQ(metric->find("job")->as_string(), "weft");
    const Value* k = metric->find("kind");
    ASSERT_NE(k, nullptr);
    if (k->as_string() == "call") {
      saw_call = true;
      const Value* v = s.find("value");  // [timestamp, "17"]
      ASSERT_NE(v, nullptr);
      ASSERT_EQ(v->items().size(), 2u);
      EXPECT_EQ(v->items()[1].as_string(), "17") << "3 * 5 + 2 calls";
    }
  }
  EXPECT_TRUE(saw_call);
}

// ---------------------------------------------------------------- the CLI

// weft demo --metrics-listen 127.0.0.1:0 --hold: prints the bound port, serves while and
// after the demo, prints the metrics table, and exits cleanly (0) on SIGTERM.
TEST(MetricsEndpoint, DemoServesAndHoldsUntilSigterm) {
  TempDir dir("weft-demo-hold");
  ChildProcess demo({WEFT_CLI_PATH, "demo", "--store", (dir.path() / "demo.db").string(), "--ops", "30",
                     "--metrics-listen", "127.0.0.1:0", "--hold"},
                    dir.path() / "demo.log");
  const std::regex holding("serving metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics[\\s\\S]*weft demo: holding");
  auto port = poll_until(120s, [&]() -> std::optional<int> {
    std::smatch m;
    std::string log = demo.log();
    if (std::regex_search(log, m, holding)) return std::stoi(m[1]);
    return std::nullopt;
  });
  ASSERT_TRUE(port.has_value()) << demo.log();
  std::string log = demo.log();
  for (const char* column : {"spawned", "alive", "depth", "high-water", "processed", "handler p50", "handler p99"})
    EXPECT_NE(log.find(column), std::string::npos) << column << "\n" << log;
  EXPECT_NE(log.find("store         queue 0,"), std::string::npos) << log;
  EXPECT_NE(log.find("pending       0 dependencies"), std::string::npos) << log;

  auto res = client_for(*port).Get("/metrics");  // still served: held
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("weft_actors_spawned_total{kind=\"call\"} 92\n"), std::string::npos) << "3 * 30 + 2";

  // weft top --once against it: one frame, the kinds and the store line.
  TempDir top_dir("weft-top");
  ChildProcess top({WEFT_CLI_PATH, "top", "--once", "--interval", "0.05", "--url",
                    "http://127.0.0.1:" + std::to_string(*port) + "/metrics"},
                   top_dir.path() / "top.log");
  ASSERT_TRUE(top.wait_exit(60s));
  EXPECT_EQ(top.exit_code(), 0) << top.log();
  for (const char* text : {"processed/s", "handler p99", "object", "call", "store_writer", "store         queue 0",
                           "deepest mailboxes", "longest waiting"})
    EXPECT_NE(top.log().find(text), std::string::npos) << text << "\n" << top.log();
  EXPECT_EQ(top.log().find("\x1b["), std::string::npos) << "no screen control codes when not a terminal";

  demo.signal(SIGTERM);
  ASSERT_TRUE(demo.wait_exit(60s)) << demo.log();
  EXPECT_EQ(demo.exit_code(), 0) << demo.log();
  EXPECT_NE(demo.log().find("SIGTERM received, shutting down"), std::string::npos) << demo.log();
}

TEST(MetricsEndpoint, TopReportsAnUnreachableEndpointInOneLine) {
  TempDir dir("weft-top");
  const int port = testing::free_loopback_port();
  ChildProcess top({WEFT_CLI_PATH, "top", "--once", "--url", "127.0.0.1:" + std::to_string(port)},
                   dir.path() / "top.log");
  ASSERT_TRUE(top.wait_exit(60s));
  EXPECT_EQ(top.exit_code(), 1);
  EXPECT_EQ(top.log(), "weft top: cannot reach http://127.0.0.1:" + std::to_string(port) +
                           "/metrics: connection refused or host unreachable\n");
}

TEST(MetricsEndpoint, DemoRejectsHoldWithoutAnAddressAndABadAddress) {
  TempDir dir("weft-demo-bad");
  ChildProcess hold({WEFT_CLI_PATH, "demo", "--hold"}, dir.path() / "hold.log");
  ASSERT_TRUE(hold.wait_exit(60s));
  EXPECT_EQ(hold.exit_code(), 2);
  EXPECT_EQ(hold.log(), "weft demo: --hold needs --metrics-listen (see 'weft demo --help')\n");
  ChildProcess bad({WEFT_CLI_PATH, "demo", "--store", (dir.path() / "d.db").string(), "--metrics-listen", "nowhere"},
                   dir.path() / "bad.log");
  ASSERT_TRUE(bad.wait_exit(60s));
  EXPECT_EQ(bad.exit_code(), 2);
  EXPECT_NE(bad.log().find("weft demo: metrics endpoint: bad listen address 'nowhere': missing port"),
            std::string::npos)
      << bad.log();
}

}  // namespace
}  // namespace weft
