// Metered<Base, Kind>: the mailbox-metrics mixin (docs/CAF_NOTES.md#metering). CAF 0.17 has no
// telemetry and another thread may not call mailbox().size(), so the mixin counts for
// itself: enqueue() runs on the sender's thread, consume() on the actor's. Both only add to
// relaxed atomics (per kind and per instance); depth = enqueued - processed. Handler times
// are sampled (one message in kHandlerSampleEvery per thread and kind).
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
      slot_ = metrics_->instances.acquire();
      if (slot_ != nullptr) {
        slot_->describe(Kind, this->id(), {});
        slot_->live.store(true, std::memory_order_release);
      }
    }
  }

  ~Metered() override {
    // No handle is left, so no sender can touch the slot any more: now it may be reused.
    if (metrics_ != nullptr) metrics_->instances.release(slot_);
  }

  void enqueue(caf::mailbox_element_ptr ptr, caf::execution_unit* eu) override {
    if (kind_ != nullptr && !exited_.load(std::memory_order_relaxed)) {
      kind_->on_enqueue();
      if (slot_ != nullptr) slot_->enqueued.fetch_add(1, std::memory_order_relaxed);
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
      if (slot_ != nullptr) slot_->processed.fetch_add(1, std::memory_order_relaxed);
      if (timed) kind_->handler.record(static_cast<uint64_t>(steady_now_ns() - t0));
    }
    return result;
  }

  // What this instance is (shown in "deepest"/"oldest" lists). Call from the actor.
  void describe(std::string_view label) {
    if (slot_ != nullptr) slot_->describe(Kind, this->id(), label);
  }
  InstanceSlot* metrics_slot() const { return slot_; }
  Metrics* runtime_metrics() const { return metrics_; }

 protected:
  void on_cleanup(const caf::error& reason) override {
    if (kind_ != nullptr && !exited_.exchange(true)) {
      kind_->finished.fetch_add(1, std::memory_order_relaxed);
      // Messages left in the mailbox are bounced, never consumed: count them as processed
      // so the kind's depth returns to zero.
      if (slot_ != nullptr) {
        uint64_t e = slot_->enqueued.load(std::memory_order_relaxed);
        uint64_t p = slot_->processed.load(std::memory_order_relaxed);
        if (e > p) kind_->processed.fetch_add(e - p, std::memory_order_relaxed);
        slot_->live.store(false, std::memory_order_release);
      }
    }
    Base::on_cleanup(reason);
  }

 private:
  Metrics* metrics_;
  KindStats* kind_ = nullptr;
  InstanceSlot* slot_ = nullptr;
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
