// weft::op: wraps a C++ callable so every call of it is traced, like Python's @weave.op
// and the TS SDK's weave.op(fn, {parameterNames}).
//
//   weft::Runtime rt(cfg);
//   auto retrieve = weft::op(rt, "retrieve", {"question"},
//                            [](const std::string& q) { return lookup(q); });
//   auto predict = weft::op(rt, "predict", {"question", "k"},
//                           [&](const std::string& q, int k) { return answer(retrieve(q), k); });
//   std::string a = predict("why?", 3);   // one call of predict, retrieve's call its child
//
// Each call of the wrapper:
//   1. converts every argument with weft::to_value (<weft/to_value.h>) into the inputs dict
//      {param name: value}, in parameter order;
//   2. starts a call (a weft::CallScope), so wrapped calls made inside become its children
//      and share its trace;
//   3. runs the callable with the arguments, forwarded as its parameters declare them;
//   4. finishes the call with to_value(result), or null for a void callable;
//   5. if an exception escapes (the callable's, or one from converting the result), records
//      it with its own demangled type and what() (weft::run_traced) and rethrows it.
// It returns the callable's own result, so wrapped functions compose as ordinary C++.
// Tracing never changes what the callable does: a call the runtime refuses (overload,
// shutdown) still runs the callable and returns its result.
//
// The wrapper's call operator takes exactly the callable's parameter types, so arguments
// convert as they would for the callable itself and the inputs record what it receives
// (an int passed to a double parameter is recorded as a float). That needs one signature:
// a function, a function pointer, or a class with one non-template operator() (a lambda
// with explicit parameter types). A generic lambda or an overloaded functor is refused at
// compile time.
//
// Parameter names: as many as the callable has parameters, non-empty and distinct. Given as
// a braced list, the count is checked at compile time; given in an OpInfo (a runtime
// vector), at wrap time with std::invalid_argument. A callable without parameters takes
// no list, or {}.
//
// The op Value (make_op(name, source)) is built once, at wrap time, and shared by every
// call: the runtime saves it once and every call's op_name is the same weave:/// ref.
// Source text: OpInfo::source when given, else a default naming the wrap site:
//
//   "# weft op <name>\n# defined at <file>:<line>\n"
//
// e.g. "# weft op predict\n# defined at examples/quickstart.cc:12\n", where <file> and
// <line> are std::source_location::current() at the weft::op call: <file> is the path as
// the compiler was given it (build with -fmacro-prefix-map=<source dir>/= for paths
// relative to the source tree, the same in every checkout). The op's digest, hence its
// version, is a function of this text: it is stable across builds and runs, and changes
// when the op's name changes or its weft::op call moves to another line or file. Pass
// source explicitly when the version should follow something else (the real source text).
//
// Lifetime and threads: the Runtime must outlive the wrapper. Calls may be made from any
// thread (nesting follows each thread's current call, see CallOptions for an explicit
// parent). Like std::function, the wrapper's operator() is const and does not serialise
// calls: a stateful (mutable) callable shared between threads is the caller's concern.
#pragma once

#include <weft/runtime.h>
#include <weft/to_value.h>

#include <cstddef>
#include <source_location>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace weft {

// What weft::op needs to know about an op. An aggregate, so designated initializers work
// when every field is given; GCC 12's -Wextra warns when one is skipped, hence the
// builders:   weft::OpInfo::named("predict", {"question", "k"}).with_source("...")
struct OpInfo {
  std::string name;
  std::vector<std::string> params;  // one per parameter of the callable, in order
  std::string source;               // "" -> the default above, naming the wrap site

  static OpInfo named(std::string name, std::vector<std::string> params = {}) {
    OpInfo info;
    info.name = std::move(name);
    info.params = std::move(params);
    return info;
  }
  OpInfo with_source(std::string text) && {
    source = std::move(text);
    return std::move(*this);
  }
};

// The wrapper weft::op returns. F: the callable (decayed); Signature: R(Params...) as the
// callable declares it. Copyable when F is.
template <class F, class Signature>
class Op;

template <class F, class R, class... Params>
class Op<F, R(Params...)> {
 public:
  using result_type = R;
  static constexpr std::size_t arity = sizeof...(Params);

  // Use weft::op. Throws std::invalid_argument for an empty name or parameter names that
  // are not exactly `arity` non-empty distinct strings.
  Op(Runtime& rt, OpInfo info, F fn, std::source_location where);

  // A traced call (steps 1-5 above).
  R operator()(Params... args) const;
  // The same with call options: display name, attributes, an explicit parent or a new trace.
  R call_with(CallOptions options, Params... args) const;

  // The op Value every call records (identity shared by all calls).
  const Value& op_value() const { return op_; }
  const std::string& name() const;
  const std::vector<std::string>& params() const { return params_; }

 private:
  R call(CallOptions options, Params&&... args) const;
  template <std::size_t... I>
  Value inputs(std::index_sequence<I...>, const std::remove_reference_t<Params>&... args) const;

  Runtime* rt_;
  Value op_;
  std::vector<std::string> params_;
  mutable F fn_;  // mutable as in std::function: a mutable lambda is still callable
};

// Wraps fn as the op `name` with parameter names given as a braced list: the count must
// equal fn's arity (checked at compile time).
template <class F, std::size_t N>
auto op(Runtime& rt, std::string name, const std::string_view (&params)[N], F&& fn,
        std::source_location where = std::source_location::current());

// Wraps fn, which takes no parameters: op(rt, "name", fn) or op(rt, "name", {}, fn).
template <class F>
auto op(Runtime& rt, std::string name, F&& fn,
        std::source_location where = std::source_location::current());
namespace detail {
struct NoParams {};
}  // namespace detail
template <class F>
auto op(Runtime& rt, std::string name, detail::NoParams, F&& fn,
        std::source_location where = std::source_location::current());

// Wraps fn with everything in an OpInfo (names from a runtime list, explicit source): the
// name count is checked at wrap time (std::invalid_argument).
template <class F>
auto op(Runtime& rt, OpInfo info, F&& fn,
        std::source_location where = std::source_location::current());

}  // namespace weft

#include <weft/detail/op_inl.h>
