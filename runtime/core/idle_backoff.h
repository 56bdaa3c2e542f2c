// IdleBackoff: how the dispatcher and the store writer wait for work when they have none.
//
// They poll their lock-free queues and, when a poll comes back empty, yield a few times and
// then sleep in steps that double from 10 µs up to `longest` (100 ms for the dispatcher,
// 1 s for the store writer). Nobody has to wake them, so handing over work costs the
// producer (an application thread, an actor) one lock-free enqueue and never a futex
// syscall: measured, the semaphore wake-ups of a blocking queue were the largest single
// cost in the runtime's profile. The price is latency after an idle spell: work that
// arrives during a sleep waits for its end, at most about as long as the spell had lasted
// (the steps double), and never more than `longest`.
//
// Every sleep is on an IdleWaker, so weft's own threads can end it early: flush, pause and
// resume, stop, and the dispatcher, which pokes the store writer when it finds work after a
// sleep of 1 ms or more (the writer's queue is fed by what the dispatcher starts, so the
// writer's longer sleeps end when work is coming its way). Application threads and actors
// never poke. One idle wake-up costs 20-50 µs of CPU on the 2-vCPU VM, so an idle runtime
// wakes about 11 times a second and spends well under 1 ms of CPU per second
// (docs/BENCH.md, idle).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "runtime/platform/futex.h"

namespace weft {

// The poke of a sleeping thread, on one futex word and no lock: wake() costs a syscall only
// while the other thread sleeps (a flag says so), and a poke made before the sleep is kept,
// so the sleep that follows returns at once.
class IdleWaker {
 public:
  void wake() {
    // Dekker with park_for(): either it sees the poke before sleeping, or this sees it
    // sleeping (and the kernel re-checks the word, so a wake between the two is not lost).
    if (poked_.exchange(1, std::memory_order_seq_cst) == 0 && sleeping_.load(std::memory_order_seq_cst) != 0)
      futex_wake(poked_, 1);
  }
  // Sleeps up to `d` or until poked; true if it was poked.
  bool park_for(std::chrono::microseconds d) {
    sleeping_.store(1, std::memory_order_seq_cst);
    if (poked_.load(std::memory_order_seq_cst) == 0) futex_wait(poked_, 0, d);
    sleeping_.store(0, std::memory_order_relaxed);
    return poked_.exchange(0, std::memory_order_acq_rel) != 0;
  }

 private:
  std::atomic<uint32_t> poked_{0};
  std::atomic<uint32_t> sleeping_{0};
};

class IdleBackoff {
 public:
  // sched_yield()s before the first sleep of a spell. Few: with 1 scheduler thread on the
  // 2-vCPU VM, 32 yields per spell cost the store writer 9-12 µs per saved object (4: 5.6).
  static constexpr int kYields = 4;

  // waker: ends a sleep when poked (nullptr: plain sleeps). longest: the longest sleep.
  // first: the first sleep after the yields (tests make it long).
  explicit IdleBackoff(IdleWaker* waker, std::chrono::microseconds longest,
                       std::chrono::microseconds first = std::chrono::microseconds(10))
      : waker_(waker), longest_(longest), first_(first) {}

  // Work was found: the next idle spell starts with its yields again.
  void reset() {
    idle_polls_ = 0;
    last_sleep_ = std::chrono::microseconds(0);
  }
  // The last sleep of this spell (0 while it is still yielding).
  std::chrono::microseconds last_sleep() const { return last_sleep_; }

  // Called after a poll found nothing. `limit` caps this sleep (a retry falls due, an
  // answer is awaited) without resetting the spell.
  void wait(std::chrono::microseconds limit = std::chrono::microseconds::max()) {
    if (idle_polls_ < kYields) {
      ++idle_polls_;
      std::this_thread::yield();
      return;
    }
    int doublings = std::min(idle_polls_++ - kYields, 40);
    auto step = first_;
    for (int i = 0; i < doublings && step < longest_; ++i) step *= 2;
    step = std::max(std::chrono::microseconds(1), std::min({step, longest_, limit}));
    last_sleep_ = step;
    if (waker_ == nullptr) {
      // An idle wait that nothing can end early: weft's own threads all pass a waker; the
      // tests use this form.
      std::this_thread::sleep_for(step);
    } else if (waker_->park_for(step)) {
      idle_polls_ = kYields;  // poked: work is likely coming, so sleep briefly again
    }
  }

 private:
  IdleWaker* waker_;
  std::chrono::microseconds longest_;
  std::chrono::microseconds first_;
  int idle_polls_ = 0;
  std::chrono::microseconds last_sleep_{0};
};

}  // namespace weft
