// Dependencies: the children a parent (object, table or call actor) must hear from before
// it can write itself, and the ChildWriter that writes them as refs.
//
// visit() walks a value down to its saveable children (Objects, Tables, Ops), never into
// them: each actor walks only its own layer. Each distinct child instance is *met* once:
// if nobody has claimed its cell, this parent claims it and spawns the child's actor; else
// it subscribes. Either way the parent is told (child_atom, slot) when the digest is known,
// and counts. Blobs are hashed here and their files uploaded once (by whoever claims them).
#pragma once

#include <caf/fwd.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include <weft/json.h>
#include <weft/value.h>

#include "runtime/core/save_cell.h"
#include "runtime/core/work_tracker.h"

namespace weft {

class RuntimeCore;

class Dependencies final : public ChildWriter {
 public:
  // Children are reported to `self` as (child_atom, slot_base + index). Work spawned for
  // children derives from `token` (same flush epoch).
  Dependencies(RuntimeCore* core, caf::local_actor* self, const WorkToken* token,
               uint32_t slot_base = 0);
  ~Dependencies() override;  // an actor stopped while waiting: fix the metrics
  Dependencies(const Dependencies&) = delete;
  Dependencies& operator=(const Dependencies&) = delete;

  // Meets v's children: v's own fields, items, entries or rows are walked; v itself is
  // not met even if it is an Object (the caller is saving it).
  void visit_contents(const Value& v);
  // Meets v, or its children if v is a plain container.
  void visit(const Value& v);

  // A (child_atom, slot) arrived. Returns true when nothing is pending any more.
  bool on_resolved(uint32_t slot);
  size_t pending() const { return pending_; }
  bool failed() const { return !first_error_.empty(); }
  const std::string& first_error() const { return first_error_; }
  // Ref URIs of the children, in first-met order.
  std::vector<std::string> ref_uris() const;
  // What is still pending, for error messages: "2 children (Object 'usage', Table)".
  std::string describe_pending() const;

  void write_child(const Value& child, std::string& out) override;

 private:
  struct Child {
    detail::CellRef cell;
    const Value* value;  // points into the parent's (immutable, kept alive) value
    bool done = false;
    bool owned = false;
  };
  void meet(const Value& child);
  void meet_blob(const Value& blob);
  void settle(Child& c);
  int find(const detail::Node* node) const;

  RuntimeCore* core_;
  caf::local_actor* self_;
  const WorkToken* token_;
  uint32_t slot_base_;
  std::vector<Child> children_;
  std::unordered_map<const detail::Node*, uint32_t> index_;  // used past a few children
  size_t pending_ = 0;
  std::string first_error_;
  // visit()'s stack: the bottom kInlineStack entries in place, the rest (wide or deep
  // values) in the vector above them, so a small value's walk allocates nothing.
  static constexpr size_t kInlineStack = 16;
  std::array<const Value*, kInlineStack> inline_stack_{};
  std::vector<const Value*> stack_;
};

}  // namespace weft
