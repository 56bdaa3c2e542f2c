// object_actor: saves one Object, Op or named plain value (actors/value_actor.h has the
// actor's life: meet the children, wait for their digests, finish or give up).
//
// Finishing writes the canonical JSON with the children as ref URIs, hashes it, hands
// obj_create (and, for an op, the file_create of its source) to the store writer, and
// resolves the cell, which notifies the parents. Memory follows open work: a finished
// object leaves nothing behind but its cell.
#include <weft/digest.h>
#include <weft/ids.h>
#include <weft/ref.h>

#include "actors/value_actor.h"

namespace weft {

namespace {

// Weave's base_object_class: the class right below Object in the bases, or the class itself
// when it derives from Object directly.
std::optional<std::string> base_object_class(const ObjectData& o) {
  const auto& b = o.bases;
  if (b.size() >= 2 && b[b.size() - 1] == "BaseModel" && b[b.size() - 2] == "Object")
    return b.size() > 2 ? b[b.size() - 3] : o.class_name;
  return std::nullopt;
}

std::string describe_value(const Value& v, const std::string& name) {
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

struct ObjectKind {
  static constexpr ActorKind kind = ActorKind::kObject;
  static inline const char* name = "weft.object";
  static std::string describe(const ValueSave& job) { return describe_value(job.value, chosen_name(job)); }
  static void finish(ValueActorState<ObjectKind>& st);
};

void ObjectKind::finish(ValueActorState<ObjectKind>& st) {
  ValueSave& job = *st.job;
  const Value& v = job.value;
  std::string raw_name = chosen_name(job);
  if (raw_name.empty()) return st.fail(std::string("cannot save a ") + kind_name(v.kind()) + " without a name");
  Result<std::string> name = sanitize_object_name(raw_name);
  if (!name) return st.fail("cannot save " + describe_value(v, raw_name) + ": " + name.error());
  if (st.deps->failed())
    return st.fail(describe_value(v, *name) + " not saved: a child failed: " + st.deps->first_error());

  bool is_op = v.kind() == ValueKind::kOp;
  std::string val = canonical_json(v, st.deps.get());
  std::string digest = base_digest(val);
  if (is_op) {
    const std::string& src = v.op().source;
    st.core->writer.submit(StoreItem{
        FileCreateRequest{st.core->project_id, file_digest(src), "obj.py",
                   std::make_shared<const std::string>(src)},
        job.token.derive(), {}});
  }
  ObjCreateRequest req;
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
  if (st.core->store_assigns_ref_digests && !req.refs.empty()) {
    // The server hashes this value with its refs rewritten: its digest comes back with the
    // answer, and the store writer resolves the cell then (parents keep waiting by message).
    std::string prefix = uri.substr(0, uri.size() - digest.size());
    st.core->writer.submit(StoreItem{std::move(req), std::move(job.token), std::move(st.cell), std::move(prefix)});
    return;
  }
  // Submit before resolving: a parent that learns the digest finds the write queued. A
  // derived unit is held until the cell is resolved: the writer may commit (and release the
  // save's own token) first, and a flush must not return before SavedRef::ready().
  WorkToken until_resolved = job.token.derive();
  st.core->writer.submit(StoreItem{std::move(req), std::move(job.token), st.cell});
  st.cell->resolve(std::move(uri), std::move(digest));
  until_resolved.reset();
}

}  // namespace

void spawn_value_actor(caf::actor_system& sys, RuntimeCore* core, ValueSavePtr job) {
  if (job->value.kind() == ValueKind::kTable) {
    spawn_table_actor(sys, core, std::move(job));
    return;
  }
  spawn_value_actor_of<ObjectKind>(sys, core, std::move(job));
}

}  // namespace weft
