// Parsing JSON text into values (simdjson on-demand underneath).
//
// Accepts RFC 8259 JSON plus what Python's json module accepts and prints: the literals
// NaN, Infinity and -Infinity. Numbers with a fraction or exponent are floats (a float
// beyond the double range becomes +/-Infinity, as in Python); numbers without are integers
// of any size, kept exactly. Errors are values: invalid JSON gives the byte offset and
// the reason, invalid UTF-8 the offset of the first bad byte, and nesting deeper than
// max_depth a clean error (never a stack overflow).
#pragma once

#include <cstddef>
#include <string_view>

#include "runtime/status.h"
#include "runtime/value.h"

namespace weft {

inline constexpr size_t kDefaultMaxJsonDepth = 1000;

struct ParseOptions {
  size_t max_depth = kDefaultMaxJsonDepth;
};

// Parses exactly one JSON value (surrounding whitespace allowed). Error messages read
// "invalid JSON at byte 17: <reason>" / "invalid UTF-8 at byte 3" / "nesting deeper than
// 1000 at byte 1000".
Result<Value> parse_json(std::string_view text, const ParseOptions& options = {});

}  // namespace weft
