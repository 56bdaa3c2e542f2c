// Dependencies on its own: the children a parent meets and counts. The parent is a CAF
// scoped_actor in a minimal actor system (the "sharing" policy, as actors/dispatcher.cc
// configures it); (child_atom, slot) messages are received with a timeout, never slept for.
//
// Every child cell is claimed by the test first (with the core's runtime id), so
// Dependencies only ever subscribes and never spawns a child actor: the test plays the
// child's owner and resolves or fails the cell itself. The exceptions are blobs without
// files, which Dependencies resolves locally without touching the store.
//
// Dependencies keeps pointers into the value it visits (the parent keeps it alive), so every
// parent here is a named local declared before the Dependencies that visits it.
#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <weft/json.h>  // canonical_json, ChildWriter
#include <weft/value.h>

#include "actors/dependencies.h"
#include "messages/messages.h"
#include "runtime/core/runtime_core.h"
#include "runtime/core/save_cell.h"
#include "tests/support/caf_test_system.h"

namespace weft {
namespace {

using detail::Claim;
using detail::SaveCell;
using detail::claim_cell;

Config core_config() {
  Config c;
  c.project = "test-entity/test-project";
  return c;
}

Value child(int i) { return make_object("Child", {{"i", Value::integer(i)}}); }
std::string uri(int i) { return "weave:///test-entity/test-project/object/Child:d" + std::to_string(i); }
// The test URIs are plain ASCII without quotes or backslashes: their JSON is just quoted.
std::string json_str(const std::string& s) { return "\"" + s + "\""; }

class DependenciesTest : public ::testing::Test {
 protected:
  // The next (child_atom, slot), or nullopt if none arrives within 30 s (a failure, not
  // a synchronisation: every test resolves the cell before it receives).
  std::optional<uint32_t> next_slot() {
    std::optional<uint32_t> out;
    self_->receive([&](msg::child_atom, uint32_t slot) { out = slot; },
                   caf::after(std::chrono::seconds(30)) >> [] {});
    return out;
  }
  // The (child_atom, slot) already waiting, if any, without waiting. Waiters notify
  // synchronously inside resolve()/fail(), so anything that would arrive is already there.
  std::optional<uint32_t> poll_slot() {
    std::optional<uint32_t> out;
    self_->receive([&](msg::child_atom, uint32_t slot) { out = slot; },
                   caf::after(std::chrono::seconds(0)) >> [] {});
    return out;
  }
  bool mailbox_empty() { return !poll_slot().has_value(); }
  int64_t parents_waiting() const { return core_.metrics.parents_waiting.load(); }
  int64_t pending_dependencies() const { return core_.metrics.pending_dependencies.load(); }

  caf::actor_system_config cfg_{testing::sharing_system_config(2)};
  caf::actor_system sys_{cfg_};
  RuntimeCore core_{core_config(), nullptr};  // the store writer is never started
  WorkToken token_ = core_.tracker.acquire_unbounded();
  caf::scoped_actor self_{sys_};
};

TEST_F(DependenciesTest, NoChildrenIsCompleteAtOnce) {
  Value parent = make_object(
      "Parent", {{"a", Value::integer(1)},
                 {"b", Value::list({Value::string("x"), Value::dict({{"k", Value::null()}})})},
                 {"c", Value::dict({{"n", Value::number(1.5)}})}});
  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  EXPECT_EQ(deps.pending(), 0u);
  EXPECT_FALSE(deps.failed());
  EXPECT_TRUE(deps.ref_uris().empty());
  EXPECT_EQ(deps.describe_pending(), "0 of 0 children ()");
  EXPECT_EQ(parents_waiting(), 0);
  EXPECT_EQ(pending_dependencies(), 0);
  EXPECT_EQ(core_.tracker.outstanding(), 1);  // token_ only: nothing pinned
  EXPECT_TRUE(mailbox_empty());
  // The parent itself is not met: its cell is still unclaimed.
  EXPECT_TRUE(claim_cell(parent, core_.runtime_id).owner);

  // Nor are an Op's or a scalar table's contents children.
  const Value op_parent = make_op("f", "def f(): ...\n");
  Dependencies op_deps(&core_, self_.ptr(), &token_);
  op_deps.visit_contents(op_parent);
  EXPECT_EQ(op_deps.pending(), 0u);
  const Value table_parent = make_table({Value::dict({{"a", Value::integer(1)}})});
  Dependencies table_deps(&core_, self_.ptr(), &token_);
  table_deps.visit_contents(table_parent);
  EXPECT_EQ(table_deps.pending(), 0u);
}

TEST_F(DependenciesTest, TheSameInstanceTwiceInOneParentTakesOneSlot) {
  Value c = child(1);
  Claim owner = claim_cell(c, core_.runtime_id);
  ASSERT_TRUE(owner.owner);
  Value parent = make_object(
      "Parent", {{"a", c},
                 {"b", c},
                 {"l", Value::list({c, Value::dict({{"deep", Value::list({c})}})})}});

  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  EXPECT_EQ(deps.pending(), 1u);
  EXPECT_EQ(owner.cell->refs.load(), 3u);  // node, our claim, one slot (not four)
  EXPECT_EQ(parents_waiting(), 1);
  EXPECT_EQ(pending_dependencies(), 1);
  EXPECT_EQ(deps.describe_pending(), "1 of 1 children (Object 'Child')");
  EXPECT_TRUE(mailbox_empty());

  owner.cell->resolve(uri(1), "d1");
  std::optional<uint32_t> slot = next_slot();
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(*slot, 0u);
  EXPECT_TRUE(mailbox_empty());  // one waiter, one message
  EXPECT_TRUE(deps.on_resolved(*slot));
  EXPECT_EQ(deps.pending(), 0u);
  EXPECT_FALSE(deps.failed());
  EXPECT_EQ(parents_waiting(), 0);
  EXPECT_EQ(pending_dependencies(), 0);
  EXPECT_EQ(deps.ref_uris(), std::vector<std::string>{uri(1)});

  // Every occurrence is written as the one ref.
  std::string out;
  deps.write_child(c, out);
  EXPECT_EQ(out, json_str(uri(1)));
  Value same_children = Value::dict({{"a", c}, {"l", Value::list({c, c})}});
  EXPECT_EQ(canonical_json(same_children, &deps),
            "{\"a\": " + json_str(uri(1)) + ", \"l\": [" + json_str(uri(1)) + ", " +
                json_str(uri(1)) + "]}");

  // Someone else's child, not yet committed: our epoch is pinned until it is.
  EXPECT_EQ(core_.tracker.outstanding(), 2);
  owner.cell->mark_committed();
  EXPECT_EQ(core_.tracker.outstanding(), 1);
}

TEST_F(DependenciesTest, AlreadyResolvedChildrenAreCountedWithoutMessages) {
  std::vector<Value> kids = {child(0), child(1), child(2)};
  std::vector<Claim> claims;
  for (int i = 0; i < 3; ++i) {
    claims.push_back(claim_cell(kids[i], core_.runtime_id));
    ASSERT_TRUE(claims.back().owner);
    claims.back().cell->resolve(uri(i), "d" + std::to_string(i));
  }
  claims[1].cell->mark_committed();  // already written: nothing to pin
  Value parent = make_object("Parent", {{"a", kids[0]}, {"b", kids[1]}, {"c", kids[2]}});

  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  EXPECT_EQ(deps.pending(), 0u);
  EXPECT_FALSE(deps.failed());
  EXPECT_EQ(deps.ref_uris(), (std::vector<std::string>{uri(0), uri(1), uri(2)}));
  EXPECT_EQ(parents_waiting(), 0);
  EXPECT_EQ(pending_dependencies(), 0);
  EXPECT_TRUE(mailbox_empty());
  // The two uncommitted children pin our epoch; the committed one does not.
  EXPECT_EQ(core_.tracker.outstanding(), 3);
  claims[0].cell->mark_committed();
  claims[2].cell->mark_committed();
  EXPECT_EQ(core_.tracker.outstanding(), 1);
}

TEST_F(DependenciesTest, ResolvedAndPendingChildrenMixed) {
  Value done = child(0);
  Value waiting = child(1);
  Claim d = claim_cell(done, core_.runtime_id);
  Claim w = claim_cell(waiting, core_.runtime_id);
  d.cell->resolve(uri(0), "d0");
  const Value parent = make_object("Parent", {{"a", done}, {"b", waiting}});
  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  EXPECT_EQ(deps.pending(), 1u);
  EXPECT_EQ(deps.describe_pending(), "1 of 2 children (Object 'Child')");
  EXPECT_EQ(deps.ref_uris(), std::vector<std::string>{uri(0)});
  // A pending child is written as null, never as a dangling ref.
  std::string out;
  deps.write_child(waiting, out);
  EXPECT_EQ(out, "null");

  w.cell->resolve(uri(1), "d1");
  std::optional<uint32_t> slot = next_slot();
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(*slot, 1u);
  EXPECT_TRUE(deps.on_resolved(*slot));
  EXPECT_EQ(deps.ref_uris(), (std::vector<std::string>{uri(0), uri(1)}));
}

TEST_F(DependenciesTest, AFailedChildFailsTheParentWithItsError) {
  Value good = child(0);
  Value bad = child(1);
  Value worse = child(2);
  Claim g = claim_cell(good, core_.runtime_id);
  Claim b = claim_cell(bad, core_.runtime_id);
  Claim w = claim_cell(worse, core_.runtime_id);
  Value parent = make_object("Parent", {{"good", good}, {"bad", bad}, {"worse", worse}});
  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  ASSERT_EQ(deps.pending(), 3u);

  // The owners finish on another thread, as a child actor would.
  std::thread owners([&] {
    g.cell->resolve(uri(0), "d0");
    b.cell->fail("child 1: store rejected it");
    w.cell->fail("child 2: also broken");
  });
  owners.join();
  std::vector<uint32_t> slots;
  for (int i = 0; i < 3; ++i) {
    std::optional<uint32_t> s = next_slot();
    ASSERT_TRUE(s.has_value()) << i;
    slots.push_back(*s);
    EXPECT_EQ(deps.on_resolved(*s), i == 2);
  }
  EXPECT_EQ(slots, (std::vector<uint32_t>{0, 1, 2}));
  EXPECT_TRUE(deps.failed());
  EXPECT_EQ(deps.first_error(), "child 1: store rejected it");  // the first one settled
  EXPECT_EQ(deps.pending(), 0u);
  EXPECT_EQ(parents_waiting(), 0);
  EXPECT_EQ(pending_dependencies(), 0);
  EXPECT_EQ(deps.ref_uris(), std::vector<std::string>{uri(0)});
  std::string out;
  deps.write_child(bad, out);
  EXPECT_EQ(out, "null");
  // Only the good (uncommitted) child pins; failed cells never will be written.
  EXPECT_EQ(core_.tracker.outstanding(), 2);
  g.cell->mark_committed();
  EXPECT_EQ(core_.tracker.outstanding(), 1);
}

TEST_F(DependenciesTest, AChildThatFailedBeforeItWasMetFailsTheParentAtOnce) {
  Value bad = child(0);
  Claim b = claim_cell(bad, core_.runtime_id);
  b.cell->fail("gone");
  const Value parent = make_object("Parent", {{"x", Value::list({bad})}});
  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  EXPECT_EQ(deps.pending(), 0u);
  EXPECT_TRUE(deps.failed());
  EXPECT_EQ(deps.first_error(), "gone");
  EXPECT_TRUE(deps.ref_uris().empty());
  EXPECT_TRUE(mailbox_empty());
  EXPECT_EQ(core_.tracker.outstanding(), 1);
}

TEST_F(DependenciesTest, SlotsAreOffsetBySlotBaseAndStrayOrRepeatedSlotsAreIgnored) {
  Value a = child(0);
  Value b = child(1);
  Claim ca = claim_cell(a, core_.runtime_id);
  Claim cb = claim_cell(b, core_.runtime_id);
  const Value parent = make_object("Parent", {{"a", a}, {"b", b}});
  Dependencies deps(&core_, self_.ptr(), &token_, /*slot_base=*/100);
  deps.visit_contents(parent);
  ASSERT_EQ(deps.pending(), 2u);

  cb.cell->resolve(uri(1), "d1");
  std::optional<uint32_t> slot = next_slot();
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(*slot, 101u);
  EXPECT_FALSE(deps.on_resolved(*slot));
  EXPECT_EQ(deps.pending(), 1u);
  // The same slot again, a slot past the children, a slot below the base: no effect.
  EXPECT_FALSE(deps.on_resolved(101));
  EXPECT_FALSE(deps.on_resolved(102));
  EXPECT_FALSE(deps.on_resolved(5));
  EXPECT_EQ(deps.pending(), 1u);
  EXPECT_EQ(pending_dependencies(), 1);

  ca.cell->resolve(uri(0), "d0");
  slot = poll_slot();  // already delivered: resolve() notified before it returned
  ASSERT_TRUE(slot.has_value());
  EXPECT_EQ(*slot, 100u);
  EXPECT_TRUE(deps.on_resolved(*slot));
  EXPECT_EQ(deps.ref_uris(), (std::vector<std::string>{uri(0), uri(1)}));
}

TEST_F(DependenciesTest, ManyChildrenUseTheIndexAndStillDeduplicate) {
  // Past kLinearSearchLimit (8) children, lookups go through the index_ map: built when
  // the 9th child is met, extended after. Duplicates are placed right after the index is
  // built and at the end, so both paths must find them.
  constexpr int kChildren = 20;
  std::vector<Value> kids;
  std::vector<Claim> claims;
  for (int i = 0; i < kChildren; ++i) {
    kids.push_back(child(i));
    claims.push_back(claim_cell(kids.back(), core_.runtime_id));
    ASSERT_TRUE(claims.back().owner);
  }
  std::vector<DictEntry> fields;
  for (int i = 0; i < 9; ++i) fields.emplace_back("c" + std::to_string(i), kids[i]);
  fields.emplace_back("dup_early", kids[3]);
  fields.emplace_back("dup_ninth", kids[8]);
  for (int i = 9; i < kChildren; ++i) fields.emplace_back("c" + std::to_string(i), kids[i]);
  fields.emplace_back("dups", Value::list({kids[0], kids[7], kids[8], kids[9], kids[15], kids[19]}));
  Value parent = make_object("Parent", std::move(fields));

  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  EXPECT_EQ(deps.pending(), static_cast<size_t>(kChildren));
  EXPECT_EQ(pending_dependencies(), kChildren);
  EXPECT_EQ(parents_waiting(), 1);
  for (int i = 0; i < kChildren; ++i) EXPECT_EQ(claims[i].cell->refs.load(), 3u) << i;
  EXPECT_EQ(deps.describe_pending(),
            "20 of 20 children (Object 'Child', Object 'Child', Object 'Child', ...)");

  // Resolve last-first: each message names the child's first-met slot.
  for (int i = kChildren - 1; i >= 0; --i) {
    claims[i].cell->resolve(uri(i), "d" + std::to_string(i));
    std::optional<uint32_t> slot = next_slot();
    ASSERT_TRUE(slot.has_value()) << i;
    EXPECT_EQ(*slot, static_cast<uint32_t>(i));
    EXPECT_EQ(deps.on_resolved(*slot), i == 0);
  }
  EXPECT_TRUE(mailbox_empty());
  EXPECT_EQ(pending_dependencies(), 0);
  EXPECT_EQ(parents_waiting(), 0);

  std::vector<std::string> expected;
  for (int i = 0; i < kChildren; ++i) expected.push_back(uri(i));
  EXPECT_EQ(deps.ref_uris(), expected);
  for (int i = 0; i < kChildren; ++i) {
    std::string out;
    deps.write_child(kids[i], out);
    EXPECT_EQ(out, json_str(uri(i))) << i;
  }
  // An instance that is not a child of this parent is not found in the index either.
  std::string out;
  deps.write_child(child(99), out);
  EXPECT_EQ(out, "null");
}

TEST_F(DependenciesTest, DescribePendingNamesKindsAndTruncatesAfterThree) {
  Value obj = child(0);
  Value table = make_table({Value::dict({{"a", Value::integer(1)}})});
  Value op = make_op("predict", "def predict(x): ...\n");
  Value obj2 = make_object("Other", {{"z", Value::boolean(true)}});
  std::vector<Claim> claims;
  for (const Value* v : {&obj, &table, &op, &obj2}) claims.push_back(claim_cell(*v, core_.runtime_id));
  const Value parent = make_object("Parent", {{"o", obj}, {"t", table}, {"f", op}, {"o2", obj2}});
  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  ASSERT_EQ(deps.pending(), 4u);
  EXPECT_EQ(deps.describe_pending(), "4 of 4 children (Object 'Child', Table, Op 'predict', ...)");

  claims[0].cell->resolve(uri(0), "d0");
  std::optional<uint32_t> slot = next_slot();
  ASSERT_TRUE(slot.has_value());
  deps.on_resolved(*slot);
  EXPECT_EQ(deps.describe_pending(), "3 of 4 children (Table, Op 'predict', Object 'Other')");
  for (size_t i = 1; i < claims.size(); ++i) claims[i].cell->fail("stop");
  while (deps.pending() > 0) {
    slot = next_slot();
    ASSERT_TRUE(slot.has_value());
    deps.on_resolved(*slot);
  }
}

TEST_F(DependenciesTest, TableRowsAreWalkedForChildren) {
  Value c = child(0);
  Claim owner = claim_cell(c, core_.runtime_id);
  Value table = make_table({Value::dict({{"x", c}}), Value::dict({{"y", Value::list({c})}})});
  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(table);
  EXPECT_EQ(deps.pending(), 1u);
  owner.cell->resolve(uri(0), "d0");
  std::optional<uint32_t> slot = next_slot();
  ASSERT_TRUE(slot.has_value());
  EXPECT_TRUE(deps.on_resolved(*slot));
}

TEST_F(DependenciesTest, DestroyedWhileWaitingFixesTheMetrics) {
  Value a = child(0);
  Value b = child(1);
  Claim ca = claim_cell(a, core_.runtime_id);
  Claim cb = claim_cell(b, core_.runtime_id);
  {
    const Value parent = make_object("Parent", {{"a", a}, {"b", b}});
    Dependencies deps(&core_, self_.ptr(), &token_);
    deps.visit_contents(parent);
    EXPECT_EQ(parents_waiting(), 1);
    EXPECT_EQ(pending_dependencies(), 2);
  }
  EXPECT_EQ(parents_waiting(), 0);
  EXPECT_EQ(pending_dependencies(), 0);
  // The waiters outlive the parent's bookkeeping; resolving still just sends messages.
  ca.cell->resolve(uri(0), "d0");
  cb.cell->fail("late");
  EXPECT_TRUE(next_slot().has_value());
  EXPECT_TRUE(next_slot().has_value());
  EXPECT_TRUE(mailbox_empty());
}

TEST_F(DependenciesTest, BlobsAreNotChildrenButPinUntilCommitted) {
  auto bytes = std::make_shared<const std::string>("png bytes");
  Value blob = make_blob("PIL.Image.Image", {{"image.png", bytes}});
  Claim owner = claim_cell(blob, core_.runtime_id);  // someone else uploads it
  owner.cell->resolve({}, {});
  const Value parent = make_object("Parent", {{"img", blob}});
  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  EXPECT_EQ(deps.pending(), 0u);
  EXPECT_TRUE(deps.ref_uris().empty());
  EXPECT_EQ(core_.writer.queue_depth(), 0u);  // not ours to upload
  EXPECT_EQ(core_.tracker.outstanding(), 2);  // pinned until the upload commits
  owner.cell->mark_committed();
  EXPECT_EQ(core_.tracker.outstanding(), 1);
}

TEST_F(DependenciesTest, AnUnclaimedBlobWithoutFilesIsResolvedAndCommittedLocally) {
  Value blob = make_blob("Empty", {});
  const Value parent = make_object("Parent", {{"b", blob}, {"again", blob}});
  Dependencies deps(&core_, self_.ptr(), &token_);
  deps.visit_contents(parent);
  EXPECT_EQ(deps.pending(), 0u);
  EXPECT_EQ(core_.writer.queue_depth(), 0u);
  EXPECT_EQ(core_.tracker.outstanding(), 1);
  Claim later = claim_cell(blob, core_.runtime_id);
  EXPECT_FALSE(later.owner);  // claimed by deps
  EXPECT_EQ(later.cell->state(), SaveCell::State::kDone);
  // Committed: a later pin is refused.
  WorkToken t = core_.tracker.acquire_unbounded();
  EXPECT_FALSE(later.cell->pin_until_committed(std::move(t)));
}

}  // namespace
}  // namespace weft
