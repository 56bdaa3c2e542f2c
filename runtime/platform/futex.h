// Parking an idle thread on a 32-bit atomic word, with no mutex on either side: Linux's
// futex(2) directly, so that a thread that parks never shares a lock with the thread that
// wakes it (pthread condition variables take one on both sides). Elsewhere, a poll of the
// word in 1 ms sleeps (C++20's atomic wait has no timeout).
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#endif

namespace weft {

static_assert(sizeof(std::atomic<uint32_t>) == sizeof(uint32_t), "a futex word is 32 bits");

// Sleeps while `word` holds `expected`, at most `timeout`; returns at once if it does not.
// May return spuriously: the caller re-checks its condition.
inline void futex_wait(std::atomic<uint32_t>& word, uint32_t expected, std::chrono::microseconds timeout) {
#if defined(__linux__)
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000);
  ts.tv_nsec = static_cast<long>((timeout.count() % 1'000'000) * 1000);
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAIT_PRIVATE, expected, &ts, nullptr, 0);
#else
  // No timed atomic wait in C++20: poll the word in short sleeps until it changes or the
  // timeout passes (callers re-check their condition, and the idle sleeps rely on the
  // timeout to poll their queues).
  const auto until = std::chrono::steady_clock::now() + timeout;
  while (word.load(std::memory_order_acquire) == expected && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(
        std::chrono::milliseconds(1), until - std::chrono::steady_clock::now()));
#endif
}

// Wakes up to `n` threads sleeping on `word`.
inline void futex_wake(std::atomic<uint32_t>& word, int n) {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<uint32_t*>(&word), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
#else
  if (n == 1) {
    word.notify_one();
  } else {
    word.notify_all();
  }
#endif
}

}  // namespace weft
