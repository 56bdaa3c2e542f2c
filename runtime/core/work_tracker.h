// WorkTracker: knows when every event accepted before a flush has reached the store.
//
// Two epochs, RCU style. Each accepted event takes a WorkToken of the current epoch (one
// atomic increment of that epoch's counter); all work derived from it (actors, store
// requests) holds tokens of the same epoch; a token is released (decrement) when its work
// is done. flush() closes the current epoch by flipping it, then waits for the closed
// epoch's counter to reach zero: work accepted later counts in the other epoch and cannot
// delay it. Flushes are serialised among themselves; workers never wait for anything.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace weft {

class WorkTracker;

// Move-only. Destroying a non-empty token marks its unit of work done.
class WorkToken {
 public:
  WorkToken() = default;
  WorkToken(WorkToken&& o) noexcept : t_(o.t_), epoch_(o.epoch_) { o.t_ = nullptr; }
  WorkToken& operator=(WorkToken&& o) noexcept;
  WorkToken(const WorkToken&) = delete;
  WorkToken& operator=(const WorkToken&) = delete;
  ~WorkToken() { reset(); }

  // Another unit of work in the same epoch (derived work).
  WorkToken derive() const;
  void reset();
  explicit operator bool() const { return t_ != nullptr; }
  uint8_t epoch() const { return epoch_; }

 private:
  friend class WorkTracker;
  WorkToken(WorkTracker* t, uint8_t e) : t_(t), epoch_(e) {}
  WorkTracker* t_ = nullptr;
  uint8_t epoch_ = 0;
};

class WorkTracker {
 public:
  // limit: at most this many units outstanding; acquire() refuses beyond it.
  explicit WorkTracker(int64_t limit) : limit_(limit) {}

  // A token for a newly accepted event, or an empty token if `limit` units are already
  // outstanding (backpressure: the caller refuses the event). Lock-free, O(1).
  WorkToken acquire();
  // Like acquire() but never refuses (derived work, internal bookkeeping).
  WorkToken acquire_unbounded();
  // Another token of `epoch`.
  WorkToken acquire_in(uint8_t epoch);

  // Application threads only: returns true once every unit acquired before the call has
  // been released, false at the deadline. Waits by polling with a capped back-off.
  bool flush(std::chrono::steady_clock::time_point deadline);

  // Outstanding units, both epochs (metrics).
  int64_t outstanding() const;

 private:
  friend class WorkToken;
  void release(uint8_t epoch) { pending_[epoch].value.fetch_sub(1, std::memory_order_acq_rel); }
  bool wait_zero(uint8_t epoch, std::chrono::steady_clock::time_point deadline) const;

  struct alignas(64) Counter {
    std::atomic<int64_t> value{0};
  };
  std::atomic<uint8_t> epoch_{0};
  Counter pending_[2];
  const int64_t limit_;
  std::timed_mutex flush_mu_;  // serialises flush() callers; never taken by a worker
};

}  // namespace weft
