// WorkTracker: knows when every event accepted before a flush has reached the store, and
// keeps what is accepted under two hard limits (events outstanding, bytes held).
//
// Two epochs, RCU style. Each accepted event takes a WorkToken of the current epoch (one
// atomic increment of that epoch's counter); all work derived from it (actors, store
// requests) holds tokens of the same epoch; a token is released (decrement) when its work
// is done. flush() closes the current epoch by flipping it, then waits for the closed
// epoch's counter to reach zero: work accepted later counts in the other epoch and cannot
// delay it. Flushes are serialised among themselves; workers never wait for anything.
//
// The front door: an event's token also carries its *charge* (one event plus its estimated
// bytes) against a budget packed in one 64-bit word, so admitting an event is one more
// atomic add, and the limits are exact: an event that would pass either is refused and
// nothing of it is kept. The charge is returned when the event's own token is released
// (its store request written, or given up), not when derived work ends.
//
// Outcomes per epoch: the store writer records each request written or failed against its
// token's epoch, so a flush can say how the work it waited for ended.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace weft {

class WorkTracker;

// Move-only. Destroying a non-empty token marks its unit of work done (and returns its
// charge, if it carries one).
class WorkToken {
 public:
  WorkToken() = default;
  WorkToken(WorkToken&& o) noexcept : t_(o.t_), charge_(o.charge_), epoch_(o.epoch_) {
    o.t_ = nullptr;
    o.charge_ = 0;
  }
  WorkToken& operator=(WorkToken&& o) noexcept;
  WorkToken(const WorkToken&) = delete;
  WorkToken& operator=(const WorkToken&) = delete;
  ~WorkToken() { reset(); }

  // Another unit of work in the same epoch (derived work; carries no charge).
  WorkToken derive() const;
  void reset();
  explicit operator bool() const { return t_ != nullptr; }
  uint8_t epoch() const { return epoch_; }

 private:
  friend class WorkTracker;
  WorkToken(WorkTracker* t, uint8_t e, uint64_t charge) : t_(t), charge_(charge), epoch_(e) {}
  WorkTracker* t_ = nullptr;
  uint64_t charge_ = 0;  // packed as in WorkTracker::budget_
  uint8_t epoch_ = 0;
};

// Why acquire() refused.
enum class Refusal : uint8_t { kNone, kTooManyEvents, kTooManyBytes };

// How the work a flush waited for ended.
struct EpochOutcome {
  bool drained = false;  // every unit of the closed epoch(s) is done
  uint64_t written = 0;  // store requests written
  uint64_t failed = 0;   // store requests given up (dead-lettered or lost), values not saved
  int64_t pending = 0;   // units still outstanding in the closed epoch(s) at the deadline
};

class WorkTracker {
 public:
  static constexpr uint64_t kMaxEvents = (uint64_t{1} << 24) - 1;
  static constexpr uint64_t kMaxBytes = (uint64_t{1} << 40) - 1;

  // max_events: accepted events outstanding at once, at most (<= kMaxEvents).
  // max_bytes: their charged bytes, at most (<= kMaxBytes).
  WorkTracker(uint64_t max_events, uint64_t max_bytes) : max_events_(max_events), max_bytes_(max_bytes) {}

  // A token for a newly accepted event charged `bytes`, or an empty token (and why) if
  // taking it would pass a limit. Lock-free, O(1): two atomic adds (three when refused).
  WorkToken acquire(uint64_t bytes, Refusal* why = nullptr);
  // A token that is never refused and carries no charge (internal bookkeeping, call ends:
  // a call's end must never be lost for load once its start was accepted).
  WorkToken acquire_unbounded();
  // A token charged like acquire's but never refused (a call's end: it must not be lost
  // once its start was accepted). Its charge can take the budget past the limits, which
  // then refuses new events until it is returned.
  WorkToken acquire_forced(uint64_t bytes);

  // Store writer: one request of `epoch` was written / given up.
  void record_written(uint8_t epoch) { outcome_[epoch & 1].written.fetch_add(1, std::memory_order_relaxed); }
  void record_failed(uint8_t epoch) { outcome_[epoch & 1].failed.fetch_add(1, std::memory_order_relaxed); }

  // Application threads only: waits until every unit acquired before the call is done, or
  // the deadline. Polls with a capped back-off.
  EpochOutcome flush(std::chrono::steady_clock::time_point deadline);

  // Outstanding units, both epochs (metrics).
  int64_t outstanding() const;
  uint64_t events_held() const { return budget_.load(std::memory_order_relaxed) >> kBytesBits; }
  uint64_t bytes_held() const { return budget_.load(std::memory_order_relaxed) & kMaxBytes; }
  uint64_t max_events() const { return max_events_; }
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  friend class WorkToken;
  static constexpr int kBytesBits = 40;
  WorkToken acquire_in(uint8_t epoch);
  void release(uint8_t epoch, uint64_t charge) {
    pending_[epoch].value.fetch_sub(1, std::memory_order_acq_rel);
    if (charge != 0) budget_.fetch_sub(charge, std::memory_order_relaxed);
  }
  bool wait_zero(uint8_t epoch, std::chrono::steady_clock::time_point deadline) const;

  struct alignas(64) Counter {
    std::atomic<int64_t> value{0};
  };
  struct alignas(64) Outcome {
    std::atomic<uint64_t> written{0};
    std::atomic<uint64_t> failed{0};
  };
  std::atomic<uint8_t> epoch_{0};
  Counter pending_[2];
  Outcome outcome_[2];
  // Events held (high 24 bits) and their bytes (low 40 bits): one word, so one atomic add
  // checks both limits exactly.
  alignas(64) std::atomic<uint64_t> budget_{0};
  const uint64_t max_events_;
  const uint64_t max_bytes_;
  std::timed_mutex flush_mu_;  // serialises flush() callers; never taken by a worker
};

}  // namespace weft
