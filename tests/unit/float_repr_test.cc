// Python's repr(float) (runtime/model/float_repr.h), tested directly. Every hard-coded
// expected string was printed by python3's json.dumps(x), which is repr(x) for finite
// floats: e.g. python3 -c 'import json; print(json.dumps(123456789012345680.0))'. For the
// non-finite values json.dumps prints NaN, Infinity and -Infinity (repr would print nan,
// inf, -inf); weft writes json.dumps's form, since that is what Weave hashes.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>

#include "runtime/model/float_repr.h"

namespace weft {
namespace {

std::string float_repr(double d) {
  std::string out;
  append_float_repr(d, out);
  return out;
}

TEST(FloatRepr, AsPythonPrintsThem) {
  const std::pair<double, const char*> cases[] = {
      {0.0, "0.0"},
      {-0.0, "-0.0"},
      {1.0, "1.0"},
      {-1.0, "-1.0"},
      {100.0, "100.0"},
      {0.1, "0.1"},
      {0.1 + 0.2, "0.30000000000000004"},
      {1.5, "1.5"},
      {-1.5, "-1.5"},
      {4.35, "4.35"},
      {123.456, "123.456"},
      {12345678.9, "12345678.9"},
      {1.0 / 3, "0.3333333333333333"},
      {2.0 / 3, "0.6666666666666666"},
      // The smallest subnormal, the smallest normal (and the subnormal just below it), the
      // largest finite double.
      {5e-324, "5e-324"},
      {-5e-324, "-5e-324"},
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {2.225073858507201e-308, "2.225073858507201e-308"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {-1.7976931348623157e308, "-1.7976931348623157e+308"},  // 24 bytes, the longest
      {1.7976931348623157e308 / 3, "5.992310449541053e+307"},
      // Positional below 1e16, scientific from it.
      {1e15, "1000000000000000.0"},
      {9007199254740992.0, "9007199254740992.0"},  // 2**53
      {9007199254740993.0, "9007199254740992.0"},  // rounds to 2**53
      {9007199254740994.0, "9007199254740994.0"},
      {9999999999999998.0, "9999999999999998.0"},
      {9999999999999999.0, "1e+16"},  // the double nearest is 1e16
      {1234567890123456.7, "1234567890123456.8"},
      {-1234567890123456.7, "-1234567890123456.8"},
      {123456789012345.6, "123456789012345.6"},
      {1e16, "1e+16"},
      {-1e16, "-1e+16"},
      {1.5e16, "1.5e+16"},
      {1e17, "1e+17"},
      {123456789012345680.0, "1.2345678901234568e+17"},
      {9223372036854775808.0, "9.223372036854776e+18"},    // 2**63
      {18446744073709551616.0, "1.8446744073709552e+19"},  // 2**64
      {1e21, "1e+21"},
      {1e22, "1e+22"},
      {1e23, "1e+23"},
      {1e100, "1e+100"},
      // Positional from 1e-4, scientific below it.
      {0.001, "0.001"},
      {0.0001, "0.0001"},
      {0.000123456789012345678, "0.00012345678901234567"},
      {-0.000123456789012345678, "-0.00012345678901234567"},
      {0.00009999999999999999, "9.999999999999999e-05"},
      {1e-5, "1e-05"},
      {0.00001234, "1.234e-05"},
      {2.5e-5, "2.5e-05"},
      {-2.5e-5, "-2.5e-05"},
      {1e-7, "1e-07"},
      {-1e-100, "-1e-100"},
      // json.dumps(float("nan")), json.dumps(float("inf")), json.dumps(float("-inf"))
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {-std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
  };
  for (const auto& [d, expected] : cases) EXPECT_EQ(float_repr(d), expected);
}

TEST(FloatRepr, AppendsWithoutTouchingWhatIsThere) {
  std::string out = "prefix:";
  append_float_repr(0.5, out);
  append_float_repr(-1e-7, out);
  EXPECT_EQ(out, "prefix:0.5-1e-07");
}

// Python's repr from std::to_chars's shortest digits (libstdc++ uses Ryu, and Python's
// repr picks the same digits). float_repr has its own, faster, shortest-digit search;
// this is the reference it must agree with.
std::string reference_repr(double d) {
  char buf[64];
  const char* last = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific).ptr;
  const char* e = std::find(static_cast<const char*>(buf), last, 'e');
  const int exp = std::stoi(std::string(e + 1, last));
  if (exp < -4 || exp >= 16) return std::string(static_cast<const char*>(buf), last);
  std::string sign = buf[0] == '-' ? "-" : "";
  std::string digits;
  for (const char* p = buf + sign.size(); p < e; ++p)
    if (*p != '.') digits += *p;
  if (exp < 0) return sign + "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  const size_t point = static_cast<size_t>(exp) + 1;
  if (digits.size() <= point) return sign + digits + std::string(point - digits.size(), '0') + ".0";
  return sign + digits.substr(0, point) + "." + digits.substr(point);
}

// put_float_repr with exactly kFloatReprRoom bytes: it must stay inside them and write at
// most kFloatReprMaxSize bytes of text.
std::string raw_repr(double d) {
  constexpr char kCanary = '\x5a';
  char buf[kFloatReprRoom + 16];
  std::memset(buf, kCanary, sizeof buf);
  const char* const end = put_float_repr(d, buf);
  for (size_t i = kFloatReprRoom; i < sizeof buf; ++i) {
    EXPECT_EQ(buf[i], kCanary) << "wrote past kFloatReprRoom for bits " << std::hex
                               << std::bit_cast<uint64_t>(d);
  }
  EXPECT_LE(static_cast<size_t>(end - buf), kFloatReprMaxSize);
  return std::string(static_cast<const char*>(buf), end);
}

TEST(FloatRepr, AgreesWithShortestRoundTripOnRandomBits) {
  std::mt19937_64 rng(20240611);
  auto check = [](uint64_t bits) {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) return;
    const std::string expected = reference_repr(d);
    ASSERT_EQ(float_repr(d), expected) << "bits " << std::hex << bits;
    ASSERT_EQ(raw_repr(d), expected) << "bits " << std::hex << bits;
  };
  for (int i = 0; i < 300000; ++i) check(rng());
  // Every binary exponent, at the edges of its significand range (powers of two have an
  // asymmetric rounding interval; subnormals have no hidden bit).
  for (uint64_t e = 0; e < 2047; ++e)
    for (uint64_t m :
         {uint64_t{0}, uint64_t{1}, uint64_t{2}, (uint64_t{1} << 52) - 1, uint64_t{1} << 51})
      check((e << 52) | m);
  // Short decimals and integers of every size.
  for (int i = 1; i < 20000; ++i) {
    check(std::bit_cast<uint64_t>(i / 1000.0));
    check(std::bit_cast<uint64_t>(static_cast<double>(i) * 1e15));
    check(std::bit_cast<uint64_t>(static_cast<double>(i) * 1e-300));
  }
}

TEST(FloatRepr, TheWidestWritesStayInTheRoom) {
  // Each output shape at its longest: 17 digits with the point after the 16th (the
  // widest write), 0.000ddd with 17 digits, scientific with a 3-digit exponent, and an
  // integral value just below 1e16; negative, for the extra sign byte.
  EXPECT_EQ(raw_repr(-1234567890123456.7), "-1234567890123456.8");
  EXPECT_EQ(raw_repr(-0.000123456789012345678), "-0.00012345678901234567");
  EXPECT_EQ(raw_repr(-1.7976931348623157e308), "-1.7976931348623157e+308");
  EXPECT_EQ(raw_repr(-2.2250738585072014e-308), "-2.2250738585072014e-308");
  EXPECT_EQ(raw_repr(-9999999999999998.0), "-9999999999999998.0");
  EXPECT_EQ(raw_repr(-std::numeric_limits<double>::infinity()), "-Infinity");
}

}  // namespace
}  // namespace weft
