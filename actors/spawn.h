// Spawning the actors that save values. Internal to actors/ (includes CAF).
#pragma once

#include <caf/fwd.hpp>

#include <memory>
#include <string>

#include <weft/value.h>

#include "runtime/core/save_cell.h"
#include "runtime/core/work_tracker.h"

namespace weft {

class RuntimeCore;

// One value to save: an Object, Op, Table, or a named plain value. The actor owns `cell`
// and resolves it with the value's ref URI and digest (or fails it).
struct ValueSave {
  Value value;
  std::string name;  // for Objects/plain values; empty = the value's own name
  detail::CellRef cell;
  WorkToken token;
};
using ValueSavePtr = std::shared_ptr<ValueSave>;

// Spawns object_actor (Objects, Ops, plain values) or table_actor (Tables).
//
// Every weft actor is spawned `caf::hidden`: CAF's registry then does not count it. That
// count is one shared atomic incremented and decremented per actor, and whenever it falls
// to 1 or 0, the worker that decremented it locks a mutex to notify awaiters, which two
// workers finishing the last actors at once contend for (seen by
// tests/lock_watch/lock_watch_test.cc). The runtime counts its own live actors
// (Metrics::live_actors(), per kind) and waits for them itself at shutdown.
void spawn_value_actor(caf::actor_system& sys, RuntimeCore* core, ValueSavePtr job);
void spawn_table_actor(caf::actor_system& sys, RuntimeCore* core, ValueSavePtr job);

}  // namespace weft
