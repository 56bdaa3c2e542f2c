// table_actor: saves one Table. Rows may hold Objects, Ops, Tables and Blobs: the actor
// meets them all (actors/value_actor.h), and when the last digest is in, writes every row's
// canonical JSON, the row digests, the table digest (hex), hands table_create to the store
// writer and resolves its cell with the table ref.
#include <weft/digest.h>

#include "actors/value_actor.h"

namespace weft {

namespace {

struct TableKind {
  static constexpr ActorKind kind = ActorKind::kTable;
  static inline const char* name = "weft.table";

  static std::string describe(const ValueSave& job) {
    return "Table of " + std::to_string(job.value.table().rows.size()) + " rows";
  }

  static void finish(ValueActorState<TableKind>& st) {
    const auto& rows = st.job->value.table().rows;
    if (st.deps->failed()) return st.fail(describe(*st.job) + " not saved: a child failed: " + st.deps->first_error());
    TableCreateRequest req;
    req.project_id = st.core->project_id;
    req.rows_json.reserve(rows.size());
    req.row_digests.reserve(rows.size());
    for (const auto& row : rows) {
      req.rows_json.push_back(canonical_json(row, st.deps.get()));
      req.row_digests.push_back(base_digest(req.rows_json.back()));
    }
    req.digest = table_digest(req.row_digests);
    std::string digest = req.digest;
    std::string uri = st.core->table_ref(digest);
    if (st.core->store_assigns_ref_digests && !st.deps->ref_uris().empty()) {
      // Rows with refs: the server's digest, resolved by the store writer (object_actor.cc).
      st.core->writer.submit(StoreItem{std::move(req), std::move(st.job->token), std::move(st.cell),
                                       st.core->table_ref("")});
      return;
    }
    // As in object_actor: a flush must not return before the cell is resolved.
    WorkToken until_resolved = st.job->token.derive();
    st.core->writer.submit(StoreItem{std::move(req), std::move(st.job->token), st.cell});
    st.cell->resolve(std::move(uri), std::move(digest));
    until_resolved.reset();
  }
};

}  // namespace

void spawn_table_actor(caf::actor_system& sys, RuntimeCore* core, ValueSavePtr job) {
  spawn_value_actor_of<TableKind>(sys, core, std::move(job));
}

}  // namespace weft
