// What one design run measured, and the entry points of the four designs.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "bench/scenario/options.h"

namespace weft_bench {

// How a drain ended.
struct DrainResult {
  std::string status = "ok";  // ok | DEADLOCK | TIMEOUT
  std::string detail;
};

// One design over the main workload (S steps x N ops) on one store.
struct RunResult {
  std::string design;
  std::string store;
  std::string status = "ok";  // ok | DEADLOCK | TIMEOUT | ERROR
  std::string detail;
  std::vector<int64_t> op_ns;  // calling-thread start + finish per op, sorted
  std::vector<double> step_ms; // wall time of each step's tracing calls
  size_t steps_run = 0;
  double drain_ms = 0;         // after the last step, until everything is in the store
  double end_to_end_s = 0;     // first call started -> drained
  double cpu_s = 0;            // process CPU during the run, minus building the values
  double value_build_cpu_s = 0;
  double rss_baseline_mb = 0;
  double rss_peak_mb = 0;      // VmHWM during the run (see RssWatermark)
  bool rss_reset_ok = false;
  uint64_t objects = 0;        // obj_create requests written
  uint64_t calls = 0;          // call_end requests written
  uint64_t requests = 0;       // all requests written
  double objects_per_s = 0;    // objects / end_to_end_s (0 unless ok)
  uint64_t blocking_waits = 0; // pool workers that parked on a digest (models only)
  size_t json_bytes_per_op = 0;  // the output's canonical JSON, inline
  size_t objects_per_op = 0;
  // Where cpu_s went, per thread kind (bench/common/thread_cpu.h: app, scheduler,
  // dispatch, store, clock, other), over the same window; app excludes building the
  // values. exited_cpu_s: CPU of threads that exited during the run (getrusage minus the
  // live threads). The kinds and exited add up to cpu_s.
  std::array<double, 6> kind_cpu_s{};  // indexed by weft_bench_common::ThreadKind
  double exited_cpu_s = 0;
  int64_t context_switches = 0;            // ru_nvcsw + ru_nivcsw over the run, all threads
  int64_t voluntary_context_switches = 0;  // ru_nvcsw alone
};

// One design under the paused-store scenario (weave PR 6740's "paused client").
struct ScenarioResult {
  std::string design;
  std::string status = "ok";  // ok | DEADLOCK | TIMEOUT | ERROR
  std::string detail;
  unsigned threads = 0;         // pool workers, or weft scheduler threads
  size_t calls = 0;             // calls the application made
  double app_ms = 0;            // the application's whole evaluation, store paused
  uint64_t written_while_paused = 0;
  double after_resume_ms = 0;   // resume -> drained (or -> deadlock declared)
  uint64_t objects = 0;
  uint64_t call_ends = 0;
};

// Entry points, one per design file. `design` names: weft, pool-sync-walk,
// pool-naive-defer, pool-then-gated.
RunResult run_main(const std::string& design, const std::string& store, const Options& o);
ScenarioResult run_paused(const std::string& design, const Options& o);

RunResult run_main_weft(const std::string& store, const Options& o);
ScenarioResult run_paused_weft(const Options& o);
RunResult run_main_weft_caf_sharing(const std::string& store, const Options& o);
ScenarioResult run_paused_weft_caf_sharing(const Options& o);
RunResult run_main_pool_sync_walk(const std::string& store, const Options& o);
ScenarioResult run_paused_pool_sync_walk(const Options& o);
RunResult run_main_pool_naive_defer(const std::string& store, const Options& o);
ScenarioResult run_paused_pool_naive_defer(const Options& o);
RunResult run_main_pool_then_gated(const std::string& store, const Options& o);
ScenarioResult run_paused_pool_then_gated(const Options& o);

}  // namespace weft_bench
