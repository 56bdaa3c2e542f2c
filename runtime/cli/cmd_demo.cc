// weft demo: the main job. Runs the evaluation workload (runtime/eval_workload.h) into the
// embedded store (or, with --remote, to a Weave trace server) and prints what was
// recorded, what it cost the calling thread, and the runtime's metrics. With --metrics-listen it serves GET /metrics meanwhile (and, with
// --hold, afterwards until SIGINT/SIGTERM) for `weft top` or Prometheus.
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>

#include <weft/remote.h>
#include <weft/runtime.h>
#include <weft/store.h>

#include "runtime/cli/commands.h"
#include "runtime/cli/eval_workload.h"
#include "runtime/cli/metrics_table.h"
#include "runtime/cli/options.h"
#include "runtime/stores/sqlite/store_reader.h"

namespace weft::cli {
namespace {

constexpr const char* kName = "demo";

constexpr const char* kUsage =
    "usage: weft demo [--store PATH] [--threads N] [--ops N] [--project ENTITY/PROJECT]\n"
    "                 [--remote [URL] [--outbox PATH] [--in-flight N] [--calls-complete]]\n"
    "                 [--metrics-listen HOST:PORT [--hold]]\n"
    "\n"
    "Runs an evaluation through the runtime into the embedded SQLite store: a dataset of N\n"
    "examples (a table with an image file per row), a model Object with a nested prompt,\n"
    "and per example predict (an LLM-style response with nested usage, choice and message\n"
    "Objects), score and predict_and_score calls, then a summary call. Prints what was\n"
    "recorded, the wall time, what each traced call cost the calling thread, and the\n"
    "runtime's metrics (docs/METRICS.md).\n"
    "\n"
    "  --store PATH      SQLite store file (default: weft.db; created if missing, appended to)\n"
    "  --threads N       actor scheduler threads (default: 2)\n"
    "  --ops N           examples to evaluate, 3 calls each (default: 200)\n"
    "  --project E/P     Weave project (default: weft/demo)\n"
    "  --remote [URL]    send to a Weave trace server instead of the SQLite store: URL, else\n"
    "                    $WF_TRACE_SERVER_URL, else https://trace.wandb.ai; the API key from\n"
    "                    $WANDB_API_KEY or ~/.netrc. The summary says what the server\n"
    "                    acknowledged, what was retried, split and dead-lettered\n"
    "  --outbox PATH     with --remote: the durable outbox (default: weft-outbox.db); what\n"
    "                    is left there is delivered by 'weft replay --outbox PATH'\n"
    "  --in-flight N     with --remote: HTTP requests in flight at once (default: 12)\n"
    "  --calls-complete  with --remote: send finished calls to /v2/{entity}/{project}/\n"
    "                    calls/complete (one item per call) rather than /call/upsert_batch;\n"
    "                    the store also switches by itself when the server requires it\n"
    "  --metrics-listen HOST:PORT\n"
    "                    serve GET /metrics (Prometheus text) there while the demo runs,\n"
    "                    e.g. 127.0.0.1:9464 (port 0: any free port); watch it with\n"
    "                    'weft top --url http://HOST:PORT/metrics'\n"
    "  --hold            with --metrics-listen: keep serving after the demo, until SIGINT\n"
    "                    (Ctrl-C) or SIGTERM; one that arrives during the demo ends it\n"
    "                    once the demo is done\n"
    "  --help            this text\n";

std::string format_ns(double ns) { return format_duration_ns(ns); }

// --hold: SIGINT and SIGTERM are blocked in every thread (the runtime's threads inherit
// the mask, so none of them is interrupted) and collected by sigwait once the demo is done.
// A signal that arrives during the demo is kept pending: the demo finishes, then exits.
sigset_t hold_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

void print_remote(const RemoteMetrics& m, const RuntimeStats& s) {
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::printf("\nremote %s:\n", m.url.c_str());
  std::printf("  requests    ");
  for (const auto& a : m.answers) std::printf(" %s %s=%llu", a.route.c_str(), a.status.c_str(), u(a.count));
  std::printf("\n  batches      %llu %s, %llu bytes sent, answer p50 %s p99 %s\n", u(m.call_batches),
              m.calls_route == "complete" ? "/v2/.../calls/complete" : "/call/upsert_batch", u(m.bytes_sent), format_ns(m.latency.p50_ns).c_str(),
              format_ns(m.latency.p99_ns).c_str());
  std::printf("  retried     ");
  for (const auto& [cause, n] : m.retries) std::printf(" %s=%llu", cause.c_str(), u(n));
  std::printf("\n  split        %llu batches in halves; %llu digests the server assigned (round trips waited on); %llu 409s\n",
              u(m.splits), u(m.digest_round_trips), u(m.conflicts_409));
  std::printf("  dead-lettered %llu (refused by the server: %llu); kept in the outbox %llu (depth %llu, %llu bytes)\n",
              u(s.dead_lettered), u(m.rejected), u(m.kept), u(m.outbox_depth), u(m.outbox_bytes));
  if (m.route_switches > 0)
    std::printf("  calls route  switched %llu times at the server's word; now %s\n", u(m.route_switches),
                m.calls_route.c_str());
  if (m.auth_failures > 0) std::printf("  API key refused %llu times (401/403)\n", u(m.auth_failures));
  if (m.replayed > 0)
    std::printf("  replayed     %llu left by an earlier run, %llu delivered\n", u(m.replayed), u(m.replay_delivered));
}

}  // namespace

int cmd_demo(int argc, char** argv) {
  std::string store = "weft.db", threads_s = "2", ops_s = "200", project = "weft/demo", listen;
  std::string outbox = "weft-outbox.db", in_flight_s = "12", remote_url;
  bool hold = false, remote = false, calls_complete = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return finish_stdout(kName);
    }
    if (a == "--hold") {
      hold = true;
      continue;
    }
    if (a == "--calls-complete") {
      calls_complete = true;
      continue;
    }
    if (a == "--remote" || a.rfind("--remote=", 0) == 0) {  // the URL is optional
      remote = true;
      if (a.size() > 9) remote_url = std::string(a.substr(9));
      else if (i + 1 < argc && std::string_view(argv[i + 1]).rfind("--", 0) != 0) remote_url = argv[++i];
      continue;
    }
    int r = 0;
    for (auto [flag, into] : {std::pair{"store", &store}, std::pair{"threads", &threads_s},
                              std::pair{"ops", &ops_s}, std::pair{"project", &project},
                              std::pair{"metrics-listen", &listen}, std::pair{"outbox", &outbox},
                              std::pair{"in-flight", &in_flight_s}}) {
      if ((r = flag_value(i, argc, argv, flag, *into)) != 0) break;
    }
    if (r < 0) return fail(kName, std::string(a) + " needs a value (see 'weft demo --help')");
    if (r == 0) return fail(kName, "unknown argument '" + std::string(a) + "' (see 'weft demo --help')");
  }
  long long threads = 0, ops = 0;
  if (!parse_int(threads_s, 1, 64, threads))
    return fail(kName, "--threads must be an integer from 1 to 64 (got '" + threads_s + "')");
  if (!parse_int(ops_s, 1, 10'000'000, ops))
    return fail(kName, "--ops must be an integer from 1 to 10000000 (got '" + ops_s + "')");
  long long in_flight = 0;
  if (!parse_int(in_flight_s, 1, 256, in_flight))
    return fail(kName, "--in-flight must be an integer from 1 to 256 (got '" + in_flight_s + "')");
  if (calls_complete && !remote) return fail(kName, "--calls-complete needs --remote (see 'weft demo --help')");
  if (hold && listen.empty()) return fail(kName, "--hold needs --metrics-listen (see 'weft demo --help')");
  const sigset_t signals = hold_signals();
  if (hold) pthread_sigmask(SIG_BLOCK, &signals, nullptr);  // before any thread starts

  Config cfg;
  cfg.project = project;
  cfg.store_path = store;
  cfg.scheduler_threads = static_cast<unsigned>(threads);
  cfg.metrics_listen = listen;
  std::string destination = store;
  if (remote) {
    RemoteOptions ro;
    ro.url = remote_url;
    ro.outbox_path = outbox;
    ro.max_in_flight = static_cast<unsigned>(in_flight);
    if (calls_complete) ro.calls_route = CallsRoute::kComplete;
    auto rs = open_remote_store(project, ro);
    if (!rs) return fail(kName, rs.error());
    destination = (*rs)->describe() + " (outbox " + outbox + ")";
    cfg.store = std::shared_ptr<Store>(std::move(*rs));
    cfg.dead_letter_path = "weft-remote.dead-letter.jsonl";
  }
  auto opened = Runtime::open(cfg);
  if (!opened) return fail(kName, opened.error());
  Runtime& rt = **opened;
  if (!listen.empty()) {
    // The real port (with port 0), so a script or test can find it: one line, flushed.
    std::string host = listen.substr(0, listen.rfind(':'));
    std::printf("weft demo: serving metrics on http://%s:%d/metrics\n", host.c_str(), rt.metrics_port());
    std::fflush(stdout);
  }

  std::printf("weft demo: evaluating %lld examples into %s (project %s, %lld scheduler threads)\n",
              ops, destination.c_str(), project.c_str(), threads);
  auto t0 = std::chrono::steady_clock::now();
  EvalWorkloadResult r = run_eval_workload(rt, EvalWorkloadOptions{static_cast<size_t>(ops), 42});
  auto t1 = std::chrono::steady_clock::now();
  FlushResult flushed = rt.flush(std::chrono::minutes(10));
  auto t2 = std::chrono::steady_clock::now();
  RuntimeStats s = rt.stats();
  MetricsSnapshot metrics = rt.metrics();

  auto secs = [](auto d) { return std::chrono::duration<double>(d).count(); };
  std::vector<int64_t> ns = r.call_ns;
  std::sort(ns.begin(), ns.end());
  auto pct = [&](double p) { return ns.empty() ? 0.0 : static_cast<double>(ns[static_cast<size_t>(p * (ns.size() - 1))]); };
  double mean = 0;
  for (auto v : ns) mean += static_cast<double>(v);
  mean = ns.empty() ? 0 : mean / static_cast<double>(ns.size());

  std::printf(remote ? "\ndelivered (store requests the server acknowledged):\n"
                     : "\nrecorded (store requests written):\n");
  std::printf("  calls        %llu started, %llu ended\n", (unsigned long long)s.call_start, (unsigned long long)s.call_end);
  std::printf("  objects      %llu obj_create (objects and ops)\n", (unsigned long long)s.obj_create);
  std::printf("  tables       %llu table_create\n", (unsigned long long)s.table_create);
  std::printf("  files        %llu file_create\n", (unsigned long long)s.file_create);
  std::printf("  store        %llu batches, %llu failures\n", (unsigned long long)s.store_batches,
              (unsigned long long)s.store_failures);
  if (metrics.remote.enabled) print_remote(metrics.remote, s);
  std::printf("\ntime:\n");
  std::printf("  wall         %.3f s (workload returned after %.3f s, flush took %.3f s)\n", secs(t2 - t0),
              secs(t1 - t0), secs(t2 - t1));
  std::printf("  calling thread per call (start + finish, %zu calls): p50 %s, p99 %s, max %s, mean %s\n",
              ns.size(), format_ns(pct(0.5)).c_str(), format_ns(pct(0.99)).c_str(),
              format_ns(ns.empty() ? 0 : static_cast<double>(ns.back())).c_str(), format_ns(mean).c_str());

  std::printf("\nmetrics (docs/METRICS.md):\n%s", format_metrics_table(metrics).c_str());

  if (hold) {
    std::printf("\nweft demo: holding, metrics still served on port %d; Ctrl-C or SIGTERM to stop\n",
                rt.metrics_port());
    std::fflush(stdout);
    int sig = 0;
    sigwait(&signals, &sig);
    std::printf("weft demo: %s received, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
  }
  FlushResult clean = rt.shutdown(std::chrono::seconds(30));

  if (auto reader = remote ? Result<std::unique_ptr<StoreReader>>(Status::not_found("remote"))
                            : StoreReader::open(store);
      reader) {
    if (auto counts = (*reader)->counts(); counts) {
      std::printf("\nstore %s now holds:", store.c_str());
      for (const auto& [table, n] : *counts) std::printf(" %s=%lld", table.c_str(), (long long)n);
      std::printf("\n");
    }
  }
  if (!flushed || !clean) {
    RuntimeStats end = rt.stats();
    std::fprintf(stderr,
                 "weft demo: not everything was delivered: %llu store requests failed (%llu kept in %s for "
                 "'weft replay', %llu kept in the outbox for 'weft replay --outbox', %llu lost), %lld units "
                 "still pending at the deadline\n",
                 (unsigned long long)end.store_failures, (unsigned long long)end.dead_lettered,
                 rt.dead_letter_path().c_str(), (unsigned long long)end.kept_by_store,
                 (unsigned long long)end.lost, (long long)(flushed.pending + clean.pending));
    return kExitFailure;
  }
  if (!remote)
    std::printf("\nlook inside: weft calls --store %s | head    weft show REF --store %s\n", store.c_str(), store.c_str());
  return finish_stdout(kName);
}

}  // namespace weft::cli
