// No scheduler thread ever waits on a lock another thread holds, or on a condition
// variable (issue 11): this binary interposes pthread_mutex_lock and the pthread condition
// waits (its own definitions come before libc's in symbol lookup), and counts, on the
// scheduler's threads (found by name: weft's "weft.sched", CAF's "caf.multiplexer"), every
// lock that was already held (a trylock failed first) and every condition wait. A traced
// workload, with nested Objects, on the SQLite store, must leave both at zero on weft's
// scheduler; CAF's own sharing scheduler, run the same way, must not (its workers wait on
// a condition variable when idle), which shows the interposition is live.
//
// Not under TSan, which interposes the same functions for its own bookkeeping (the binary
// is built without the interposers there and the tests skip). glibc's malloc locks its
// arenas with internal locks this cannot see.
#include <gtest/gtest.h>

#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <sys/prctl.h>

#include <atomic>
#include <cstdio>
#include <cstdio>
#include <cstring>

#include <weft/runtime.h>

#include "tests/support/test_support.h"

#if defined(__SANITIZE_THREAD__)
#define WEFT_LOCK_WATCH 0
#else
#define WEFT_LOCK_WATCH 1
#endif

namespace {

std::atomic<bool> g_watching{false};
std::atomic<uint64_t> g_scheduler_locks{0};      // every pthread_mutex_lock on a scheduler thread
std::atomic<uint64_t> g_scheduler_contended{0};  // ...that found the mutex held
std::atomic<uint64_t> g_scheduler_cond_waits{0};

// 1 = a scheduler thread, 0 = not (yet: a thread is named after it starts, so only a
// positive answer is kept).
thread_local bool t_scheduler = false;

bool on_scheduler_thread() {
  if (t_scheduler) return true;
  char name[16] = {};
  prctl(PR_GET_NAME, name, 0, 0, 0);
  t_scheduler = std::strcmp(name, "weft.sched") == 0 || std::strcmp(name, "caf.multiplexer") == 0;
  return t_scheduler;
}

bool watched() { return g_watching.load(std::memory_order_relaxed) && on_scheduler_thread(); }

}  // namespace

#if WEFT_LOCK_WATCH
extern "C" {
using mutex_lock_fn = int (*)(pthread_mutex_t*);
using cond_wait_fn = int (*)(pthread_cond_t*, pthread_mutex_t*);
using cond_timedwait_fn = int (*)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*);
using cond_clockwait_fn = int (*)(pthread_cond_t*, pthread_mutex_t*, clockid_t, const struct timespec*);

// libc's functions (the versions libstdc++ binds to), resolved before main, when nothing
// is watched yet.
mutex_lock_fn g_mutex_lock = nullptr;
cond_wait_fn g_cond_wait = nullptr;
cond_timedwait_fn g_cond_timedwait = nullptr;
cond_clockwait_fn g_cond_clockwait = nullptr;

__attribute__((constructor)) static void resolve_libc() {
  g_mutex_lock = reinterpret_cast<mutex_lock_fn>(dlsym(RTLD_NEXT, "pthread_mutex_lock"));
  g_cond_wait = reinterpret_cast<cond_wait_fn>(dlvsym(RTLD_NEXT, "pthread_cond_wait", "GLIBC_2.3.2"));
  g_cond_timedwait = reinterpret_cast<cond_timedwait_fn>(dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2"));
  g_cond_clockwait = reinterpret_cast<cond_clockwait_fn>(dlsym(RTLD_NEXT, "pthread_cond_clockwait"));
}

int pthread_mutex_lock(pthread_mutex_t* m) {
  if (g_mutex_lock == nullptr) {  // before resolve_libc() (one thread): spin on trylock
    while (pthread_mutex_trylock(m) != 0) sched_yield();
    return 0;
  }
  if (watched()) {
    g_scheduler_locks.fetch_add(1, std::memory_order_relaxed);
    if (pthread_mutex_trylock(m) == 0) return 0;
    g_scheduler_contended.fetch_add(1, std::memory_order_relaxed);
  }
  return g_mutex_lock(m);
}

int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  if (watched()) g_scheduler_cond_waits.fetch_add(1, std::memory_order_relaxed);
  return g_cond_wait(c, m);
}
int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* t) {
  if (watched()) g_scheduler_cond_waits.fetch_add(1, std::memory_order_relaxed);
  return g_cond_timedwait(c, m, t);
}
int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock, const struct timespec* t) {
  if (watched()) g_scheduler_cond_waits.fetch_add(1, std::memory_order_relaxed);
  return g_cond_clockwait(c, m, clock, t);
}
}  // extern "C"
#endif

namespace weft {
namespace {

using testing::TempStore;
using testing::test_op;

struct Watched {
  uint64_t locks = 0, contended = 0, cond_waits = 0, calls = 0, objects = 0;
};

// A traced workload from two application threads (calls whose output holds two nested
// Objects), flushed, on `scheduler`; the runtime's whole life, shutdown included, watched.
Watched run_workload(Config::Scheduler scheduler) {
  TempStore store;
  g_scheduler_locks = 0;
  g_scheduler_contended = 0;
  g_scheduler_cond_waits = 0;
  g_watching = true;
  Watched w;
  {
    Config cfg = testing::test_config(store);
    cfg.scheduler = scheduler;
    cfg.scheduler_threads = 2;
    Runtime rt(cfg);
    auto trace = [&](int base) {
      for (int i = base; i < base + 400; ++i) {
        Call c = rt.start_call(test_op(), Value::dict({{"i", Value::integer(i)}}));
        Value usage = make_object("Usage", {{"tokens", Value::integer(i)}});
        Value choice = make_object("Choice", {{"text", Value::string("t" + std::to_string(i))}});
        EXPECT_TRUE(c.finish(make_object("Reply", {{"usage", usage}, {"choice", choice}})).is_ok());
      }
    };
    std::thread other([&] { trace(10'000); });
    trace(0);
    other.join();
    EXPECT_TRUE(rt.flush(std::chrono::seconds(120)).complete);
    RuntimeStats s = rt.stats();
    w.calls = s.call_end;
    w.objects = s.obj_create;
  }
  g_watching = false;
  w.locks = g_scheduler_locks.load();
  w.contended = g_scheduler_contended.load();
  w.cond_waits = g_scheduler_cond_waits.load();
  std::printf("scheduler threads: %llu mutex locks, %llu found held, %llu condition waits\n",
              static_cast<unsigned long long>(w.locks), static_cast<unsigned long long>(w.contended),
              static_cast<unsigned long long>(w.cond_waits));
  return w;
}

TEST(LockWatch, WeftsSchedulerThreadsNeverWaitOnALockOrACondition) {
  if (!WEFT_LOCK_WATCH) GTEST_SKIP() << "TSan interposes the same functions";
  const Watched w = run_workload(Config::Scheduler::weft);
  EXPECT_EQ(w.calls, 800u);
  EXPECT_EQ(w.objects, 3u * 800 + 1);  // Reply, Usage, Choice per call, and the op
  EXPECT_EQ(w.contended, 0u) << "of " << w.locks << " mutex locks on scheduler threads";
  EXPECT_EQ(w.cond_waits, 0u);
}

// The control: CAF's sharing scheduler waits on its condition variable, and the watch sees it.
TEST(LockWatch, CafsSharingSchedulerIsSeenWaiting) {
  if (!WEFT_LOCK_WATCH) GTEST_SKIP() << "TSan interposes the same functions";
  const Watched w = run_workload(Config::Scheduler::caf_sharing);
  EXPECT_EQ(w.calls, 800u);
  EXPECT_GT(w.locks, 0u);  // its queue's mutex, per job
  EXPECT_GT(w.cond_waits, 0u);
}

}  // namespace
}  // namespace weft
