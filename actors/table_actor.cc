// table_actor: saves one Table. Rows may hold Objects, Ops, Tables and Blobs: the actor
// meets them all, and when the last digest is in, writes every row's canonical JSON, the
// row digests, the table digest (hex), hands table_create to the store writer and resolves
// its cell with the table ref.
#include <caf/all.hpp>

#include "actors/deadline_watch.h"
#include "actors/dependencies.h"
#include "actors/metered.h"
#include "actors/spawn.h"
#include "messages/messages.h"
#include "runtime/digest.h"
#include "runtime/runtime_core.h"

namespace weft {

namespace {

struct TableState {
  RuntimeCore* core = nullptr;
  ValueSavePtr job;
  detail::CellRef cell;
  std::unique_ptr<Dependencies> deps;

  ~TableState() {
    if (cell && !cell->resolved()) cell->fail("the runtime stopped before this table was saved");
  }
  static inline const char* name = "weft.table";
};

using TableActor =
    caf::stateful_actor<TableState, Metered<caf::event_based_actor, ActorKind::kTable>>;

void fail(TableActor* self, const std::string& why) {
  self->state.core->report_error(why);
  self->state.cell->fail(why);
}

void finish(TableActor* self) {
  auto& st = self->state;
  const auto& rows = st.job->value.table().rows;
  if (st.deps->failed())
    return fail(self, "Table of " + std::to_string(rows.size()) +
                          " rows not saved: a child failed: " + st.deps->first_error());
  TableCreate req;
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
  st.core->writer.submit(StoreItem{std::move(req), std::move(st.job->token), st.cell});
  st.cell->resolve(std::move(uri), std::move(digest));
}

caf::behavior table_actor(TableActor* self, RuntimeCore* core, ValueSavePtr job) {
  auto& st = self->state;
  st.core = core;
  st.cell = job->cell;
  st.job = std::move(job);
  st.deps = std::make_unique<Dependencies>(core, self, &st.job->token);
  st.deps->visit_contents(st.job->value);
  if (st.deps->pending() == 0) {
    finish(self);
    return {};
  }
  self->describe("Table of " + std::to_string(st.job->value.table().rows.size()) + " rows");
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
        fail(self, "Table: gave up after " +
                       std::to_string(self->state.core->config.dependency_timeout.count()) +
                       " ms waiting for " + self->state.deps->describe_pending());
        self->quit();
      },
  };
}

}  // namespace

void spawn_table_actor(caf::actor_system& sys, RuntimeCore* core, ValueSavePtr job) {
  SpawningWith metered(&core->metrics);
  sys.spawn(table_actor, core, std::move(job));
}

}  // namespace weft
