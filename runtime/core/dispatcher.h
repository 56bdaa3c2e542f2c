// Dispatcher: the interface through which the CAF-free core reaches the actors.
//
// The core owns this interface and the factory's declaration; actors/dispatcher.cc
// implements both (it owns the actor system and the thread that drains the hand-off queue
// and routes each event to its actor). Dependencies therefore run one way: actors/ includes
// runtime/core, never the reverse, and no CAF header reaches the facade.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace weft {

class RuntimeCore;
struct EventQueue;

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;

  // Dispatches what is queued, stops the dispatcher, ends the actors of calls that were
  // never finished, and waits (until the deadline) for the remaining actors to finish.
  // Returns a description of what was cut short ("" if nothing was).
  virtual std::string stop(std::chrono::steady_clock::time_point deadline) = 0;

  // Gets the dispatcher polling again at once, also out of an idle park
  // (runtime/core/idle_backoff.h). flush() calls it; application threads never do.
  virtual void wake() = 0;

  virtual uint64_t events_dispatched() const = 0;
  virtual size_t open_calls() const = 0;
  virtual size_t scheduler_threads() const = 0;
};

// Starts the actor system and the dispatcher thread for this runtime (defined in actors/).
std::unique_ptr<Dispatcher> start_dispatcher(RuntimeCore& core, EventQueue& queue);

}  // namespace weft
