// Calls: weft::Call (a started call), CallOptions, CallScope (RAII: the current call of
// this thread) and run_traced (a scope that records an escaping exception's own type).
// For tracing a function once and calling it like any other, see <weft/op.h>.
#pragma once

#include <string>

#include <weft/ids.h>
#include <weft/status.h>
#include <weft/value.h>

namespace weft {

class Runtime;

// A started call. Move-only; finishing it twice is an error.
class Call {
 public:
  Call() = default;
  Call(Call&& o) noexcept;
  Call& operator=(Call&& o) noexcept;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Records the output and ends the call. Returns an error for a call that was refused
  // at start, or already finished.
  Status finish(Value output);
  // Ends the call with an exception: Weave's {"type", "message", "traceback"}.
  Status fail(std::string type, std::string message, Value output = Value());

  bool recorded() const { return rt_ != nullptr; }  // false if refused at start
  bool finished() const { return finished_; }
  const Uuid& id() const { return id_; }
  const Uuid& trace_id() const { return trace_id_; }

 private:
  friend class Runtime;
  friend class CallScope;
  Runtime* rt_ = nullptr;
  Uuid id_;
  Uuid trace_id_;
  bool finished_ = false;
};

struct CallOptions {
  std::string display_name;
  Value attributes;                // a dict, or null
  const Call* parent = nullptr;    // explicit parent (any thread); default: the current call
  bool root = false;               // ignore the current call: start a new trace

  // Shorthands (designated initializers that skip fields trip -Wextra in GCC 12).
  static CallOptions child_of(const Call& p) {
    CallOptions o;
    o.parent = &p;
    return o;
  }
  static CallOptions new_trace(std::string display_name = {}) {
    CallOptions o;
    o.root = true;
    o.display_name = std::move(display_name);
    return o;
  }
};

// RAII: starts a call and makes it the current call of this thread (nested calls started
// here become its children). If the scope is left without finish()/fail(), the call ends
// as failed: with the in-flight exception if one is unwinding ("type": "Exception", the
// message naming the op), else as "not finished". Use run_traced() to record the
// exception's own type and message.
class CallScope {
 public:
  CallScope(Runtime& rt, const Value& op, Value inputs, CallOptions options = {});
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  Status finish(Value output) { return call_.finish(std::move(output)); }
  Status fail(std::string type, std::string message) {
    return call_.fail(std::move(type), std::move(message));
  }
  Call& call() { return call_; }

 private:
  Call call_;
  int uncaught_at_start_;
  bool pushed_ = false;
};

// Runs fn inside a CallScope and records an exception escaping it with its own type name
// and what(), then rethrows. fn returns the call's output Value.
template <class Fn>
Value run_traced(Runtime& rt, const Value& op, Value inputs, Fn&& fn, CallOptions options = {});

// The current call of this thread (innermost CallScope), or nullptr.
const Call* current_call();

}  // namespace weft

#include <weft/detail/run_traced_inl.h>
