// Where a process's CPU goes, per kind of thread: a snapshot of every live thread's CPU
// (by name) plus getrusage(RUSAGE_SELF), taken before and after a measured run. Shared by
// weft-bench (bench/scenario/) and weft-call-cpu-bench (bench/call_cpu/). Linux only.
//
// Per thread: the name from /proc/self/task/TID/comm and the CPU from the thread's
// CPU-time clock (the clock id glibc's pthread_getcpuclockid builds from a TID; ns
// resolution, the same sum_exec_runtime getrusage adds up), falling back to utime + stime
// of /proc/self/task/TID/stat (fields 14 and 15, clock ticks) if that clock cannot be read.
// A thread that exits during the run takes its CPU out of /proc/self/task with it, so the
// process total comes from getrusage and the part no live thread accounts for is reported
// as `exited`.
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace weft_bench_common {

// The kinds a thread's name maps to (kind_of_thread):
//   app        the process's main thread (tid == pid), and threads named "app" / "app.*"
//   scheduler  weft.sched (weft's coordinator), caf.multiplexer (CAF 0.17's own workers), pool.worker
//   dispatch   weft.dispatch
//   store      weft.store, pool.store (the reference models' store thread)
//   clock      caf.clock, weft.deadline (weft's deadline watch thread)
//   other      every other live thread (weft.http, weft.metrics, pool.watchdog, unnamed)
enum ThreadKind : int { kApp = 0, kScheduler, kDispatch, kStore, kClock, kOther, kKinds };
const char* kind_name(int kind);
int kind_of_thread(pid_t tid, const std::string& comm);

struct ThreadCpu {
  pid_t tid = 0;
  std::string comm;
  int64_t cpu_ns = 0;
};

struct CpuSnapshot {
  std::vector<ThreadCpu> threads;  // live threads at the time of the snapshot
  int64_t process_ns = 0;          // getrusage(RUSAGE_SELF): utime + stime, all threads ever
  int64_t csw = 0;                 // ru_nvcsw + ru_nivcsw (all threads, on Linux)
  int64_t vcsw = 0;                // ru_nvcsw alone (voluntary: blocking, sleeping)
  bool ticks_fallback = false;     // some thread's CPU came from /proc stat ticks
};
CpuSnapshot take_cpu_snapshot();

// What happened between two snapshots.
struct CpuDelta {
  int64_t process_ns = 0;
  std::array<int64_t, kKinds> kind_ns{};  // live threads at `after`, minus their `before`
  int64_t exited_ns = 0;                  // process_ns - sum(kind_ns): threads that exited
  int64_t csw = 0;
  int64_t vcsw = 0;
  bool ticks_fallback = false;
};
CpuDelta cpu_delta(const CpuSnapshot& before, const CpuSnapshot& after);

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), ns.
int64_t this_thread_cpu_ns();

}  // namespace weft_bench_common
