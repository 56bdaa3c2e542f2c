// Implementation of weft::op and weft::Op (included by <weft/op.h>).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <source_location>
#include <stdexcept>
#include <string>
#include <utility>

#include <weft/op.h>

namespace weft {
namespace detail {

// R(Params...) of a callable, noexcept and the const of operator() dropped: the signature
// Op's call operator mirrors. No `type` for generic lambdas and overloaded functors.
template <class T>
struct FunctionSignature {};
template <class R, class... A, bool NoExcept>
struct FunctionSignature<R(A...) noexcept(NoExcept)> {
  using type = R(A...);
};
template <class R, class... A, bool NoExcept>
struct FunctionSignature<R (*)(A...) noexcept(NoExcept)> {
  using type = R(A...);
};

template <class T>
struct CallOperatorSignature {};
template <class C, class R, class... A, bool NoExcept>
struct CallOperatorSignature<R (C::*)(A...) noexcept(NoExcept)> {
  using type = R(A...);
};
template <class C, class R, class... A, bool NoExcept>
struct CallOperatorSignature<R (C::*)(A...) const noexcept(NoExcept)> {
  using type = R(A...);
};

template <class F>
struct Signature : FunctionSignature<F> {};
template <class F>
  requires requires { &F::operator(); }
struct Signature<F> : CallOperatorSignature<decltype(&F::operator())> {};

template <class F>
concept HasSignature = requires { typename Signature<F>::type; };

template <class P>
struct CheckOpParam {
  static_assert(ToValue<P>,
                "weft::op: a parameter type of the callable has no weft::to_value conversion "
                "(the type is in the 'required from' lines); see <weft/to_value.h> for the "
                "built-in types and how to add one");
  static constexpr bool ok = true;
};

template <class R>
struct CheckOpResult {
  static_assert(std::is_void_v<R> || ToValue<R>,
                "weft::op: the callable's result type has no weft::to_value conversion (the "
                "type is in the 'required from' lines); see <weft/to_value.h>");
  static constexpr bool ok = true;
};

// Holds the callable's result between the traced lambda and the return: a value, or the
// address of a returned reference (std::optional cannot hold references).
template <class R>
class ResultSlot {
 public:
  void set(R&& r) { v_.emplace(std::move(r)); }
  const R& get() const { return *v_; }
  R take() { return std::move(*v_); }

 private:
  std::optional<R> v_;
};
template <class R>
  requires std::is_reference_v<R>
class ResultSlot<R> {
 public:
  void set(R r) { p_ = std::addressof(r); }
  const std::remove_reference_t<R>& get() const { return *p_; }
  R take() { return static_cast<R>(*p_); }

 private:
  std::remove_reference_t<R>* p_ = nullptr;
};

inline std::string default_op_source(const std::string& name, const std::source_location& where) {
  return "# weft op " + name + "\n# defined at " + where.file_name() + ":" +
         std::to_string(where.line()) + "\n";
}

inline void check_op_params(const std::string& name, const std::vector<std::string>& params,
                            std::size_t arity) {
  if (name.empty()) throw std::invalid_argument("weft::op: empty op name");
  auto fail = [&name](const std::string& why) {
    throw std::invalid_argument("weft::op '" + name + "': " + why);
  };
  if (params.size() != arity)
    fail(std::to_string(params.size()) + " parameter names for a callable of " +
         std::to_string(arity) + " parameters");
  for (std::size_t i = 0; i < params.size(); ++i) {
    if (params[i].empty()) fail("parameter name " + std::to_string(i) + " is empty");
    for (std::size_t j = 0; j < i; ++j)
      if (params[j] == params[i]) fail("parameter name '" + params[i] + "' given twice");
  }
}

// Name count known at compile time (a braced list) or not (kNamesAtRuntime: OpInfo).
inline constexpr std::size_t kNamesAtRuntime = static_cast<std::size_t>(-1);

template <std::size_t kNames, class F>
auto wrap(Runtime& rt, OpInfo info, F&& fn, std::source_location where) {
  using D = std::decay_t<F>;
  if constexpr (!HasSignature<D>) {
    static_assert(HasSignature<D>,
                  "weft::op needs a callable with one signature: a function, a function "
                  "pointer, or a lambda/functor with one non-template operator(). Generic "
                  "lambdas (auto parameters) and overloaded functors cannot be wrapped: "
                  "wrap them in a lambda with explicit parameter types");
    return;
  } else {
    using Wrapper = Op<D, typename Signature<D>::type>;
    static_assert(kNames == kNamesAtRuntime || kNames == Wrapper::arity,
                  "weft::op: the number of parameter names must equal the callable's number "
                  "of parameters");
    return Wrapper(rt, std::move(info), std::forward<F>(fn), where);
  }
}

}  // namespace detail

template <class F, class R, class... Params>
Op<F, R(Params...)>::Op(Runtime& rt, OpInfo info, F fn, std::source_location where)
    : rt_(&rt), params_(std::move(info.params)), fn_(std::move(fn)) {
  static_assert((detail::CheckOpParam<Params>::ok && ...) && detail::CheckOpResult<R>::ok);
  detail::check_op_params(info.name, params_, arity);
  if (info.source.empty()) info.source = detail::default_op_source(info.name, where);
  op_ = make_op(std::move(info.name), std::move(info.source));
}

template <class F, class R, class... Params>
const std::string& Op<F, R(Params...)>::name() const {
  return op_.op().name;
}

template <class F, class R, class... Params>
template <std::size_t... I>
Value Op<F, R(Params...)>::inputs(std::index_sequence<I...>,
                                  const std::remove_reference_t<Params>&... args) const {
  std::vector<DictEntry> entries;
  entries.reserve(sizeof...(Params));
  (entries.emplace_back(params_[I], weft::to_value(args)), ...);
  return Value::dict(std::move(entries));
}

template <class F, class R, class... Params>
R Op<F, R(Params...)>::operator()(Params... args) const {
  return call(CallOptions(), std::forward<Params>(args)...);
}

template <class F, class R, class... Params>
R Op<F, R(Params...)>::call_with(CallOptions options, Params... args) const {
  return call(std::move(options), std::forward<Params>(args)...);
}

// The inputs are converted before the callable runs: it may move from its arguments.
template <class F, class R, class... Params>
R Op<F, R(Params...)>::call(CallOptions options, Params&&... args) const {
  Value in = inputs(std::index_sequence_for<Params...>{}, args...);
  if constexpr (std::is_void_v<R>) {
    run_traced(
        *rt_, op_, std::move(in),
        [&]() -> Value {
          std::invoke(fn_, std::forward<Params>(args)...);
          return Value();
        },
        std::move(options));
  } else {
    detail::ResultSlot<R> result;
    run_traced(
        *rt_, op_, std::move(in),
        [&]() -> Value {
          result.set(std::invoke(fn_, std::forward<Params>(args)...));
          return weft::to_value(result.get());
        },
        std::move(options));
    return result.take();
  }
}

template <class F, std::size_t N>
auto op(Runtime& rt, std::string name, const std::string_view (&params)[N], F&& fn,
        std::source_location where) {
  return detail::wrap<N>(
      rt, OpInfo::named(std::move(name), std::vector<std::string>(params, params + N)),
      std::forward<F>(fn), where);
}

template <class F>
auto op(Runtime& rt, std::string name, F&& fn, std::source_location where) {
  return detail::wrap<0>(rt, OpInfo::named(std::move(name)), std::forward<F>(fn), where);
}

template <class F>
auto op(Runtime& rt, std::string name, detail::NoParams, F&& fn, std::source_location where) {
  return detail::wrap<0>(rt, OpInfo::named(std::move(name)), std::forward<F>(fn), where);
}

template <class F>
auto op(Runtime& rt, OpInfo info, F&& fn, std::source_location where) {
  return detail::wrap<detail::kNamesAtRuntime>(rt, std::move(info), std::forward<F>(fn), where);
}

}  // namespace weft
