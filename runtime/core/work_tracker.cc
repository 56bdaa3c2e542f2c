#include "runtime/core/work_tracker.h"

#include <algorithm>
#include <thread>

namespace weft {

namespace {
std::atomic<uint64_t> g_next_tracker_uid{1};

// The shard this thread last used, and a few more (a thread may trace into several
// runtimes): keyed by tracker uid, which is never reused.
struct ShardCacheEntry {
  uint64_t uid = 0;
  WorkTracker::Shard* shard = nullptr;
};
constexpr size_t kShardCacheSize = 4;
thread_local ShardCacheEntry t_last_shard;
thread_local ShardCacheEntry t_shards[kShardCacheSize];
thread_local size_t t_shards_next = 0;
}  // namespace

WorkTracker::WorkTracker(uint64_t max_events, uint64_t max_bytes)
    : uid_(g_next_tracker_uid.fetch_add(1, std::memory_order_relaxed)),
      max_events_(max_events),
      max_bytes_(max_bytes) {}

WorkTracker::Shard& WorkTracker::my_shard() {
  if (t_last_shard.uid == uid_) return *t_last_shard.shard;
  return claim_shard();
}

WorkTracker::Shard& WorkTracker::claim_shard() {
  Shard* shard = nullptr;
  for (const auto& e : t_shards)
    if (e.uid == uid_) shard = e.shard;
  if (shard == nullptr) {
    // First use on this thread: a shard of its own while they last, then shared ones.
    const uint32_t n = shards_claimed_.fetch_add(1, std::memory_order_relaxed);
    shard = &shards_[n % kMaxShards];
    t_shards[t_shards_next++ % kShardCacheSize] = ShardCacheEntry{uid_, shard};
  }
  t_last_shard = ShardCacheEntry{uid_, shard};
  return *shard;
}

int64_t WorkTracker::pending(uint8_t e) const {
  uint64_t released = 0, taken = 0;
  for (const Shard& s : shards_) released += s.released[e].load(std::memory_order_acquire);
  for (const Shard& s : shards_) taken += s.taken[e].load(std::memory_order_acquire);
  return static_cast<int64_t>(taken - released);
}

WorkToken& WorkToken::operator=(WorkToken&& o) noexcept {
  if (this != &o) {
    reset();
    t_ = o.t_;
    charge_ = o.charge_;
    epoch_ = o.epoch_;
    o.t_ = nullptr;
    o.charge_ = 0;
  }
  return *this;
}

void WorkToken::reset() {
  if (t_ != nullptr) {
    t_->release(epoch_, charge_);
    t_ = nullptr;
    charge_ = 0;
  }
}

WorkToken WorkToken::derive() const {
  if (t_ == nullptr) return {};
  return t_->acquire_in(epoch_);
}

WorkToken WorkTracker::acquire(uint64_t bytes, Refusal* why) {
  const uint64_t charge = (uint64_t{1} << kBytesBits) | std::min(bytes, kMaxBytes);
  const uint64_t before = budget_.fetch_add(charge, std::memory_order_relaxed);
  const uint64_t events = (before >> kBytesBits) + 1;
  const uint64_t held = (before & kMaxBytes) + (charge & kMaxBytes);
  if (events > max_events_ || held > max_bytes_) {
    // Over a limit: undo, keep nothing. (A concurrent acquire may see this transient
    // charge and be refused too: refusals are conservative, admissions never pass a limit.)
    budget_.fetch_sub(charge, std::memory_order_relaxed);
    if (why != nullptr) *why = events > max_events_ ? Refusal::kTooManyEvents : Refusal::kTooManyBytes;
    return {};
  }
  uint8_t e = epoch_.load(std::memory_order_acquire) & 1;
  take(e);
  return WorkToken(this, e, charge);
}

WorkToken WorkTracker::acquire_forced(uint64_t bytes) {
  const uint64_t charge = (uint64_t{1} << kBytesBits) | std::min(bytes, kMaxBytes);
  budget_.fetch_add(charge, std::memory_order_relaxed);
  uint8_t e = epoch_.load(std::memory_order_acquire) & 1;
  take(e);
  return WorkToken(this, e, charge);
}

WorkToken WorkTracker::acquire_unbounded() {
  uint8_t e = epoch_.load(std::memory_order_acquire) & 1;
  take(e);
  return WorkToken(this, e, 0);
}

WorkToken WorkTracker::acquire_in(uint8_t e) {
  take(e & 1);
  return WorkToken(this, e & 1, 0);
}

bool WorkTracker::wait_zero(uint8_t e, std::chrono::steady_clock::time_point deadline) const {
  // Flush is an application-side call that is *meant* to wait; it polls with a back-off
  // capped at 1 ms so that no worker ever has to signal anything.
  auto pause = std::chrono::microseconds(1);
  while (pending(e) != 0) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    std::this_thread::sleep_for(std::min<std::chrono::steady_clock::duration>(pause, deadline - now));
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
  return true;
}

EpochOutcome WorkTracker::flush(std::chrono::steady_clock::time_point deadline) {
  EpochOutcome out;
  std::unique_lock<std::timed_mutex> lock(flush_mu_, std::defer_lock);
  if (!lock.try_lock_until(deadline)) {
    out.pending = outstanding();  // another flush holds the line: all of it is still open
    return out;
  }
  const uint8_t current = epoch_.load(std::memory_order_acquire) & 1;
  const uint8_t older = current ^ 1;
  // Stragglers of the epoch closed by an earlier flush were accepted before this call too.
  // Outcomes are taken (reset) only for an epoch that drained: until then its requests are
  // still being counted, and the next flush reports them.
  auto take = [this, &out](uint8_t e) {
    out.written += outcome_[e].written.exchange(0, std::memory_order_relaxed);
    out.failed += outcome_[e].failed.exchange(0, std::memory_order_relaxed);
  };
  auto peek = [this, &out](uint8_t e) {
    out.written += outcome_[e].written.load(std::memory_order_relaxed);
    out.failed += outcome_[e].failed.load(std::memory_order_relaxed);
    out.pending += pending(e);
  };
  if (!wait_zero(older, deadline)) {
    peek(older);
    peek(current);
    return out;
  }
  take(older);
  epoch_.store(older, std::memory_order_release);
  if (!wait_zero(current, deadline)) {
    peek(current);
    return out;
  }
  take(current);
  out.drained = true;
  return out;
}

int64_t WorkTracker::outstanding() const {
  return pending(0) + pending(1);
}

}  // namespace weft
