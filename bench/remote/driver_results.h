// What one run of one case (weft remote, weft SQLite, the TS SDK) measured, as
// weft-remote-bench reports it (bench/remote/driver_report.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace weft_remote_bench {

// The sink's counters after a run (GET /__stats), and its own CPU.
struct RouteCount {
  std::string route;
  uint64_t requests = 0;
  uint64_t ok = 0;  // 2xx
  uint64_t bytes = 0;
};

struct SinkCounts {
  bool valid = false;
  uint64_t requests = 0;
  uint64_t bytes = 0;
  uint64_t call_starts = 0;
  uint64_t call_ends = 0;
  uint64_t calls_completed = 0;
  uint64_t objects = 0;
  uint64_t objects_hashed = 0;
  uint64_t tables = 0;
  uint64_t rows = 0;
  uint64_t files = 0;
  uint64_t not_ok = 0;  // requests answered other than 2xx
  double cpu_s = 0;     // the sink process's CPU (user + system) over its life
  std::vector<RouteCount> routes;

  uint64_t calls() const { return call_ends + calls_completed; }
};

struct CaseResult {
  std::string name;  // "weft remote", "weft sqlite", "ts await", "ts x16"
  bool ok = false;
  std::string error;  // why not ok
  std::string note;   // e.g. "outbox on"
  double wall_s = 0;   // first request of the workload -> everything acknowledged / written
  double calls_s = 0;  // of that, the application's loop of N calls
  double drain_s = 0;  // of that, after the loop until acknowledged (flush / waitForBatchProcessing)
  double cpu_s = 0;    // the client process's CPU (user + system) over wall_s
  // The calling thread's time per call: weft, start_call + finish (values built outside);
  // TS, the time `await predict(...)` took (with C in flight: the loop's time / N).
  double app_ns_per_call = 0;
  double app_p50_ns = 0;  // weft only (0: not measured)
  double app_p99_ns = 0;
  // The calling thread during the loop (weft only; RUSAGE_THREAD): what the time per call
  // includes besides weft's own code.
  uint64_t app_involuntary_switches = 0;  // preempted (the machine's other threads ran)
  uint64_t app_minor_faults = 0;          // first touches of fresh memory
  // Delivered: counted by the sink for the remote cases, by RuntimeStats for SQLite.
  uint64_t calls = 0;
  uint64_t objects = 0;
  SinkCounts server;  // remote cases

  double calls_per_s() const { return wall_s > 0 ? static_cast<double>(calls) / wall_s : 0; }
  double objects_per_s() const { return wall_s > 0 ? static_cast<double>(objects) / wall_s : 0; }
};

}  // namespace weft_remote_bench
