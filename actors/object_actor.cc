// object_actor: saves one Object, Op or named plain value.
//
// It walks its own layer of the value, meets its children (claim-and-spawn or subscribe),
// and waits for their (child_atom, slot) messages. When the last one arrives it writes its
// canonical JSON with the children as ref URIs, hashes it, hands obj_create to the store
// writer, resolves its cell (which notifies its own parents) and quits. Memory follows
// open work: a finished object leaves nothing behind but its cell.
#include <caf/all.hpp>

#include "actors/deadline_watch.h"
#include "actors/dependencies.h"
#include "actors/metered.h"
#include "actors/spawn.h"
#include "messages/messages.h"
#include "runtime/digest.h"
#include "runtime/ids.h"
#include "runtime/ref.h"
#include "runtime/runtime_core.h"

namespace weft {

namespace {

struct ObjectState {
  RuntimeCore* core = nullptr;
  ValueSavePtr job;
  detail::CellRef cell;
  std::unique_ptr<Dependencies> deps;

  ~ObjectState() {
    // Stopped before resolving (runtime shutdown, an exception): parents must not wait.
    if (cell && !cell->resolved()) cell->fail("the runtime stopped before this value was saved");
  }
  static inline const char* name = "weft.object";
};

using ObjectActor =
    caf::stateful_actor<ObjectState, Metered<caf::event_based_actor, ActorKind::kObject>>;

// Weave's base_object_class: the class right below Object in the bases, or the class itself
// when it derives from Object directly.
std::optional<std::string> base_object_class(const ObjectData& o) {
  const auto& b = o.bases;
  if (b.size() >= 2 && b[b.size() - 1] == "BaseModel" && b[b.size() - 2] == "Object")
    return b.size() > 2 ? b[b.size() - 3] : o.class_name;
  return std::nullopt;
}

std::string describe(const Value& v, const std::string& name) {
  switch (v.kind()) {
    case ValueKind::kObject: return "Object '" + v.object().class_name + "' (" + name + ")";
    case ValueKind::kOp: return "Op '" + v.op().name + "'";
    default: return std::string(kind_name(v.kind())) + " '" + name + "'";
  }
}

std::string chosen_name(const ValueSave& job) {
  if (!job.name.empty()) return job.name;
  const Value& v = job.value;
  if (v.kind() == ValueKind::kOp) return v.op().name;
  if (v.kind() == ValueKind::kObject)
    return v.object().name.empty() ? v.object().class_name : v.object().name;
  return {};
}

void fail(ObjectActor* self, const std::string& why) {
  auto& st = self->state;
  st.core->report_error(why);
  st.cell->fail(why);
}

void finish(ObjectActor* self) {
  auto& st = self->state;
  ValueSave& job = *st.job;
  const Value& v = job.value;
  std::string raw_name = chosen_name(job);
  if (raw_name.empty()) return fail(self, std::string("cannot save a ") + kind_name(v.kind()) + " without a name");
  Result<std::string> name = sanitize_object_name(raw_name);
  if (!name) return fail(self, "cannot save " + describe(v, raw_name) + ": " + name.error());
  if (st.deps->failed())
    return fail(self, describe(v, *name) + " not saved: a child failed: " + st.deps->first_error());

  bool is_op = v.kind() == ValueKind::kOp;
  std::string val = canonical_json(v, st.deps.get());
  std::string digest = base_digest(val);
  if (is_op) {
    const std::string& src = v.op().source;
    st.core->writer.submit(StoreItem{
        FileCreate{st.core->project_id, file_digest(src), "obj.py",
                   std::make_shared<const std::string>(src)},
        job.token.derive(), {}});
  }
  ObjCreate req;
  req.project_id = st.core->project_id;
  req.object_id = *name;
  req.kind = is_op ? "op" : "object";
  req.val_json = std::move(val);
  req.digest = digest;
  if (v.kind() == ValueKind::kObject) {
    req.base_object_class = base_object_class(v.object());
    req.leaf_object_class = v.object().class_name;
  }
  req.refs = st.deps->ref_uris();
  req.created_at_us = now_unix_micros();
  std::string uri = is_op ? st.core->op_ref(*name, digest) : st.core->object_ref(*name, digest);
  // Submit before resolving: a parent that learns the digest finds the write queued.
  st.core->writer.submit(StoreItem{std::move(req), std::move(job.token), st.cell});
  st.cell->resolve(std::move(uri), std::move(digest));
}

caf::behavior object_actor(ObjectActor* self, RuntimeCore* core, ValueSavePtr job) {
  auto& st = self->state;
  st.core = core;
  st.cell = job->cell;
  st.job = std::move(job);
  st.deps = std::make_unique<Dependencies>(core, self, &st.job->token);
  st.deps->visit_contents(st.job->value);
  if (st.deps->pending() == 0) {
    finish(self);
    return {};  // no behavior: the actor terminates right after init
  }
  self->describe(describe(st.job->value, chosen_name(*st.job)));
  if (auto* slot = self->metrics_slot()) slot->set_waiting(static_cast<uint32_t>(st.deps->pending()), 0, false);
  core->deadlines->arm(self);
  return {
      [=](msg::child_atom, uint32_t slot) {
        if (self->state.deps->on_resolved(slot)) {
          finish(self);
          self->quit();
        } else if (auto* s = self->metrics_slot()) {
          s->set_waiting(static_cast<uint32_t>(self->state.deps->pending()), 0, false);
        }
      },
      [=](msg::deadline_atom) {
        if (!self->state.core->deadlines->expired(self->metrics_slot())) return;  // stale
        auto& s = self->state;
        fail(self, describe(s.job->value, chosen_name(*s.job)) + ": gave up after " +
                       std::to_string(s.core->config.dependency_timeout.count()) +
                       " ms waiting for " + s.deps->describe_pending());
        self->quit();
      },
  };
}

}  // namespace

void spawn_value_actor(caf::actor_system& sys, RuntimeCore* core, ValueSavePtr job) {
  if (job->value.kind() == ValueKind::kTable) {
    spawn_table_actor(sys, core, std::move(job));
    return;
  }
  SpawningWith metered(&core->metrics);
  sys.spawn(object_actor, core, std::move(job));
}

}  // namespace weft
