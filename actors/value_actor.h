// The skeleton shared by object_actor and table_actor: an actor that saves one value.
//
// init: meet the value's children (claim-and-spawn or subscribe). If none is pending,
// finish at once and terminate. Else describe itself for the metrics, arm its deadline and
// wait: each (child_atom, slot) settles one child; the last one finishes the actor; a
// deadline that really expired fails it with what it was waiting for.
//
// Kind supplies: static constexpr ActorKind kind; static const char* name (CAF's actor
// name); static std::string describe(const ValueSave&); static void finish(State&,
// Fail) which writes the value (or calls fail(why)).
#pragma once

#include <caf/all.hpp>

#include <memory>
#include <string>

#include "actors/deadline_watch.h"
#include "actors/dependencies.h"
#include "actors/metered.h"
#include "actors/spawn.h"
#include "messages/messages.h"
#include "runtime/core/runtime_core.h"

namespace weft {

template <class Kind>
struct ValueActorState {
  RuntimeCore* core = nullptr;
  ValueSavePtr job;
  detail::CellRef cell;
  std::unique_ptr<Dependencies> deps;

  // Reports why and fails the cell (its parents hear of it at once).
  void fail(const std::string& why) {
    core->report_error(why);
    core->tracker.record_failed(job->token.epoch());  // the flush that waits for it says so
    cell->fail(why);
  }
  ~ValueActorState() {
    // Stopped before resolving (runtime shutdown, an exception): parents must not wait.
    if (cell && !cell->resolved()) cell->fail("the runtime stopped before this value was saved");
  }
  static inline const char* name = Kind::name;
};

template <class Kind>
using ValueActor =
    caf::stateful_actor<ValueActorState<Kind>, Metered<caf::event_based_actor, Kind::kind>>;

template <class Kind>
caf::behavior value_actor(ValueActor<Kind>* self, RuntimeCore* core, ValueSavePtr job) {
  auto& st = self->state;
  st.core = core;
  st.cell = job->cell;
  st.job = std::move(job);
  st.deps = std::make_unique<Dependencies>(core, self, &st.job->token);
  st.deps->visit_contents(st.job->value);
  if (st.deps->pending() == 0) {
    Kind::finish(st);
    return {};  // no behavior: the actor terminates right after init
  }
  self->describe(Kind::describe(*st.job));
  auto show_waiting = [self] {
    if (auto* slot = self->metrics_slot())
      slot->set_waiting(static_cast<uint32_t>(self->state.deps->pending()), 0, false);
  };
  show_waiting();
  core->deadlines->arm(self);
  return {
      [=](msg::child_atom, uint32_t slot) {
        if (!self->state.deps->on_resolved(slot)) return show_waiting();
        Kind::finish(self->state);
        self->quit();
      },
      [=](msg::deadline_atom) {
        auto& s = self->state;
        if (!s.core->deadlines->expired(self->metrics_slot())) return;  // a stale reminder
        s.fail(Kind::describe(*s.job) + ": gave up after " +
               std::to_string(s.core->dependency_timeout.count()) + " ms waiting for " +
               s.deps->describe_pending());
        self->quit();
      },
  };
}

template <class Kind>
void spawn_value_actor_of(caf::actor_system& sys, RuntimeCore* core, ValueSavePtr job) {
  SpawningWith metered(&core->metrics);  // the constructor (inside spawn) finds the metrics
  sys.spawn<caf::hidden>(value_actor<Kind>, core, std::move(job));  // hidden: actors/spawn.h
}

}  // namespace weft
