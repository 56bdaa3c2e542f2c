// Floats as Python's repr(float) writes them, which is how json.dumps writes them
// (docs/COMPATIBILITY.md#canonical-json): the shortest digits that round-trip (the closest
// to the value when several are as short), positional for decimal exponents in [-4, 16)
// ("0.0001", "123.456", "1e+16" is the first that is not), else scientific with a sign and
// at least two exponent digits ("1e-05", "1.5e+16"); an integral value keeps ".0"; and the
// non-finite values as json.dumps prints them: NaN, Infinity, -Infinity.
//
// Internal to the library (runtime/, so not in include/weft/): the canonical writer calls
// put_float_repr on its raw output cursor; tests and benchmarks use append_float_repr.
#pragma once

#include <cstddef>
#include <string>

namespace weft {

// Appends repr(d) to out.
void append_float_repr(double d, std::string& out);

// The longest repr(float): "-2.2250738585072014e-308" (sign, 17 digits, point, exponent).
inline constexpr size_t kFloatReprMaxSize = 24;

// What put_float_repr needs at d: more than it writes, because it moves the digits with
// fixed-size copies that may run past the end of the text (the bytes beyond the returned
// cursor are scratch, for the caller to overwrite).
inline constexpr size_t kFloatReprRoom = 48;

// Writes repr(v) at d, which must have kFloatReprRoom writable bytes; returns the end of
// the text (at most kFloatReprMaxSize bytes after d).
char* put_float_repr(double v, char* d);

}  // namespace weft
