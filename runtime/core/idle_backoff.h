// IdleBackoff: how the dispatcher and the store writer wait for work when they have none.
//
// They poll their lock-free queues and, when a poll comes back empty, yield a few times and
// then sleep in growing steps up to a cap. Nobody ever has to wake them, so handing over
// work costs the producer (an application thread, an actor) one lock-free enqueue and never
// a futex syscall: measured, the semaphore wake-ups of a blocking queue were the largest
// single cost in the runtime's profile. The price is up to `cap` of extra latency after an
// idle spell, and a few hundred wake-ups a second while idle.
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace weft {

class IdleBackoff {
 public:
  explicit IdleBackoff(std::chrono::microseconds cap) : cap_(cap) {}

  void reset() { idle_polls_ = 0; }

  // Called after a poll found nothing.
  void wait() {
    if (idle_polls_ < kYields) {
      ++idle_polls_;
      std::this_thread::yield();
      return;
    }
    auto step = std::chrono::microseconds(10 << std::min(idle_polls_++ - kYields, 10));
    std::this_thread::sleep_for(std::min(step, cap_));
  }

 private:
  static constexpr int kYields = 32;
  std::chrono::microseconds cap_;
  int idle_polls_ = 0;
};

}  // namespace weft
