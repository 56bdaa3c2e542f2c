// DeadlineWatch: one thread that turns long waits into deadline messages, instead of one
// CAF timer per waiting actor. CAF 0.17's clock takes a mutex and wakes its thread for
// every delayed_send and every cancellation: measured at ~13% of the runtime's time in the
// seed benchmark, for deadlines that almost never fire.
//
// A waiting actor stamps `deadline_since_ns` in its metrics slot and registers once (a
// lock-free enqueue of its handle). Every interval the watch drops actors that stopped
// waiting or quit, and sends (deadline_atom) to those waiting longer than the timeout.
// It holds weak handles only, so it never keeps an actor alive and may be destroyed after
// the actor system: the dispatcher stops its thread first, then destroys the system (whose
// workers may still call waiting() until they stop), then the watch.
#pragma once

#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "messages/messages.h"
#include "runtime/core/idle_backoff.h"
#include "runtime/metrics/metrics_registry.h"

namespace weft {

class DeadlineWatch {
 public:
  explicit DeadlineWatch(std::chrono::milliseconds timeout);
  ~DeadlineWatch();  // stops the thread if stop() was not called
  // Stops the sweeping thread (no more deadline messages). waiting() stays safe to call.
  void stop();
  DeadlineWatch(const DeadlineWatch&) = delete;
  DeadlineWatch& operator=(const DeadlineWatch&) = delete;

  // From the actor itself: it is waiting (since now, unless it already was). Lock-free.
  void waiting(const caf::actor& self, InstanceSlot* slot);
  // From the actor itself: it is not waiting any more.
  static void done(InstanceSlot* slot) {
    if (slot != nullptr) slot->deadline_since_ns.store(0, std::memory_order_relaxed);
  }
  // From a deadline handler: is the wait really past the timeout (not a stale reminder)?
  bool expired(const InstanceSlot* slot) const;

  // The whole arming step for an actor: watched if it has a metrics slot, else (registry
  // full) a plain CAF timer.
  template <class Self>
  void arm(Self* self) {
    if (InstanceSlot* slot = self->metrics_slot()) waiting(caf::actor_cast<caf::actor>(self), slot);
    else self->delayed_send(self, std::chrono::nanoseconds(timeout_ns_), msg::deadline_atom::value);
  }

 private:
  struct Entry {
    caf::weak_actor_ptr who;
    InstanceSlot* slot;
  };
  void run();

  const int64_t timeout_ns_;
  const std::chrono::milliseconds interval_;
  const std::chrono::microseconds idle_sleep_;  // the sleep while nothing is watched
  struct Incoming;
  std::unique_ptr<Incoming> incoming_;
  std::vector<Entry> watched_;  // the watch thread only
  std::atomic<bool> stop_{false};
  std::atomic<bool> sleeping_long_{false};  // the watch sleeps its long idle sleep: poke it
  IdleWaker waker_;  // stop() ends the sleep between sweeps
  std::thread thread_;
};

}  // namespace weft
