// JSON in and out of weft values.
//
// Writing: canonical JSON, byte-for-byte what Python's json.dumps(v, sort_keys=True) prints.
// Separators ", " and ": "; keys sorted by code point; strings escaped with lowercase
// \uXXXX for everything outside U+0020..U+007E (surrogate pairs above U+FFFF); floats as
// Python's repr (shortest round-trip digits, positional for decimal exponents in [-4, 16),
// else scientific with a signed, at-least-two-digit exponent); NaN, Infinity, -Infinity;
// integers of any size. The writer is iterative: nesting depth costs heap, never stack.
//
// Reading: parse_json accepts RFC 8259 JSON plus what Python's json module accepts and
// prints: the literals NaN, Infinity and -Infinity. Numbers with a fraction or exponent are
// floats (a float beyond the double range becomes +/-Infinity, as in Python); numbers
// without are integers of any size, kept exactly. Errors are values: invalid JSON gives the
// byte offset and the reason, invalid UTF-8 the offset of the first bad byte, and nesting
// deeper than max_depth a clean error (never a stack overflow).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <weft/status.h>
#include <weft/value.h>

namespace weft {

// How a parent writes what it refers to. The root value is always written in full (an
// Object root as its dict); Objects, Tables and Ops *below* the root are handed to
// write_child, which normally appends the child's ref URI as a JSON string. Every Blob
// (root or not) is reported to on_blob before being written inline, so the caller can
// upload its files.
class ChildWriter {
 public:
  virtual ~ChildWriter() = default;
  virtual void write_child(const Value& child, std::string& out) = 0;
  virtual void on_blob(const Value& blob) { (void)blob; }
};

// Appends the canonical JSON of v to out. Without a ChildWriter, children are inlined:
// an Object as its dict, a Table as the list of its rows, an Op as its CustomWeaveType dict.
void write_canonical_json(const Value& v, std::string& out, ChildWriter* children = nullptr);
std::string canonical_json(const Value& v, ChildWriter* children = nullptr);

inline constexpr size_t kDefaultMaxJsonDepth = 1000;

struct ParseOptions {
  size_t max_depth = kDefaultMaxJsonDepth;
};

// Parses exactly one JSON value (surrounding whitespace allowed). Error messages read
// "invalid JSON at byte 17: <reason>" / "invalid UTF-8 at byte 3" / "nesting deeper than
// 1000 at byte 1000".
Result<Value> parse_json(std::string_view text, const ParseOptions& options = {});

}  // namespace weft
