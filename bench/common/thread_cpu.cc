#include "bench/common/thread_cpu.h"

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace weft_bench_common {

const char* kind_name(int kind) {
  static const char* names[kKinds] = {"app", "scheduler", "dispatch", "store", "clock", "other"};
  return kind >= 0 && kind < kKinds ? names[kind] : "?";
}

int kind_of_thread(pid_t tid, const std::string& comm) {
  if (tid == getpid() || comm == "app" || comm.rfind("app.", 0) == 0) return kApp;
  if (comm == "weft.sched" || comm == "caf.multiplexer" || comm == "pool.worker") return kScheduler;
  if (comm == "weft.dispatch") return kDispatch;
  if (comm == "weft.store" || comm == "pool.store") return kStore;
  if (comm == "caf.clock" || comm == "weft.deadline") return kClock;
  return kOther;
}

namespace {

// glibc's MAKE_THREAD_CPUCLOCK(tid, CPUCLOCK_SCHED): the CPU-time clock of any thread of
// this process, by TID.
clockid_t thread_clock(pid_t tid) { return static_cast<clockid_t>((~static_cast<unsigned>(tid) << 3) | 6u); }

bool read_stat_ticks(const std::string& dir, int64_t& ns) {
  std::ifstream in(dir + "/stat");
  std::string line;
  if (!std::getline(in, line)) return false;
  auto close = line.rfind(')');  // comm may hold spaces and parentheses
  if (close == std::string::npos) return false;
  std::istringstream rest(line.substr(close + 2));
  std::string tok;
  // After "(comm) ": field 3 (state) ... field 14 (utime), 15 (stime).
  long long utime = 0, stime = 0;
  for (int field = 3; field <= 15 && rest >> tok; ++field) {
    if (field == 14) utime = std::atoll(tok.c_str());
    if (field == 15) stime = std::atoll(tok.c_str());
  }
  static const long tck = sysconf(_SC_CLK_TCK);
  ns = (utime + stime) * (1'000'000'000LL / (tck > 0 ? tck : 100));
  return true;
}

}  // namespace

CpuSnapshot take_cpu_snapshot() {
  CpuSnapshot s;
  if (DIR* d = opendir("/proc/self/task")) {
    while (dirent* e = readdir(d)) {
      if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
      ThreadCpu t;
      t.tid = static_cast<pid_t>(std::atoi(e->d_name));
      const std::string dir = std::string("/proc/self/task/") + e->d_name;
      {
        std::ifstream comm(dir + "/comm");
        if (!std::getline(comm, t.comm)) continue;  // exited meanwhile
      }
      timespec ts{};
      if (clock_gettime(thread_clock(t.tid), &ts) == 0) {
        t.cpu_ns = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
      } else if (read_stat_ticks(dir, t.cpu_ns)) {
        s.ticks_fallback = true;
      } else {
        continue;  // exited meanwhile
      }
      s.threads.push_back(std::move(t));
    }
    closedir(d);
  }
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ns = [](const timeval& tv) { return static_cast<int64_t>(tv.tv_sec) * 1'000'000'000LL + tv.tv_usec * 1000LL; };
  s.process_ns = ns(ru.ru_utime) + ns(ru.ru_stime);
  s.csw = ru.ru_nvcsw + ru.ru_nivcsw;
  s.vcsw = ru.ru_nvcsw;
  return s;
}

CpuDelta cpu_delta(const CpuSnapshot& before, const CpuSnapshot& after) {
  CpuDelta d;
  std::map<pid_t, const ThreadCpu*> old;
  for (const auto& t : before.threads) old[t.tid] = &t;
  int64_t sum = 0;
  for (const auto& t : after.threads) {
    int64_t was = 0;
    if (auto it = old.find(t.tid); it != old.end()) was = it->second->cpu_ns;
    // A TID reused by a new thread within the run started from 0.
    int64_t delta = t.cpu_ns - was;
    if (delta < 0) delta = t.cpu_ns;
    d.kind_ns[kind_of_thread(t.tid, t.comm)] += delta;
    sum += delta;
  }
  d.process_ns = after.process_ns - before.process_ns;
  d.exited_ns = d.process_ns - sum;
  d.csw = after.csw - before.csw;
  d.vcsw = after.vcsw - before.vcsw;
  d.ticks_fallback = before.ticks_fallback || after.ticks_fallback;
  return d;
}

int64_t this_thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000LL + ts.tv_nsec;
}

}  // namespace weft_bench_common
