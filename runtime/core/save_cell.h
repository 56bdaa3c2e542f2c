// SaveCell: the digest of one saved instance, and who is waiting for it. Lock-free.
//
// The first party (a save, a call or a parent object) that meets an Object, Table, Op or
// Blob instance *claims* its cell (one CAS on the node's save_cell slot) and spawns the
// actor that computes the digest. Everyone else *subscribes*: their Waiter is pushed on a
// Treiber stack. When the owner resolves the cell, it closes the stack in one exchange and
// notifies every waiter; a subscriber that comes later finds the stack closed and reads
// the result directly. Nobody ever waits on a digest: waiters are continuations.
//
// The cell also knows whether its store write has committed. A subscriber from another
// flush epoch that learns a digest before that commit *pins* the cell with a WorkToken of
// its own epoch (see work_tracker.h): the pin is released at commit, so a flush never
// reports done while an object that a flushed parent refers to is still unwritten.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include <weft/value.h>

#include "runtime/core/work_tracker.h"
#include "runtime/model/value_node.h"

namespace weft {
namespace detail {

struct SaveCell;

// Someone waiting for a cell. notify() runs once, on the resolving thread, and then the
// cell deletes the waiter. It must be quick and must not block.
class Waiter {
 public:
  virtual ~Waiter() = default;
  virtual void notify(SaveCell& cell) = 0;
  Waiter* next = nullptr;
};

struct SaveCell final : NodeAttachment {
  enum class State : uint8_t { kPending, kDone, kFailed };

  explicit SaveCell(uint64_t runtime_id) : runtime_id(runtime_id) {}
  ~SaveCell();
  SaveCell(const SaveCell&) = delete;
  SaveCell& operator=(const SaveCell&) = delete;

  // Reference counting: the node holds one reference, and so does each party that keeps
  // the cell (the owning actor, a SavedRef, a store request).
  void retain() { refs.fetch_add(1, std::memory_order_relaxed); }
  void release() {
    if (refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
  // The node drops its reference on this cell and on the cells of other runtimes after it.
  void release_from_node() noexcept override {
    if (SaveCell* next = next_runtime.load(std::memory_order_acquire)) next->release_from_node();
    release();
  }

  // Pushes w unless the cell is resolved. Returns false (and leaves w with the caller)
  // when it is: the caller then reads the result directly.
  bool subscribe(Waiter* w);
  // Owner only, once: publish the result and notify every waiter.
  void resolve(std::string ref_uri, std::string digest);
  void fail(std::string error);

  State state() const { return state_.load(std::memory_order_acquire); }
  bool resolved() const { return state() != State::kPending; }
  // Valid once resolved() (the release/acquire pair on state_ publishes them).
  const std::string& ref_uri() const { return ref_uri_; }
  const std::string& digest() const { return digest_; }
  const std::string& error() const { return error_; }

  // Store side: the cell's write has committed (or failed for good). Releases pins.
  void mark_committed();
  // Keeps `token`'s epoch open until the cell's write commits. Returns false (and
  // leaves the token with the caller) if it already has.
  bool pin_until_committed(WorkToken&& token);

  const uint64_t runtime_id;
  std::atomic<uint32_t> refs{1};
  // The same instance's cell in the next runtime that met it (see claim_cell).
  std::atomic<SaveCell*> next_runtime{nullptr};

 private:
  void close_and_notify();

  std::atomic<State> state_{State::kPending};
  std::atomic<Waiter*> waiters_{nullptr};
  struct Pin;
  std::atomic<Pin*> pins_{nullptr};
  std::string ref_uri_;
  std::string digest_;
  std::string error_;
};

// An owning pointer to a cell.
class CellRef {
 public:
  CellRef() = default;
  explicit CellRef(SaveCell* c, bool adopt = false) : c_(c) {
    if (c_ && !adopt) c_->retain();
  }
  CellRef(const CellRef& o) : CellRef(o.c_) {}
  CellRef(CellRef&& o) noexcept : c_(o.c_) { o.c_ = nullptr; }
  CellRef& operator=(CellRef o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~CellRef() {
    if (c_) c_->release();
  }
  SaveCell* get() const { return c_; }
  SaveCell* operator->() const { return c_; }
  SaveCell& operator*() const { return *c_; }
  explicit operator bool() const { return c_ != nullptr; }

 private:
  SaveCell* c_ = nullptr;
};

// The outcome of meeting an instance: either this party now owns its cell (and must
// spawn the actor that resolves it), or someone else does.
struct Claim {
  CellRef cell;
  bool owner = false;
};

// Claims the cell of v's node for this runtime, or returns the existing one. A node already
// claimed by another runtime (another project) is not shared: the caller gets a private
// cell of its own to resolve.
Claim claim_cell(const Value& v, uint64_t runtime_id);

}  // namespace detail
}  // namespace weft
