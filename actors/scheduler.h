// weft's CAF scheduler module: a coordinator whose workers never block on a lock or a
// condition variable (a lock-free run queue, idle workers parked on a futex), and a clock
// that does not push a cancellation for actors that never set a timer (actors/scheduler.cc
// says why).
#pragma once

#include <cstdint>

namespace caf {
class actor_system_config;
}

namespace weft {

enum class SchedulerKind : uint8_t {
  weft,         // weft's coordinator (the default)
  caf_sharing,  // CAF's `sharing` coordinator with weft's clock, kept for comparison
};

// Installs the module in `cfg` (before the actor system is built from it).
void use_weft_scheduler(caf::actor_system_config& cfg, SchedulerKind kind = SchedulerKind::weft);

// Whether the calling thread is one of weft's scheduler workers.
bool on_scheduler_thread();

// Process-wide counts over every actor system that uses the module.
struct ClockCounts {
  uint64_t pushes = 0;           // timer operations handed to CAF's clock thread
  uint64_t skipped_cancels = 0;  // cancellations dropped: no timer had been set
};
ClockCounts clock_counts();

// Of weft's coordinators, summed when each stops.
struct SchedulerCounts {
  uint64_t parks = 0;          // a worker found no job and slept
  uint64_t wakes = 0;          // an enqueuer woke a parked worker (one futex syscall)
  uint64_t park_timeouts = 0;  // a parked worker woke on its own (the safety net)
};
SchedulerCounts stopped_scheduler_counts();

}  // namespace weft
