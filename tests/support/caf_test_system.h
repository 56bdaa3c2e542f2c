// A minimal CAF actor system for tests that spawn actors without a Runtime (CAF's
// "sharing" policy, as Config::Scheduler::caf_sharing configures it). Only the tests that
// need CAF include this: CAF's headers cost ~12 s per translation unit.
#pragma once

#include <caf/all.hpp>

#include <cstddef>

namespace weft::testing {

inline caf::actor_system_config sharing_system_config(size_t threads) {
  caf::actor_system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", threads);
  return cfg;
}

}  // namespace weft::testing
