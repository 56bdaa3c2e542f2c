// SavedRef: a handle on a value's digest cell. Reading it is a few atomic loads; on_ready
// subscribes a continuation to the cell (runtime/core/save_cell.h), it never waits.
#include <weft/saved_ref.h>

#include <algorithm>
#include <thread>

#include "runtime/core/runtime_impl.h"
#include "runtime/core/save_cell.h"

namespace weft {

struct SavedRef::State {
  detail::CellRef cell;
};

namespace {

class FunctionWaiter final : public detail::Waiter {
 public:
  FunctionWaiter(std::function<void(const SavedRef&)> fn, SavedRef ref)
      : fn_(std::move(fn)), ref_(std::move(ref)) {}
  void notify(detail::SaveCell&) override { fn_(ref_); }

 private:
  std::function<void(const SavedRef&)> fn_;
  SavedRef ref_;
};

}  // namespace

bool SavedRef::ready() const { return state_ && state_->cell->resolved(); }
bool SavedRef::ok() const {
  return state_ && state_->cell->state() == detail::SaveCell::State::kDone;
}
std::string SavedRef::uri() const { return ok() ? state_->cell->ref_uri() : std::string(); }
std::string SavedRef::digest() const { return ok() ? state_->cell->digest() : std::string(); }
std::string SavedRef::error() const {
  if (!state_) return "not a saved value";
  return state_->cell->state() == detail::SaveCell::State::kFailed ? state_->cell->error()
                                                                   : std::string();
}

void SavedRef::on_ready(std::function<void(const SavedRef&)> fn) const {
  if (!state_) return;
  auto* w = new FunctionWaiter(std::move(fn), *this);
  if (!state_->cell->subscribe(w)) {
    w->notify(*state_->cell);
    delete w;
  }
}

bool SavedRef::wait(std::chrono::milliseconds timeout) const {
  // Application code only (documented): polls with a capped back-off.
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(1);
  while (!ready()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
  return true;
}

SavedRef detail::RuntimeImpl::saved_ref(detail::CellRef cell) {
  auto st = std::make_shared<SavedRef::State>();
  st->cell = std::move(cell);
  return SavedRef(std::move(st));
}

}  // namespace weft
