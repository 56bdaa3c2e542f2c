// Implementation of weft::run_traced (included at the end of <weft/call.h>).
#pragma once

#include <exception>
#include <string>
#include <typeinfo>
#include <utility>

#include <weft/call.h>

namespace weft {
namespace detail {
std::string demangled_type_name(const std::type_info& t);
}  // namespace detail

template <class Fn>
Value run_traced(Runtime& rt, const Value& op, Value inputs, Fn&& fn, CallOptions options) {
  CallScope scope(rt, op, std::move(inputs), std::move(options));
  try {
    Value out = std::forward<Fn>(fn)();
    scope.finish(out);
    return out;
  } catch (const std::exception& e) {
    scope.fail(detail::demangled_type_name(typeid(e)), e.what());
    throw;
  } catch (...) {
    scope.fail("UnknownException", "a non-std::exception was thrown");
    throw;
  }
}

}  // namespace weft
