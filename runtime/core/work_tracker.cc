#include "runtime/core/work_tracker.h"

#include <algorithm>
#include <thread>

namespace weft {

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
  pending_[e].value.fetch_add(1, std::memory_order_acq_rel);
  return WorkToken(this, e, charge);
}

WorkToken WorkTracker::acquire_forced(uint64_t bytes) {
  const uint64_t charge = (uint64_t{1} << kBytesBits) | std::min(bytes, kMaxBytes);
  budget_.fetch_add(charge, std::memory_order_relaxed);
  uint8_t e = epoch_.load(std::memory_order_acquire) & 1;
  pending_[e].value.fetch_add(1, std::memory_order_acq_rel);
  return WorkToken(this, e, charge);
}

WorkToken WorkTracker::acquire_unbounded() {
  uint8_t e = epoch_.load(std::memory_order_acquire) & 1;
  pending_[e].value.fetch_add(1, std::memory_order_acq_rel);
  return WorkToken(this, e, 0);
}

WorkToken WorkTracker::acquire_in(uint8_t e) {
  pending_[e & 1].value.fetch_add(1, std::memory_order_acq_rel);
  return WorkToken(this, e & 1, 0);
}

bool WorkTracker::wait_zero(uint8_t e, std::chrono::steady_clock::time_point deadline) const {
  // Flush is an application-side call that is *meant* to wait; it polls with a back-off
  // capped at 1 ms so that no worker ever has to signal anything.
  auto pause = std::chrono::microseconds(1);
  while (pending_[e].value.load(std::memory_order_acquire) != 0) {
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
    out.pending += pending_[e].value.load(std::memory_order_relaxed);
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
  return pending_[0].value.load(std::memory_order_relaxed) +
         pending_[1].value.load(std::memory_order_relaxed);
}

}  // namespace weft
