#include "bench/scenario/metrics.h"

#include <malloc.h>
#include <sched.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <thread>

namespace weft_bench {

int64_t timer_overhead_ns() {
  std::vector<int64_t> d;
  d.reserve(4001);
  for (int i = 0; i < 4001; ++i) {
    auto a = Clock::now();
    auto b = Clock::now();
    d.push_back(ns_between(a, b));
  }
  std::sort(d.begin(), d.end());
  return d[d.size() / 2];
}

double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto sec = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6; };
  return sec(ru.ru_utime) + sec(ru.ru_stime);
}

double thread_cpu_s() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long read_status_kb(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key(field);
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtol(line.c_str() + key.size(), nullptr, 10);
  }
  return 0;
}

void RssWatermark::reset() {
  // Give back what earlier runs freed, so this run's baseline (and its delta) is not
  // hidden by heap memory glibc kept and this run merely reuses.
  malloc_trim(0);
  {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    reset_ok_ = static_cast<bool>(out);
  }
  baseline_kb_ = read_status_kb("VmRSS:");
  // A reset that did not take shows as a high-water mark above the current RSS.
  if (reset_ok_ && read_status_kb("VmHWM:") > baseline_kb_ + 1024) reset_ok_ = false;
}

double RssWatermark::peak_mb() const { return static_cast<double>(read_status_kb("VmHWM:")) / 1024.0; }

int64_t percentile(const std::vector<int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  double rank = std::ceil(p / 100.0 * static_cast<double>(sorted.size()));
  size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return sorted[std::min(i, sorted.size() - 1)];
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string machine_description() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, model = "unknown CPU";
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      auto c = line.find(':');
      if (c != std::string::npos) model = line.substr(c + 2);
      break;
    }
  }
  cpu_set_t set;
  CPU_ZERO(&set);
  int n = sched_getaffinity(0, sizeof(set), &set) == 0 ? CPU_COUNT(&set)
                                                       : static_cast<int>(std::thread::hardware_concurrency());
  return model + ", nproc " + std::to_string(n);
}

}  // namespace weft_bench

namespace weft_bench {

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

}  // namespace weft_bench
