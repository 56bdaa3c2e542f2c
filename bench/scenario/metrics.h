// What the harness measures with: clocks, process CPU, the RSS high-water mark, and
// percentiles.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace weft_bench {

using Clock = std::chrono::steady_clock;

inline int64_t ns_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(b - a).count();
}

// Median cost of one steady_clock::now() read, included once in every per-op figure.
int64_t timer_overhead_ns();

// User + system CPU of the whole process, in seconds (getrusage(RUSAGE_SELF)).
double process_cpu_s();
// CPU of the calling thread (CLOCK_THREAD_CPUTIME_ID), in seconds.
double thread_cpu_s();

// The RSS high-water mark, per design run. Linux's ru_maxrss only grows, so each run
// resets VmHWM by writing "5" to /proc/self/clear_refs (allowed for one's own process
// on most kernels). If that is refused, the figure is the process-wide maximum so far.
class RssWatermark {
 public:
  // Returns free heap memory to the OS (malloc_trim), resets the high-water mark (if
  // allowed) and records the RSS now.
  void reset();
  double baseline_mb() const { return baseline_kb_ / 1024.0; }
  // VmHWM now, in MB.
  double peak_mb() const;
  bool reset_works() const { return reset_ok_; }

 private:
  long baseline_kb_ = 0;
  bool reset_ok_ = false;
};
long read_status_kb(const char* field);  // e.g. "VmRSS:", "VmHWM:"; 0 if missing

// Percentile (0..100) of a sorted vector, nearest rank.
int64_t percentile(const std::vector<int64_t>& sorted, double p);
double median(std::vector<double> v);

// The CPU model (from /proc/cpuinfo) and the CPUs this process may run on (as nproc).
std::string machine_description();
// The 1-, 5- and 15-minute load averages, as /proc/loadavg gives them.
std::string load_average();

}  // namespace weft_bench
