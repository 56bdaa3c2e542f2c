// Calls: Call (finish / fail hand a CallEndEvent to the runtime's queue), CallScope (the
// thread's current-call stack, which makes nested calls children) and the demangler that
// run_traced uses for an exception's own type name.
#include <weft/call.h>

#include <cxxabi.h>

#include <cstdlib>
#include <exception>
#include <vector>

#include <weft/runtime.h>

#include "runtime/core/runtime_impl.h"

namespace weft {

namespace {
thread_local std::vector<const Call*> t_current_calls;
}  // namespace

const Call* current_call() { return t_current_calls.empty() ? nullptr : t_current_calls.back(); }

Call::Call(Call&& o) noexcept
    : rt_(o.rt_), id_(o.id_), trace_id_(o.trace_id_), finished_(o.finished_) {
  o.rt_ = nullptr;
}

Call& Call::operator=(Call&& o) noexcept {
  rt_ = o.rt_;
  id_ = o.id_;
  trace_id_ = o.trace_id_;
  finished_ = o.finished_;
  o.rt_ = nullptr;
  return *this;
}

namespace {
Status end_call(detail::RuntimeImpl& d, CallEndEvent&& ev) {
  detail::ProducerSlot* slot = d.enter();
  if (slot == nullptr) {
    d.refuse(EventKind::kCallEnd, RefusedBecause::kShutDown, "finish refused: the runtime is shut down");
    return Status::cancelled("finish: the runtime is shut down; this call's end is not recorded");
  }
  // An end is never refused for load: dropping it would leave its call open for ever. Its
  // bytes still count against max_memory_bytes, so new starts are refused instead.
  WorkToken token = d.core.tracker.acquire_forced(detail::kEventOverheadBytes + 2 * ev.output.approx_bytes());
  bool queued = d.enqueue(slot, Event{std::move(ev), std::move(token)}, EventKind::kCallEnd);
  detail::RuntimeImpl::leave(slot);
  if (!queued) return Status::resource_exhausted("finish: the hand-off queue could not allocate memory (reported)");
  return Status::ok();
}
}  // namespace

Status Call::finish(Value output) {
  if (rt_ == nullptr) return Status::failed_precondition("finish: this call was not recorded (refused at start)");
  if (finished_) return Status::failed_precondition("finish: call " + id_.str() + " already finished");
  finished_ = true;
  CallEndEvent ev;
  ev.id = id_;
  ev.output = std::move(output);
  ev.ended_at_us = now_unix_micros();
  return end_call(*rt_->impl_, std::move(ev));
}

Status Call::fail(std::string type, std::string message, Value output) {
  if (rt_ == nullptr) return Status::failed_precondition("fail: this call was not recorded (refused at start)");
  if (finished_) return Status::failed_precondition("fail: call " + id_.str() + " already finished");
  finished_ = true;
  CallEndEvent ev;
  ev.id = id_;
  ev.output = std::move(output);
  ev.exception.reset(new ExceptionInfo{std::move(type), std::move(message)});
  ev.ended_at_us = now_unix_micros();
  return end_call(*rt_->impl_, std::move(ev));
}

// ---------------------------------------------------------------- CallScope

CallScope::CallScope(Runtime& rt, const Value& op, Value inputs, CallOptions options)
    : call_(rt.start_call(op, std::move(inputs), std::move(options))),
      uncaught_at_start_(std::uncaught_exceptions()) {
  if (call_.recorded()) {
    t_current_calls.push_back(&call_);
    pushed_ = true;
  }
}

CallScope::~CallScope() {
  if (pushed_) {
    // Scopes nest, so ours is on top unless the application interleaved them by hand.
    for (auto it = t_current_calls.rbegin(); it != t_current_calls.rend(); ++it)
      if (*it == &call_) {
        t_current_calls.erase(std::next(it).base());
        break;
      }
  }
  if (call_.recorded() && !call_.finished()) {
    if (std::uncaught_exceptions() > uncaught_at_start_)
      call_.fail("Exception", "an exception unwound the call's scope");
    else
      call_.fail("CallNotFinished", "the call's scope ended without finish()");
  }
}

namespace detail {
std::string demangled_type_name(const std::type_info& t) {
  int status = 0;
  char* name = abi::__cxa_demangle(t.name(), nullptr, nullptr, &status);
  std::string out = (status == 0 && name != nullptr) ? name : t.name();
  std::free(name);
  return out;
}
}  // namespace detail

}  // namespace weft
