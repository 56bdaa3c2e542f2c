// weft's CAF scheduler module: CAF's sharing coordinator with a clock that does not push a
// cancellation for actors that never set a timer (actors/scheduler.cc says why).
#pragma once

#include <cstdint>

namespace caf {
class actor_system_config;
}

namespace weft {

// Installs the module in `cfg` (before the actor system is built from it).
void use_weft_scheduler(caf::actor_system_config& cfg);

// Process-wide counts over every actor system that uses the module.
struct ClockCounts {
  uint64_t pushes = 0;           // timer operations handed to CAF's clock thread
  uint64_t skipped_cancels = 0;  // cancellations dropped: no timer had been set
};
ClockCounts clock_counts();

}  // namespace weft
