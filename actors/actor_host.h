// ActorHost: the CAF side of a runtime, behind a CAF-free interface. It owns the actor
// system (configured as ../shared/notes/caf-0.17.md says: "sharing" scheduler, bounded
// throughput) and the dispatcher thread that drains the hand-off queue and routes each
// event to its actor.
#pragma once

#include <chrono>
#include <memory>
#include <string>

namespace weft {

class RuntimeCore;
struct EventQueue;

class ActorHost {
 public:
  ActorHost(RuntimeCore& core, EventQueue& queue);
  ~ActorHost();
  ActorHost(const ActorHost&) = delete;
  ActorHost& operator=(const ActorHost&) = delete;

  // Dispatches what is queued, stops the dispatcher, ends the actors of calls that were
  // never finished, and waits (until the deadline) for the remaining actors to finish.
  // Returns a description of what was cut short ("" if nothing was).
  std::string stop(std::chrono::steady_clock::time_point deadline);

  uint64_t events_dispatched() const;
  size_t open_calls() const;
  size_t scheduler_threads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft
