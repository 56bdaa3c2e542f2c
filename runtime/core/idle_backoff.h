// IdleBackoff: how the dispatcher and the store writer wait for work when they have none.
//
// They poll their lock-free queues and, when a poll comes back empty, yield a few times and
// then sleep in growing steps up to a cap. Nobody ever has to wake them, so handing over
// work costs the producer (an application thread, an actor) one lock-free enqueue and never
// a futex syscall: measured, the semaphore wake-ups of a blocking queue were the largest
// single cost in the runtime's profile. The price is up to `cap` of extra latency after an
// idle spell.
//
// After `deep_after` with nothing to do, the thread parks: it sleeps up to `deep_cap` at a
// time (tens of wake-ups a second instead of hundreds to thousands), unless an IdleWaker
// pokes it. Only weft's own threads and slow paths poke (flush, pause/resume, stop, and the
// dispatcher waking the store writer when a quiet spell ends): application threads and
// actors never do, so the first event after a quiet spell may wait up to `deep_cap` to be
// picked up, and a flush never waits for a parked thread. Measured on the 2-vCPU VM, one
// idle wake-up costs 35-40 µs of CPU, so an idle runtime spends under 1 ms per second
// (docs/BENCH.md, idle).
#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace weft {

// The poke of a parked thread. The mutex is taken only by a thread that parks (after
// `deep_after` of idleness) and by the slow paths that wake it: never on a hot path.
class IdleWaker {
 public:
  void wake() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      poked_ = true;
    }
    cv_.notify_one();
  }
  // Sleeps up to `d` or until woken; true if it was woken.
  bool park_for(std::chrono::microseconds d) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, d, [this] { return poked_; });
    bool woken = poked_;
    poked_ = false;
    return woken;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool poked_ = false;
};

class IdleBackoff {
 public:
  explicit IdleBackoff(std::chrono::microseconds cap, IdleWaker* waker = nullptr,
                       std::chrono::microseconds deep_cap = std::chrono::milliseconds(100),
                       std::chrono::microseconds deep_after = std::chrono::milliseconds(250))
      : cap_(cap), deep_cap_(deep_cap), deep_after_(deep_after), waker_(waker) {}

  void reset() {
    idle_polls_ = 0;
    parked_ = false;
  }
  // Whether the last wait() parked: the first work after it ends a quiet spell.
  bool parked() const { return parked_; }

  // Called after a poll found nothing.
  void wait() {
    if (idle_polls_ < kYields) {
      ++idle_polls_;
      std::this_thread::yield();
      return;
    }
    auto now = std::chrono::steady_clock::now();
    if (idle_polls_ == kYields) idle_since_ = now;  // the first sleep of this idle spell
    if (waker_ != nullptr && now - idle_since_ >= deep_after_) {
      parked_ = true;
      if (waker_->park_for(deep_cap_)) idle_polls_ = 0;  // poked: work is likely coming
      return;
    }
    auto step = std::chrono::microseconds(10 << std::min(idle_polls_++ - kYields, 10));
    std::this_thread::sleep_for(std::min(step, cap_));
  }

 private:
  static constexpr int kYields = 32;
  std::chrono::microseconds cap_;
  std::chrono::microseconds deep_cap_;
  std::chrono::microseconds deep_after_;
  IdleWaker* waker_;
  int idle_polls_ = 0;
  bool parked_ = false;
  std::chrono::steady_clock::time_point idle_since_{};
};

}  // namespace weft
