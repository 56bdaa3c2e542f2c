// WorkTracker: knows when every event accepted before a flush has reached the store, and
// keeps what is accepted under two hard limits (events outstanding, bytes held).
//
// Two epochs, RCU style. Each accepted event takes a WorkToken of the current epoch; all
// work derived from it (actors, store requests) holds tokens of the same epoch; a token is
// released when its work is done. flush() closes the current epoch by flipping it, then
// waits until every unit of the closed epoch is released: work accepted later counts in the
// other epoch and cannot delay it. Flushes are serialised among themselves; workers never
// wait for anything.
//
// The counts are per thread, so that no thread ever writes a cache line another thread
// writes (one shared counter was bounced between the application thread, the dispatcher,
// the workers and the store writer on every event): each thread adds to its own shard's
// monotonic `taken` (acquire, derive) and `released` counts, whichever thread took the
// unit. A flush reads every shard's `released` first and every shard's `taken` after, and
// the epoch is drained when the two sums are equal. That cannot be a false zero: a release
// it counted was preceded by its unit's take (and a unit is derived only while its parent
// is held), so every take behind a counted release is counted too, and an outstanding
// unit taken before the flush leaves `taken` ahead. (Summing live +1/-1 counters shard by
// shard could: a unit derived on a shard already read, its parent released on one read
// later.)
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
  WorkTracker(uint64_t max_events, uint64_t max_bytes);

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

  // A thread's counts (one cache line). Threads past kMaxShards share shards (atomic adds
  // keep the counts right; only the sharing costs).
  struct alignas(64) Shard {
    std::atomic<uint64_t> taken[2] = {0, 0};
    std::atomic<uint64_t> released[2] = {0, 0};
  };
  static constexpr size_t kMaxShards = 64;
  uint64_t events_held() const { return budget_.load(std::memory_order_relaxed) >> kBytesBits; }
  uint64_t bytes_held() const { return budget_.load(std::memory_order_relaxed) & kMaxBytes; }
  uint64_t max_events() const { return max_events_; }
  uint64_t max_bytes() const { return max_bytes_; }

 private:
  friend class WorkToken;
  static constexpr int kBytesBits = 40;
  WorkToken acquire_in(uint8_t epoch);
  void release(uint8_t epoch, uint64_t charge) {
    // Release: a flush that reads this count also sees the take it followed (header).
    my_shard().released[epoch].fetch_add(1, std::memory_order_release);
    if (charge != 0) budget_.fetch_sub(charge, std::memory_order_relaxed);
  }
  void take(uint8_t epoch) { my_shard().taken[epoch].fetch_add(1, std::memory_order_release); }
  // This thread's shard of this tracker (a per-thread cache; assigned on first use).
  Shard& my_shard();
  Shard& claim_shard();
  // Units of `epoch` taken and not released, read releases first (see the header).
  int64_t pending(uint8_t epoch) const;
  bool wait_zero(uint8_t epoch, std::chrono::steady_clock::time_point deadline) const;

  struct alignas(64) Outcome {
    std::atomic<uint64_t> written{0};
    std::atomic<uint64_t> failed{0};
  };
  const uint64_t uid_;  // never reused: a thread's cached shard of a dead tracker never matches
  std::atomic<uint8_t> epoch_{0};
  Shard shards_[kMaxShards];
  std::atomic<uint32_t> shards_claimed_{0};
  Outcome outcome_[2];
  // Events held (high 24 bits) and their bytes (low 40 bits): one word, so one atomic add
  // checks both limits exactly.
  alignas(64) std::atomic<uint64_t> budget_{0};
  const uint64_t max_events_;
  const uint64_t max_bytes_;
  std::timed_mutex flush_mu_;  // serialises flush() callers; never taken by a worker
};

}  // namespace weft
