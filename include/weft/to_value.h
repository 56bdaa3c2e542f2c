// weft::to_value: the one customization point that turns a C++ value into a weft::Value.
//
//   weft::Value v = weft::to_value(std::vector<int>{1, 2, 3});       // [1, 2, 3]
//
// Built in:
//   bool                          -> bool (never an integer)
//   integer types                 -> integer; unsigned values above INT64_MAX become exact
//                                    big integers (Value::big_integer of the decimal text).
//                                    Plain char, wchar_t and char8/16/32_t are refused: a
//                                    letter or a number? Convert them explicitly.
//                                    (signed/unsigned char, i.e. int8_t/uint8_t, are integers.)
//   float, double, long double    -> float (long double is narrowed to double)
//   std::string, std::string_view, const char*, char*, char[N]
//                                 -> string (UTF-8 expected, as Value::string requires;
//                                    a null const char* -> null; char[N] stops at the first NUL)
//   std::nullptr_t, std::nullopt  -> null
//   std::optional<T>              -> null or to_value(*opt)
//   std::vector<T>, std::array<T, N>, T[N]
//                                 -> list
//   std::map<std::string, T>      -> dict, in the map's key order
//   std::unordered_map<std::string, T>
//                                 -> dict with keys sorted (byte-wise): hash order differs
//                                    between runs and libraries, and a dict keeps insertion
//                                    order, so sorting is what makes the output deterministic
//   weft::Value                   -> itself (a shared handle: no copy of the data)
//
// User types, any one of (looked up in this order):
//   1. a specialization   template <> struct weft::ValueTraits<T> {
//                           static weft::Value to_value(const T&); };
//   2. a free function    weft::Value to_value(const T&);   in T's namespace (found by ADL)
//   3. for a plain struct, WEFT_OBJECT(T, field1, field2, ...) at namespace scope after it,
//      in T's namespace: defines (2) as a Weave Object of class "T" whose fields are
//      weft::to_value of the members, in the order listed. Any number of fields.
//
// weft::to_value is a function object (the std::ranges customization point pattern): a
// call of it always goes through the dispatch above. In your own to_value, convert members
// with weft::to_value, qualified: an unqualified to_value(member) in your namespace would
// see only your overloads (ADL on std::string, int, ... never reaches weft).
//
// weft::ToValue<T> says whether T converts. Converting a type that does not fails with one
// static_assert naming the ways to add it.
#pragma once

#include <weft/value.h>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace weft {

// Specialize for your type: static Value to_value(const T&). The primary is empty.
template <class T>
struct ValueTraits {};

namespace detail {

template <class T>
concept HasValueTraits = requires(const T& v) {
  { ValueTraits<T>::to_value(v) } -> std::convertible_to<Value>;
};

// A namespace of its own, so the unqualified call below sees the deleted poison pill (which
// hides weft::to_value, the object) plus whatever ADL finds in the argument's namespaces.
namespace to_value_adl {
void to_value() = delete;

template <class T>
concept HasAdlToValue = requires(const T& v) {
  { to_value(v) } -> std::convertible_to<Value>;
};

template <class T>
Value call_adl(const T& v) {
  return to_value(v);
}
}  // namespace to_value_adl

}  // namespace detail

template <class T>
concept ToValue = detail::HasValueTraits<std::remove_cvref_t<T>> ||
                  detail::to_value_adl::HasAdlToValue<std::remove_cvref_t<T>>;

namespace detail {
struct ToValueFn {
  template <class T>
  Value operator()(const T& v) const {
    if constexpr (HasValueTraits<T>) {
      return ValueTraits<T>::to_value(v);
    } else if constexpr (to_value_adl::HasAdlToValue<T>) {
      return to_value_adl::call_adl(v);
    } else {
      static_assert(ToValue<T>,
                    "weft::to_value: no conversion to weft::Value for this type (see the "
                    "'required from' lines for T). Add one: a free function "
                    "`weft::Value to_value(const T&)` in T's namespace, a specialization of "
                    "weft::ValueTraits<T> with `static weft::Value to_value(const T&)`, or "
                    "WEFT_OBJECT(T, field1, ...) after a plain struct. Built-in types are "
                    "listed in <weft/to_value.h>.");
      return Value();
    }
  }
};

template <class T>
concept CharLike = std::same_as<T, char> || std::same_as<T, wchar_t> ||
                   std::same_as<T, char8_t> || std::same_as<T, char16_t> ||
                   std::same_as<T, char32_t>;

template <class T>
concept Integer = std::integral<T> && !std::same_as<T, bool> && !CharLike<T>;
}  // namespace detail

inline constexpr detail::ToValueFn to_value{};

// ---- built-in conversions ----

template <>
struct ValueTraits<Value> {
  static Value to_value(const Value& v) { return v; }
};

template <>
struct ValueTraits<bool> {
  static Value to_value(bool b) { return Value::boolean(b); }
};

template <detail::Integer T>
struct ValueTraits<T> {
  static Value to_value(T v) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(int64_t)) {
      if (v > static_cast<T>(std::numeric_limits<int64_t>::max()))
        return Value::big_integer(std::to_string(v));
    }
    return Value::integer(static_cast<int64_t>(v));
  }
};

template <std::floating_point T>
struct ValueTraits<T> {
  static Value to_value(T v) { return Value::number(static_cast<double>(v)); }
};

template <>
struct ValueTraits<std::string> {
  static Value to_value(const std::string& s) { return Value::string(s); }
};

template <>
struct ValueTraits<std::string_view> {
  static Value to_value(std::string_view s) { return Value::string(std::string(s)); }
};

template <>
struct ValueTraits<const char*> {
  static Value to_value(const char* s) { return s == nullptr ? Value() : Value::string(s); }
};

template <>
struct ValueTraits<char*> {
  static Value to_value(const char* s) { return ValueTraits<const char*>::to_value(s); }
};

// A string literal or char buffer. Not assumed NUL-terminated: stops at the first NUL or N.
template <std::size_t N>
struct ValueTraits<char[N]> {
  static Value to_value(const char (&s)[N]) {
    return Value::string(std::string(s, std::find(s, s + N, '\0')));
  }
};

template <>
struct ValueTraits<std::nullptr_t> {
  static Value to_value(std::nullptr_t) { return Value(); }
};

template <>
struct ValueTraits<std::nullopt_t> {
  static Value to_value(std::nullopt_t) { return Value(); }
};

template <ToValue T>
struct ValueTraits<std::optional<T>> {
  static Value to_value(const std::optional<T>& o) {
    return o.has_value() ? weft::to_value(*o) : Value();
  }
};

namespace detail {
template <class Range>
Value list_of(const Range& r) {
  std::vector<Value> items;
  items.reserve(std::size(r));
  for (const auto& e : r) items.push_back(weft::to_value(e));
  return Value::list(std::move(items));
}
}  // namespace detail

template <ToValue T, class Alloc>
struct ValueTraits<std::vector<T, Alloc>> {
  static Value to_value(const std::vector<T, Alloc>& v) { return detail::list_of(v); }
};

template <ToValue T, std::size_t N>
struct ValueTraits<std::array<T, N>> {
  static Value to_value(const std::array<T, N>& a) { return detail::list_of(a); }
};

template <ToValue T, std::size_t N>
struct ValueTraits<T[N]> {
  static Value to_value(const T (&a)[N]) { return detail::list_of(a); }
};

template <ToValue T, class Compare, class Alloc>
struct ValueTraits<std::map<std::string, T, Compare, Alloc>> {
  static Value to_value(const std::map<std::string, T, Compare, Alloc>& m) {
    std::vector<DictEntry> entries;
    entries.reserve(m.size());
    for (const auto& [k, v] : m) entries.emplace_back(k, weft::to_value(v));
    return Value::dict(std::move(entries));
  }
};

template <ToValue T, class Hash, class Eq, class Alloc>
struct ValueTraits<std::unordered_map<std::string, T, Hash, Eq, Alloc>> {
  static Value to_value(const std::unordered_map<std::string, T, Hash, Eq, Alloc>& m) {
    // Sorted keys: iteration order is unspecified, and it would leak into the digest.
    std::vector<const typename std::unordered_map<std::string, T, Hash, Eq, Alloc>::value_type*>
        sorted;
    sorted.reserve(m.size());
    for (const auto& kv : m) sorted.push_back(&kv);
    std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->first < b->first; });
    std::vector<DictEntry> entries;
    entries.reserve(sorted.size());
    for (const auto* kv : sorted) entries.emplace_back(kv->first, weft::to_value(kv->second));
    return Value::dict(std::move(entries));
  }
};

}  // namespace weft

// ---- WEFT_OBJECT(Type, field...) ----
//
// At namespace scope, in Type's namespace, after the struct (the members must be visible):
//
//   namespace app {
//   struct Answer { std::string text; double score; };
//   WEFT_OBJECT(Answer, text, score);
//   }
//
// defines `weft::Value to_value(const Answer&)` returning
//   weft::make_object("Answer", {{"text", weft::to_value(v.text)}, {"score", ...}})
// so an Answer in an op's inputs or output is saved as an Object and appears as a
// weave:/// ref. The class name is the macro argument as written: pass the unqualified name.
// A member named like a reserved field ("_type", "_class_name", "_bases") makes make_object
// throw std::invalid_argument at conversion. Not for class templates (write to_value).
//
// FOR_EACH by __VA_OPT__ recursion: each WEFT_DETAIL_EXPAND level rescans 4^4 = 256 times,
// far more fields than any struct needs, with no per-count boilerplate.
#define WEFT_DETAIL_PARENS ()
#define WEFT_DETAIL_EXPAND(...) \
  WEFT_DETAIL_EXPAND3(WEFT_DETAIL_EXPAND3(WEFT_DETAIL_EXPAND3(WEFT_DETAIL_EXPAND3(__VA_ARGS__))))
#define WEFT_DETAIL_EXPAND3(...) \
  WEFT_DETAIL_EXPAND2(WEFT_DETAIL_EXPAND2(WEFT_DETAIL_EXPAND2(WEFT_DETAIL_EXPAND2(__VA_ARGS__))))
#define WEFT_DETAIL_EXPAND2(...) \
  WEFT_DETAIL_EXPAND1(WEFT_DETAIL_EXPAND1(WEFT_DETAIL_EXPAND1(WEFT_DETAIL_EXPAND1(__VA_ARGS__))))
#define WEFT_DETAIL_EXPAND1(...) __VA_ARGS__
#define WEFT_DETAIL_FOR_EACH(macro, ...) \
  __VA_OPT__(WEFT_DETAIL_EXPAND(WEFT_DETAIL_FOR_EACH_STEP(macro, __VA_ARGS__)))
#define WEFT_DETAIL_FOR_EACH_STEP(macro, first, ...) \
  macro(first) __VA_OPT__(WEFT_DETAIL_FOR_EACH_AGAIN WEFT_DETAIL_PARENS(macro, __VA_ARGS__))
#define WEFT_DETAIL_FOR_EACH_AGAIN() WEFT_DETAIL_FOR_EACH_STEP

#define WEFT_DETAIL_OBJECT_FIELD(field) \
  ::weft::DictEntry{#field, ::weft::to_value(weft_object_.field)},

// Ends in a static_assert so that the `;` the user writes after the macro is not an empty
// declaration (-Wpedantic warns on a stray `;` after a function body).
#define WEFT_OBJECT(Type, ...)                                                              \
  inline ::weft::Value to_value([[maybe_unused]] const Type& weft_object_) {                \
    return ::weft::make_object(#Type, {WEFT_DETAIL_FOR_EACH(WEFT_DETAIL_OBJECT_FIELD,       \
                                                            __VA_ARGS__)});                 \
  }                                                                                         \
  static_assert(std::is_class_v<Type>, "WEFT_OBJECT(Type, fields...): Type must be a class")
