#include "runtime/core/work_tracker.h"

#include <algorithm>
#include <thread>

namespace weft {

WorkToken& WorkToken::operator=(WorkToken&& o) noexcept {
  if (this != &o) {
    reset();
    t_ = o.t_;
    epoch_ = o.epoch_;
    o.t_ = nullptr;
  }
  return *this;
}

void WorkToken::reset() {
  if (t_ != nullptr) {
    t_->release(epoch_);
    t_ = nullptr;
  }
}

WorkToken WorkToken::derive() const {
  if (t_ == nullptr) return {};
  return t_->acquire_in(epoch_);
}

WorkToken WorkTracker::acquire() {
  uint8_t e = epoch_.load(std::memory_order_acquire) & 1;
  int64_t before = pending_[e].value.fetch_add(1, std::memory_order_acq_rel);
  if (before >= limit_) {
    // Over the limit: undo. The other epoch is ignored on purpose (one counter read on the
    // hot path); the limit is a guard against unbounded memory, not an exact quota.
    pending_[e].value.fetch_sub(1, std::memory_order_acq_rel);
    return {};
  }
  return WorkToken(this, e);
}

WorkToken WorkTracker::acquire_unbounded() {
  uint8_t e = epoch_.load(std::memory_order_acquire) & 1;
  pending_[e].value.fetch_add(1, std::memory_order_acq_rel);
  return WorkToken(this, e);
}

WorkToken WorkTracker::acquire_in(uint8_t e) {
  pending_[e].value.fetch_add(1, std::memory_order_acq_rel);
  return WorkToken(this, e);
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

bool WorkTracker::flush(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::timed_mutex> lock(flush_mu_, std::defer_lock);
  if (!lock.try_lock_until(deadline)) return false;
  uint8_t current = epoch_.load(std::memory_order_acquire) & 1;
  // Stragglers of the epoch closed by an earlier flush were accepted before this call too.
  if (!wait_zero(current ^ 1, deadline)) return false;
  epoch_.store(current ^ 1, std::memory_order_release);
  return wait_zero(current, deadline);
}

int64_t WorkTracker::outstanding() const {
  return pending_[0].value.load(std::memory_order_relaxed) +
         pending_[1].value.load(std::memory_order_relaxed);
}

}  // namespace weft
