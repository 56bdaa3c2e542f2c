// Metered<Base, Kind>: the mailbox-metrics mixin (docs/CAF_NOTES.md#metering). CAF 0.17 has no
// telemetry and another thread may not call mailbox().size(), so the mixin counts for
// itself: enqueue() runs on the sender's thread, consume() on the actor's. Both only add to
// relaxed atomics (per kind and per instance); depth = enqueued - processed. Handler times
// are sampled (one message in kHandlerSampleEvery per thread and kind). An instance slot is
// taken only when the actor describes itself, i.e. begins to wait: leaves never take one.
//
// Use as the base of a stateful actor: caf::stateful_actor<State, Metered<caf::event_based_actor,
// ActorKind::kObject>>. The runtime's Metrics are found through t_spawning_metrics, set
// by whoever calls spawn() (the constructor runs inside spawn, on that thread).
#pragma once

#include <caf/all.hpp>

#include <string_view>

#include "runtime/metrics/metrics_registry.h"

namespace weft {

template <class Base, ActorKind Kind>
class Metered : public Base {
 public:
  template <class... Ts>
  explicit Metered(caf::actor_config& cfg, Ts&&... xs)
      : Base(cfg, std::forward<Ts>(xs)...), metrics_(t_spawning_metrics) {
    if (metrics_ != nullptr) {
      kind_ = &metrics_->of(Kind);
      kind_->spawned.fetch_add(1, std::memory_order_relaxed);
    }
  }

  ~Metered() override {
    // No handle is left, so no sender can touch the slot any more: now it may be reused.
    if (metrics_ != nullptr) {
      if (InstanceSlot* s = slot_.load(std::memory_order_relaxed)) metrics_->instances.release(s);
    }
  }

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    if (kind_ != nullptr && !exited_.load(std::memory_order_relaxed)) {
      kind_->on_enqueue();
      // Each message is counted exactly once: in the instance slot once the actor has one,
      // before that in the actor itself (the slot's counts are then "since it waits").
      if (InstanceSlot* s = slot_.load(std::memory_order_acquire)) {
        s->enqueued.fetch_add(1, std::memory_order_relaxed);
      } else {
        early_enqueued_.fetch_add(1, std::memory_order_relaxed);
      }
    }
    Base::enqueue(std::move(ptr), eu);
  }

  caf::invoke_message_result consume(caf::mailbox_element& x) override {
    if (kind_ == nullptr) return Base::consume(x);
    const bool timed = time_this_message(static_cast<size_t>(Kind));  // sampled: metrics_registry.h
    const int64_t t0 = timed ? steady_now_ns() : 0;
    auto result = Base::consume(x);
    if (result != caf::invoke_message_result::skipped) {
      kind_->processed.fetch_add(1, std::memory_order_relaxed);
      if (InstanceSlot* s = slot_.load(std::memory_order_relaxed)) {
        s->processed.fetch_add(1, std::memory_order_relaxed);
      } else {
        ++early_processed_;
      }
      if (timed) kind_->handler.record(static_cast<uint64_t>(steady_now_ns() - t0));
    }
    return result;
  }

  // What this instance is (shown in "deepest"/"oldest" lists). Call from the actor, when it
  // begins to wait: that is when it gets its instance slot. An actor that never waits (a
  // leaf object, which finishes in its first activation) never takes one and shows only in
  // its kind's counters (docs/METRICS.md).
  void describe(std::string_view label) {
    InstanceSlot* s = slot_.load(std::memory_order_relaxed);
    if (s == nullptr && metrics_ != nullptr && (s = metrics_->instances.acquire()) != nullptr) {
      s->describe(Kind, this->id(), label);
      s->live.store(true, std::memory_order_release);
      slot_.store(s, std::memory_order_release);  // senders count in it from here on
      return;
    }
    if (s != nullptr) s->describe(Kind, this->id(), label);
  }
  // This actor's instance slot: null until it describes itself (or if the registry is full).
  InstanceSlot* metrics_slot() const { return slot_.load(std::memory_order_relaxed); }
  Metrics* runtime_metrics() const { return metrics_; }

 protected:
  void on_cleanup(const caf::error& reason) override {
    if (kind_ != nullptr && !exited_.exchange(true)) {
      kind_->finished.fetch_add(1, std::memory_order_relaxed);
      // Messages left in the mailbox are bounced, never consumed: count them as processed
      // so the kind's depth returns to zero.
      InstanceSlot* s = slot_.load(std::memory_order_relaxed);
      uint64_t e = early_enqueued_.load(std::memory_order_relaxed);
      uint64_t p = early_processed_;
      if (s != nullptr) {
        e += s->enqueued.load(std::memory_order_relaxed);
        p += s->processed.load(std::memory_order_relaxed);
        s->live.store(false, std::memory_order_release);
      }
      if (e > p) kind_->processed.fetch_add(e - p, std::memory_order_relaxed);
    }
    Base::on_cleanup(reason);
  }

 private:
  Metrics* metrics_;
  KindStats* kind_ = nullptr;
  std::atomic<InstanceSlot*> slot_{nullptr};  // set once, by the actor (describe)
  std::atomic<uint32_t> early_enqueued_{0};    // messages enqueued before the slot (senders)
  uint32_t early_processed_ = 0;               // and processed before it (the actor)
  std::atomic<bool> exited_{false};
};

// Sets t_spawning_metrics for the duration of a spawn.
class SpawningWith {
 public:
  explicit SpawningWith(Metrics* m) : prev_(t_spawning_metrics) { t_spawning_metrics = m; }
  ~SpawningWith() { t_spawning_metrics = prev_; }
  SpawningWith(const SpawningWith&) = delete;
  SpawningWith& operator=(const SpawningWith&) = delete;

 private:
  Metrics* prev_;
};

}  // namespace weft
