#include "actors/dependencies.h"

#include <caf/all.hpp>

#include <weft/digest.h>

#include "actors/spawn.h"
#include "messages/messages.h"
#include "runtime/model/json_escape.h"
#include "runtime/core/runtime_core.h"

namespace weft {

namespace {

// Tells an actor that a child's cell resolved. Runs on the resolving thread.
class ActorWaiter final : public detail::Waiter {
 public:
  ActorWaiter(caf::actor target, uint32_t slot) : target_(std::move(target)), slot_(slot) {}
  void notify(detail::SaveCell&) override {
    caf::anon_send(target_, msg::child_atom::value, slot_);
  }

 private:
  caf::actor target_;  // strong: a parent that waits must stay reachable
  uint32_t slot_;
};

constexpr size_t kLinearSearchLimit = 8;

}  // namespace

Dependencies::Dependencies(RuntimeCore* core, caf::local_actor* self, const WorkToken* token,
                           uint32_t slot_base)
    : core_(core), self_(self), token_(token), slot_base_(slot_base) {}

Dependencies::~Dependencies() {
  if (pending_ == 0) return;
  core_->metrics.parents_waiting.fetch_sub(1, std::memory_order_relaxed);
  core_->metrics.pending_dependencies.fetch_sub(static_cast<int64_t>(pending_), std::memory_order_relaxed);
}

int Dependencies::find(const detail::Node* node) const {
  if (children_.size() <= kLinearSearchLimit) {
    for (size_t i = 0; i < children_.size(); ++i)
      if (children_[i].value->node() == node) return static_cast<int>(i);
    return -1;
  }
  auto it = index_.find(node);
  return it == index_.end() ? -1 : static_cast<int>(it->second);
}

void Dependencies::visit_contents(const Value& v) {
  switch (v.kind()) {
    case ValueKind::kObject:
      for (const auto& f : v.object().fields) visit(f.second);
      break;
    case ValueKind::kTable:
      for (const auto& row : v.table().rows) visit(row);
      break;
    case ValueKind::kOp:
      break;
    default:
      visit(v);
  }
}

void Dependencies::visit(const Value& root) {
  // Iterative: plain containers may nest deeply. One LIFO stack, its bottom in place (the
  // order of the walk decides the order of the children, hence of the request's refs).
  size_t in_place = 0;
  stack_.clear();
  auto push = [&](const Value* v) {
    if (stack_.empty() && in_place < kInlineStack) {
      inline_stack_[in_place++] = v;
    } else {
      stack_.push_back(v);
    }
  };
  push(&root);
  while (in_place > 0 || !stack_.empty()) {
    const Value* v;
    if (!stack_.empty()) {
      v = stack_.back();
      stack_.pop_back();
    } else {
      v = inline_stack_[--in_place];
    }
    switch (v->kind()) {
      case ValueKind::kObject:
      case ValueKind::kTable:
      case ValueKind::kOp:
        meet(*v);
        break;
      case ValueKind::kBlob:
        meet_blob(*v);
        break;
      case ValueKind::kList:
        for (const auto& item : v->items()) push(&item);
        break;
      case ValueKind::kDict:
        for (const auto& e : v->entries()) push(&e.second);
        break;
      default:
        break;
    }
  }
}

void Dependencies::meet(const Value& child) {
  if (find(child.node()) >= 0) return;  // the same instance twice in one parent: one slot
  auto slot = static_cast<uint32_t>(children_.size());
  if (children_.empty()) children_.reserve(4);  // one allocation for the usual few children
  detail::Claim claim = detail::claim_cell(child, core_->runtime_id);
  children_.push_back(Child{claim.cell, &child, false, claim.owner});
  if (children_.size() > kLinearSearchLimit) {
    if (index_.empty())
      for (uint32_t i = 0; i < children_.size(); ++i) index_.emplace(children_[i].value->node(), i);
    else
      index_.emplace(child.node(), slot);
  }
  if (pending_++ == 0) core_->metrics.parents_waiting.fetch_add(1, std::memory_order_relaxed);
  core_->metrics.pending_dependencies.fetch_add(1, std::memory_order_relaxed);
  auto* waiter = new ActorWaiter(caf::actor_cast<caf::actor>(self_), slot_base_ + slot);
  if (!claim.cell->subscribe(waiter)) {
    delete waiter;  // already resolved: settle now, no message
    settle(children_.back());
  }
  if (claim.owner) {
    auto job = std::make_shared<ValueSave>(ValueSave{child, {}, claim.cell, token_->derive()});
    spawn_value_actor(self_->system(), core_, std::move(job));
  }
}

void Dependencies::settle(Child& c) {
  if (c.done) return;
  c.done = true;
  if (--pending_ == 0) core_->metrics.parents_waiting.fetch_sub(1, std::memory_order_relaxed);
  core_->metrics.pending_dependencies.fetch_sub(1, std::memory_order_relaxed);
  if (c.cell->state() == detail::SaveCell::State::kFailed) {
    if (first_error_.empty()) first_error_ = c.cell->error();
  } else if (!c.owned) {
    // Someone else's work, maybe in another flush epoch: keep our epoch open until its
    // write commits (a no-op if it already has).
    c.cell->pin_until_committed(token_->derive());
  }
}

bool Dependencies::on_resolved(uint32_t slot) {
  uint32_t i = slot - slot_base_;
  if (i < children_.size()) settle(children_[i]);
  return pending_ == 0;
}

void Dependencies::meet_blob(const Value& blob) {
  detail::Claim claim = detail::claim_cell(blob, core_->runtime_id);
  if (!claim.owner) {
    // Uploaded by someone else, maybe not yet committed: pin (no-op once it has).
    claim.cell->pin_until_committed(token_->derive());
    return;
  }
  // First to meet this blob: upload each file once. Digests are local: nobody waits.
  const auto& files = blob.blob().files;
  for (size_t i = 0; i < files.size(); ++i) {
    FileCreateRequest f{core_->project_id, file_digest(*files[i].bytes), files[i].name, files[i].bytes};
    // The last file's commit marks the blob committed (one producer: FIFO in the queue).
    core_->writer.submit(StoreItem{std::move(f), token_->derive(),
                                   i + 1 == files.size() ? claim.cell : detail::CellRef()});
  }
  claim.cell->resolve({}, {});
  if (files.empty()) claim.cell->mark_committed();
}

void Dependencies::write_child(const Value& child, std::string& out) {
  int i = find(child.node());
  if (i < 0 || !children_[i].done ||
      children_[i].cell->state() != detail::SaveCell::State::kDone) {
    out += "null";  // unresolved or failed (reported elsewhere): never a dangling ref
    return;
  }
  append_json_string(children_[i].cell->ref_uri(), out);
}

std::vector<std::string> Dependencies::ref_uris() const {
  std::vector<std::string> out;
  out.reserve(children_.size());
  for (const auto& c : children_)
    if (c.done && c.cell->state() == detail::SaveCell::State::kDone) out.push_back(c.cell->ref_uri());
  return out;
}

std::string Dependencies::describe_pending() const {
  std::string s = std::to_string(pending_) + " of " + std::to_string(children_.size()) + " children (";
  size_t shown = 0;
  for (const auto& c : children_) {
    if (c.done) continue;
    if (shown++ == 3) {
      s += ", ...";
      break;
    }
    if (shown > 1) s += ", ";
    s += kind_name(c.value->kind());
    if (c.value->kind() == ValueKind::kObject) s += " '" + c.value->object().class_name + "'";
    if (c.value->kind() == ValueKind::kOp) s += " '" + c.value->op().name + "'";
  }
  return s + ")";
}

}  // namespace weft
