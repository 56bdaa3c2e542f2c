// Spawning call actors (internal to actors/; includes CAF forward declarations only).
#pragma once

#include <caf/fwd.hpp>

#include <memory>

#include "runtime/core/events.h"
#include "runtime/core/work_tracker.h"

namespace weft {

class RuntimeCore;

struct CallStartJob {
  CallStartEvent event;
  WorkToken token;
};
using CallStartPtr = std::shared_ptr<CallStartJob>;

caf::actor spawn_call_actor(caf::actor_system& sys, RuntimeCore* core, CallStartPtr start);

}  // namespace weft
