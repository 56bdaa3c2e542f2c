// weft-remote-bench (issue 10, item 11): weft's remote store and the official Weave
// TypeScript SDK deliver the same workload to the same loopback sink, side by side, in one
// run. Not a test and not run by CI; docs/BENCH.md has the command and the figures.
//
// Cases, each against a fresh weft-bench-sink process (bench/remote/sink_server.cc, so the
// sink's counters are the case's own and its CPU is not the client's):
//   weft remote   weft::open_remote_store to the sink (outbox on, the product default, in
//                 a scratch directory; --outbox off|both for the other)
//   weft sqlite   the same workload into a SQLite file (no sink): the calling-thread
//                 baseline the remote store is held to (goal: within 10%)
//   ts await      bench/remote/ts_bench.mjs on the Weave TS SDK, each call awaited
//   ts xC         the same with C calls in flight (--ts-concurrency)
// Figures per case: wall time until the server acknowledged everything (weft: flush
// returns; TS: waitForBatchProcessing returns), calls/s and objects/s as the sink counted
// them, the client's CPU, the calling thread's time per call, and requests per route.
//
// The workload is bench/remote/driver_workload.h's. Every connection is to 127.0.0.1: the
// sink binds loopback only, proxies are dropped from the environment, and the TS program
// refuses any other host.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <weft/config.h>
#include <weft/remote.h>
#include <weft/store.h>

#include "bench/remote/driver_options.h"
#include "bench/remote/driver_process.h"
#include "bench/remote/driver_report.h"
#include "bench/remote/driver_ts.h"
#include "bench/remote/driver_workload.h"

namespace weft_remote_bench {

namespace {

constexpr const char* kApiKey = "weft-bench-key-0123456789";
constexpr const char* kProject = "weft-bench/remote";

class Bench {
 public:
  Bench(const Options& o, std::string scratch) : o_(o), scratch_(std::move(scratch)) {}

  CaseResult weft_remote(const Workload& w, bool outbox) {
    const std::string name = outbox || o_.outbox == "off" ? "weft remote" : "weft remote, no outbox";
    CaseResult r;
    r.name = name;
    SinkProcess sink;
    if (!sink.start(o_.sink, kApiKey, scratch_, r.error)) return r;
    weft::RemoteOptions ro;
    ro.url = sink.url();
    ro.api_key = kApiKey;
    if (o_.max_in_flight > 0) ro.max_in_flight = o_.max_in_flight;
    // A fresh outbox per run: one left from an earlier run would be replayed into this one.
    const std::string outbox_path = scratch_ + "/outbox-" + std::to_string(++runs_) + ".db";
    ro.outbox_path = outbox ? outbox_path : std::string();
    auto store = weft::open_remote_store(kProject, ro);
    if (!store) {
      r.error = "open_remote_store: " + store.error();
      return r;
    }
    weft::Config cfg;
    cfg.project = kProject;
    cfg.store = std::shared_ptr<weft::Store>(std::move(*store));
    cfg.dead_letter_path = scratch_ + "/remote.dead-letter.jsonl";
    r = run_weft_workload(std::move(cfg), w, name);
    r.note = std::string(outbox ? "outbox on (scratch dir)" : "no outbox") + ", " +
             std::to_string(ro.max_in_flight) + " in flight";
    r.server = sink.stats();
    r.server.cpu_s = sink.stop();
    take_sink_counts(r);
    remove_db(outbox_path);
    return r;
  }

  CaseResult weft_sqlite(const Workload& w) {
    const std::string path = scratch_ + "/bench-" + std::to_string(++runs_) + ".db";
    weft::Config cfg;
    cfg.project = kProject;
    cfg.store_path = path;
    CaseResult r = run_weft_workload(std::move(cfg), w, "weft sqlite");
    r.note = "SQLite file (scratch dir)";
    remove_db(path);
    return r;
  }

  CaseResult ts(const Workload& w, size_t concurrency) {
    CaseResult r;
    SinkProcess sink;
    if (!sink.start(o_.sink, kApiKey, scratch_, r.error)) {
      r.name = "ts";
      return r;
    }
    r = run_ts_workload(o_, w, concurrency, sink.url(), kApiKey, scratch_);
    r.server = sink.stats();
    r.server.cpu_s = sink.stop();
    take_sink_counts(r);
    return r;
  }

 private:
  // Delivered means counted by the server; a run whose answers were not all 2xx failed.
  static void take_sink_counts(CaseResult& r) {
    if (!r.server.valid) {
      if (r.error.empty()) r.error = "could not read the sink's /__stats";
      r.ok = false;
      return;
    }
    r.calls = r.server.calls();
    r.objects = r.server.objects;
    if (r.server.not_ok > 0 && r.error.empty()) {
      r.error = std::to_string(r.server.not_ok) + " requests were not answered 2xx";
      r.ok = false;
    }
  }

  static void remove_db(const std::string& path) {
    for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix);
  }

  const Options& o_;
  std::string scratch_;
  int runs_ = 0;
};

void progress(size_t rep, size_t reps, const CaseResult& r) {
  std::fprintf(stderr, "weft-remote-bench: run %zu/%zu %-22s %s wall %.3f s, %.0f calls/s%s%s\n", rep, reps,
               r.name.c_str(), r.ok ? "ok" : "FAILED", r.wall_s, r.calls_per_s(), r.ok ? "" : ": ",
               r.ok ? "" : r.error.c_str());
}

int run(const Options& o) {
  drop_proxy_environment();  // libcurl honours *_proxy; every request here is to loopback
  if (access(o.sink.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "weft-remote-bench: the sink %s is missing (build the weft-bench-sink target, or --sink PATH)\n",
                 o.sink.c_str());
    return 2;
  }
  if (o.ts) {
    const std::string why = check_ts_setup(o);
    if (!why.empty()) {
      std::fprintf(stderr, "weft-remote-bench: %s\n", why.c_str());
      return 2;
    }
  }
  char tmpl[] = "/tmp/weft-remote-bench.XXXXXX";
  if (!mkdtemp(tmpl)) {
    std::perror("weft-remote-bench: mkdtemp");
    return 2;
  }
  const std::string scratch = tmpl;
  Bench bench(o, scratch);
  const Workload w{o.calls, o.objects_per_call, o.rows};
  const bool outbox_on = o.outbox != "off", outbox_off = o.outbox != "on";

  if (o.warmup) {
    // Discarded: the first runtime of a process pays page faults, CAF's and libcurl's
    // start-up; neither weft case should carry them for the other.
    const Workload small{std::min<size_t>(w.calls, 200), w.objects_per_call, std::min<size_t>(w.rows, 10)};
    if (o.sqlite) bench.weft_sqlite(small);
    if (o.remote) bench.weft_remote(small, outbox_on);
  }

  std::map<std::string, std::vector<CaseResult>> runs;
  std::vector<std::string> order;
  auto keep = [&](size_t rep, CaseResult r) {
    progress(rep, o.repeat, r);
    if (!runs.count(r.name)) order.push_back(r.name);
    runs[r.name].push_back(std::move(r));
  };
  for (size_t rep = 1; rep <= o.repeat; ++rep) {
    if (o.remote && outbox_on) keep(rep, bench.weft_remote(w, true));
    if (o.remote && outbox_off) keep(rep, bench.weft_remote(w, false));
    if (o.sqlite) keep(rep, bench.weft_sqlite(w));
    if (o.ts)
      for (size_t c : o.ts_concurrency) keep(rep, bench.ts(w, c));
  }

  std::vector<CaseResult> cases;
  for (const auto& name : order) cases.push_back(median_of(runs[name]));
  print_report(cases, w, o);
  const std::string json = report_json(cases, w, o);
  std::printf("%s\n", json.c_str());
  if (!o.json_path.empty()) std::ofstream(o.json_path) << json << "\n";
  if (o.keep) std::fprintf(stderr, "weft-remote-bench: kept %s\n", scratch.c_str());
  else std::filesystem::remove_all(scratch);
  for (const auto& c : cases)
    if (!c.ok) return 1;
  return 0;
}

}  // namespace

}  // namespace weft_remote_bench

int main(int argc, char** argv) { return weft_remote_bench::run(weft_remote_bench::parse_options(argc, argv)); }
