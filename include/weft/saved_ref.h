// weft::SavedRef: the handle Runtime::save returns; the digest and ref arrive later.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace weft {

namespace detail {
struct RuntimeImpl;
}  // namespace detail

// A value being saved. Its digest and ref arrive later; nothing here blocks except wait(),
// which exists for application code only (never call it from a weft callback).
class SavedRef {
 public:
  SavedRef() = default;
  // True once the digest is known (or the save failed: see error()).
  bool ready() const;
  bool ok() const;                // ready() and no error
  std::string uri() const;        // "" until ready
  std::string digest() const;     // "" until ready
  std::string error() const;      // "" unless failed
  // Runs fn once the result is known: at once on this thread if it already is, else on a
  // runtime thread (keep it short and non-blocking).
  void on_ready(std::function<void(const SavedRef&)> fn) const;
  // Application code only: polls until ready or the deadline. Returns ready().
  bool wait(std::chrono::milliseconds timeout) const;


 private:
  friend struct detail::RuntimeImpl;  // the runtime builds SavedRefs from its digest cells
  struct State;
  explicit SavedRef(std::shared_ptr<State> state) : state_(std::move(state)) {}
  std::shared_ptr<State> state_;
};

}  // namespace weft
