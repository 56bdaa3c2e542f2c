// weft's CAF scheduler module (actors/scheduler.h).
//
// Why: in CAF 0.17 every actor's cleanup calls clock().cancel_timeouts(self), even for an
// actor that never set a timer. thread_safe_actor_clock turns each call into a heap event
// pushed under a mutex into a 64-slot ring with a condition-variable notify, and the pusher
// blocks while the ring is full: a scheduler thread waiting on CAF's clock thread, ~5 µs
// of futex time and ~13 context switches per traced op in weft's profile (issue 11). No
// config key or spawn option avoids it. weft sets no CAF timer on its hot path (deadlines
// are the DeadlineWatch thread's), so the clock here forwards every timer to CAF's clock
// and drops cancellations until some timer was ever set in this actor system: then there
// is nothing to cancel. Once one is set (the deadline fallback for an actor without a
// metrics slot), every cancellation is forwarded again, as CAF does.
//
// The CAF internals this relies on (0.17.6), named so an upgrade knows where to look:
// - caf::scheduler::coordinator<Policy>: subclassed; its protected clock() (the
//   thread_safe_actor_clock its caf.clock thread runs) is the clock we forward to, and its
//   virtual clock() is what actor_system::clock() and every actor's cleanup call;
// - caf::policy::work_sharing: the policy, unchanged;
// - the module factory signature T::make(actor_system&, detail::type_list<>) that the
//   public actor_system_config::load<T>() calls; a loaded scheduler module replaces the
//   one that "scheduler.policy" would create.
#include "actors/scheduler.h"

#include <caf/all.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>

#include <atomic>

namespace weft {

namespace {

std::atomic<uint64_t> g_pushes{0};
std::atomic<uint64_t> g_skipped{0};

// A thread_safe_actor_clock only because coordinator<Policy>::clock() returns one (an
// override may not widen the type); its own ring and loop stay unused.
class ForwardingClock final : public caf::detail::thread_safe_actor_clock {
 public:
  explicit ForwardingClock(caf::actor_clock& caf_clock) : to_(caf_clock) {}

  time_point now() const noexcept override { return to_.now(); }

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                            uint64_t id) override {
    arm();
    to_.set_ordinary_timeout(t, self, type, id);
  }
  void set_multi_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                         uint64_t id) override {
    arm();
    to_.set_multi_timeout(t, self, type, id);
  }
  void set_request_timeout(time_point t, caf::abstract_actor* self, caf::message_id id) override {
    arm();
    to_.set_request_timeout(t, self, id);
  }
  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override {
    arm();
    to_.schedule_message(t, std::move(receiver), std::move(content));
  }
  void schedule_message(time_point t, caf::group target, caf::strong_actor_ptr sender,
                        caf::message content) override {
    arm();
    to_.schedule_message(t, std::move(target), std::move(sender), std::move(content));
  }

  void cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) override {
    if (armed()) to_.cancel_ordinary_timeout(self, type);
  }
  void cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) override {
    if (armed()) to_.cancel_request_timeout(self, id);
  }
  void cancel_timeouts(caf::abstract_actor* self) override {
    if (armed()) to_.cancel_timeouts(self);
  }
  void cancel_all() override { to_.cancel_all(); }

 private:
  void arm() {
    g_pushes.fetch_add(1, std::memory_order_relaxed);
    // Release: an actor that later sees armed_ also sees that a timer may exist. The
    // actor that set the timer sees its own store (program order) at its cleanup.
    if (!armed_.load(std::memory_order_relaxed)) armed_.store(true, std::memory_order_release);
  }
  bool armed() {
    if (armed_.load(std::memory_order_acquire)) {
      g_pushes.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    g_skipped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  caf::actor_clock& to_;
  std::atomic<bool> armed_{false};
};

class Coordinator final : public caf::scheduler::coordinator<caf::policy::work_sharing> {
 public:
  using super = caf::scheduler::coordinator<caf::policy::work_sharing>;
  explicit Coordinator(caf::actor_system& sys) : super(sys), clock_(super::clock()) {}

  static caf::actor_system::module* make(caf::actor_system& sys, caf::detail::type_list<>) {
    return new Coordinator(sys);
  }

 protected:
  caf::detail::thread_safe_actor_clock& clock() noexcept override { return clock_; }

 private:
  ForwardingClock clock_;
};

}  // namespace

void use_weft_scheduler(caf::actor_system_config& cfg) { cfg.load<Coordinator>(); }

ClockCounts clock_counts() {
  return ClockCounts{g_pushes.load(std::memory_order_relaxed), g_skipped.load(std::memory_order_relaxed)};
}

}  // namespace weft
