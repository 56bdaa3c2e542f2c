#include "runtime/core/save_cell.h"

#include "runtime/model/value_node.h"

namespace weft {
namespace detail {

namespace {
// Sentinel for "resolved/committed: no more pushes". Never dereferenced.
template <class T>
T* closed() {
  return reinterpret_cast<T*>(uintptr_t{1});
}
}  // namespace

struct SaveCell::Pin {
  WorkToken token;
  Pin* next = nullptr;
};

SaveCell::~SaveCell() {
  // Waiters still here were never notified: the owner vanished (runtime shut down with
  // work in flight). Free them; their parties are gone too.
  Waiter* w = waiters_.load(std::memory_order_acquire);
  while (w != nullptr && w != closed<Waiter>()) {
    Waiter* next = w->next;
    delete w;
    w = next;
  }
  Pin* p = pins_.load(std::memory_order_acquire);
  while (p != nullptr && p != closed<Pin>()) {
    Pin* next = p->next;
    delete p;
    p = next;
  }
}

bool SaveCell::subscribe(Waiter* w) {
  Waiter* head = waiters_.load(std::memory_order_acquire);
  do {
    if (head == closed<Waiter>()) return false;
    w->next = head;
  } while (!waiters_.compare_exchange_weak(head, w, std::memory_order_acq_rel,
                                           std::memory_order_acquire));
  return true;
}

void SaveCell::resolve(std::string ref_uri, std::string digest) {
  ref_uri_ = std::move(ref_uri);
  digest_ = std::move(digest);
  state_.store(State::kDone, std::memory_order_release);
  close_and_notify();
}

void SaveCell::fail(std::string error) {
  error_ = std::move(error);
  state_.store(State::kFailed, std::memory_order_release);
  close_and_notify();
  mark_committed();  // nothing will be written: release pins now
}

void SaveCell::close_and_notify() {
  Waiter* w = waiters_.exchange(closed<Waiter>(), std::memory_order_acq_rel);
  // The stack is newest-first; notify in subscription order. It is ours alone now (closed
  // to new subscribers), so it is reversed in place rather than copied.
  Waiter* oldest_first = nullptr;
  while (w != nullptr && w != closed<Waiter>()) {
    Waiter* next = w->next;
    w->next = oldest_first;
    oldest_first = w;
    w = next;
  }
  while (oldest_first != nullptr) {
    Waiter* next = oldest_first->next;
    oldest_first->notify(*this);
    delete oldest_first;
    oldest_first = next;
  }
}

bool SaveCell::pin_until_committed(WorkToken&& token) {
  Pin* head = pins_.load(std::memory_order_acquire);
  if (head == closed<Pin>()) return false;
  auto* pin = new Pin{std::move(token), nullptr};
  do {
    if (head == closed<Pin>()) {
      token = std::move(pin->token);
      delete pin;
      return false;
    }
    pin->next = head;
  } while (!pins_.compare_exchange_weak(head, pin, std::memory_order_acq_rel,
                                        std::memory_order_acquire));
  return true;
}

void SaveCell::mark_committed() {
  Pin* p = pins_.exchange(closed<Pin>(), std::memory_order_acq_rel);
  while (p != nullptr && p != closed<Pin>()) {
    Pin* next = p->next;
    delete p;  // releases the pinned token
    p = next;
  }
}

Claim claim_cell(const Value& v, uint64_t runtime_id) {
  const Node* node = v.node();
  auto* fresh = new SaveCell(runtime_id);
  // The node holds one cell per runtime that met it, in a list that only grows (a CAS on
  // the head slot, then on each cell's next_runtime): an instance shared by two runtimes
  // (an op defined once, used by each) is saved once per runtime, not once per use.
  NodeAttachment* attached = nullptr;
  if (node->attachment.compare_exchange_strong(attached, fresh, std::memory_order_acq_rel,
                                               std::memory_order_acquire)) {
    // The node keeps the reference `fresh` was born with; we take one more.
    return Claim{CellRef(fresh), true};
  }
  // Only the runtime attaches anything to a node, and only SaveCells.
  auto* cell = static_cast<SaveCell*>(attached);
  for (;;) {
    if (cell->runtime_id == runtime_id) {
      delete fresh;
      return Claim{CellRef(cell), false};
    }
    SaveCell* next = nullptr;
    if (cell->next_runtime.compare_exchange_strong(next, fresh, std::memory_order_acq_rel,
                                                   std::memory_order_acquire))
      return Claim{CellRef(fresh), true};  // the list keeps fresh's first reference
    cell = next;  // another runtime appended first: look at its cell
  }
}

}  // namespace detail
}  // namespace weft
