// The shared node behind a non-scalar weft::Value, and the one mutable slot on it.
//
// Values are immutable, but the runtime must recognise a second reference to an instance it
// is already saving (so the instance is saved once and the second parent subscribes). It
// does so by attaching something to the node the first time it meets it. The model layer
// knows only that an attachment exists and must be released with the node; what it is (the
// runtime's digest cell, runtime/core/save_cell.h) is the runtime's business.
#pragma once

#include <atomic>
#include <cstdint>

#include <weft/value.h>

namespace weft::detail {

class NodeAttachment {
 public:
  // Called once, by the node's destructor: drop the node's reference to the attachment.
  virtual void release_from_node() noexcept = 0;

 protected:
  ~NodeAttachment() = default;  // owned by its own reference count, never deleted through this
};

struct Node {
  explicit Node(ValueKind k) : kind(k) {}
  virtual ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  const ValueKind kind;
  uint64_t approx_bytes = 0;  // set by the concrete node's constructor (Value::approx_bytes)
  mutable std::atomic<NodeAttachment*> attachment{nullptr};
};

}  // namespace weft::detail
