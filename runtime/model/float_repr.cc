// Python's repr(float) (see float_repr.h).
//
// The shortest digits that round-trip, closest to the value when several are as short:
// Raffaello Giulietti's Schubfach algorithm ("The Schubfach way to render doubles",
// 2020), in the 128-bit form of Alexander Bolz's Drachennest. std::to_chars computes the
// same digits (libstdc++ uses Ryu) at about three times the cost, and a float costs as
// much as a whole dict entry in the canonical writer: summaries and metrics are full of
// them.
#include "runtime/model/float_repr.h"

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "runtime/model/put_literal.h"

namespace weft {
namespace {

using detail::put_literal;

__extension__ using uint128 = unsigned __int128;  // GCC/Clang; -Wpedantic otherwise objects

struct Pow10 {
  uint64_t hi, lo;
};
constexpr int kMinPow10 = -292;
constexpr int kMaxPow10 = 324;

// A natural number in 32-bit limbs, little-endian: just the arithmetic needed to build
// the power-of-ten table.
struct BigNat {
  std::array<uint32_t, 36> limb{};  // 1152 bits; 10^324 needs 1077
  int size = 1;                     // limbs in use
  void mul10() {
    uint64_t carry = 0;
    for (int i = 0; i < size; ++i) {
      const uint64_t t = uint64_t{limb[i]} * 10 + carry;
      limb[i] = static_cast<uint32_t>(t);
      carry = t >> 32;
    }
    if (carry != 0) limb[size++] = static_cast<uint32_t>(carry);
  }
  int bit_length() const { return (size - 1) * 32 + 32 - std::countl_zero(limb[size - 1]); }
  bool bit(int i) const { return i >= 0 && ((limb[i / 32] >> (i % 32)) & 1) != 0; }
  void shl1() {
    uint32_t carry = 0;
    for (int i = 0; i < size; ++i) {
      const uint32_t next = limb[i] >> 31;
      limb[i] = (limb[i] << 1) | carry;
      carry = next;
    }
    if (carry != 0) limb[size++] = carry;
  }
  bool less(const BigNat& o) const {
    if (size != o.size) return size < o.size;
    for (int i = size - 1; i >= 0; --i)
      if (limb[i] != o.limb[i]) return limb[i] < o.limb[i];
    return false;
  }
  void sub(const BigNat& o) {  // REQUIRES: !less(o)
    int64_t borrow = 0;
    for (int i = 0; i < size; ++i) {
      const int64_t t = int64_t{limb[i]} - (i < o.size ? int64_t{o.limb[i]} : 0) - borrow;
      borrow = t < 0 ? 1 : 0;
      limb[i] = static_cast<uint32_t>(t + borrow * (int64_t{1} << 32));
    }
    while (size > 1 && limb[size - 1] == 0) --size;
  }
};

// g(k) = floor(beta) + 1, where 10^k = beta * 2^r with 2^127 <= beta < 2^128. Computed
// exactly, once, on first use (about a millisecond; as a constexpr it would cost seconds
// of compile time; as a literal table, 600 lines).
const std::array<Pow10, kMaxPow10 - kMinPow10 + 1>& pow10_table() {
  static const auto table = [] {
    std::array<Pow10, kMaxPow10 - kMinPow10 + 1> t{};
    auto set_bit = [](Pow10& g, int i) { (i >= 64 ? g.hi : g.lo) |= uint64_t{1} << (i % 64); };
    BigNat p;  // 10^k
    p.limb[0] = 1;
    for (int k = 0; k <= kMaxPow10; ++k, p.mul10()) {  // the top 128 bits of 10^k
      const int len = p.bit_length();
      for (int i = 0; i < 128; ++i)
        if (p.bit(len - 128 + i)) set_bit(t[k - kMinPow10], i);
    }
    p = BigNat{};
    p.limb[0] = 10;  // 10^-k
    for (int k = -1; k >= kMinPow10; --k, p.mul10()) {
      // floor(2^(len + 127) / 10^-k) by binary long division: exactly 128 quotient bits.
      const int len = p.bit_length();
      BigNat r;  // 2^(len - 1), the remainder once the quotient's leading zeros are done
      r.size = (len - 1) / 32 + 1;
      r.limb[r.size - 1] = uint32_t{1} << ((len - 1) % 32);
      for (int i = 127; i >= 0; --i) {
        r.shl1();
        if (!r.less(p)) {
          r.sub(p);
          set_bit(t[k - kMinPow10], i);
        }
      }
    }
    for (Pow10& g : t) {
      g.lo += 1;
      g.hi += g.lo == 0 ? 1 : 0;
    }
    return t;
  }();
  return table;
}

// floor(g * cp / 2^128), with the bits below made sticky in the last bit ("round to odd").
inline uint64_t round_to_odd(const Pow10& g, uint64_t cp) {
  const uint128 x = uint128{g.lo} * cp;
  const uint128 y = uint128{g.hi} * cp;
  const uint64_t y0 = static_cast<uint64_t>(y);
  const uint64_t y1 = static_cast<uint64_t>(y >> 64);
  const uint64_t z = y0 + static_cast<uint64_t>(x >> 64);
  const uint64_t vbp = y1 + (z < y0 ? 1 : 0);
  return vbp | (z > 1 ? 1 : 0);
}

// Floor division by 2^n of a possibly negative number (C++20: >> is arithmetic).
constexpr int floor_shift(int x, int n) { return x >> n; }

// v = digits * 10^exp10, the shortest such that round-trips (may end in zeros).
// REQUIRES: bits is a finite, positive double.
struct ShortestDecimal {
  uint64_t digits;
  int exp10;
};
ShortestDecimal shortest_decimal(uint64_t bits) {
  const uint64_t fraction = bits & ((uint64_t{1} << 52) - 1);
  const int biased_exp = static_cast<int>(bits >> 52);
  uint64_t c;
  int q;
  if (biased_exp != 0) {
    c = fraction | (uint64_t{1} << 52);
    q = biased_exp - 1075;
  } else {  // subnormal
    c = fraction;
    q = 1 - 1075;
  }
  const bool accept_bounds = c % 2 == 0;  // round-half-even reading accepts the bounds
  const bool lower_closer = fraction == 0 && biased_exp > 1;
  const uint64_t cbl = 4 * c - 2 + (lower_closer ? 1 : 0);
  const uint64_t cb = 4 * c;
  const uint64_t cbr = 4 * c + 2;
  // floor(log10(2^q)) and floor(log10(3/4 * 2^q)), exact over the double range.
  const int k = floor_shift(q * 1262611 - (lower_closer ? 524031 : 0), 22);
  const int h = q + floor_shift(-k * 1741647, 19) + 1;  // + floor(log2(10^-k)); in [1, 4]
  const Pow10& g = pow10_table()[-k - kMinPow10];
  const uint64_t vbl = round_to_odd(g, cbl << h);
  const uint64_t vb = round_to_odd(g, cb << h);
  const uint64_t vbr = round_to_odd(g, cbr << h);
  const uint64_t lower = vbl + (accept_bounds ? 0 : 1);
  const uint64_t upper = vbr - (accept_bounds ? 0 : 1);
  const uint64_t s = vb / 4;
  if (s >= 10) {  // one digit fewer?
    const uint64_t sp = s / 10;
    const bool up_inside = lower <= 40 * sp;
    const bool wp_inside = 40 * sp + 40 <= upper;
    if (up_inside != wp_inside) return {sp + (wp_inside ? 1 : 0), k + 1};
  }
  const bool u_inside = lower <= 4 * s;
  const bool w_inside = 4 * s + 4 <= upper;
  if (u_inside != w_inside) return {s + (w_inside ? 1 : 0), k};
  const uint64_t mid = 4 * s + 2;  // both inside: the closer one, ties to even
  const bool round_up = vb > mid || (vb == mid && (s & 1) != 0);
  return {s + (round_up ? 1 : 0), k};
}

constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// x < 10^8 as exactly eight digits. Two independent halves, so the divisions overlap.
inline void put8_digits(uint32_t x, char* p) {
  const uint32_t hi = x / 10000, lo = x % 10000;
  std::memcpy(p, kDigitPairs + 2 * (hi / 100), 2);
  std::memcpy(p + 2, kDigitPairs + 2 * (hi % 100), 2);
  std::memcpy(p + 4, kDigitPairs + 2 * (lo / 100), 2);
  std::memcpy(p + 6, kDigitPairs + 2 * (lo % 100), 2);
}

// Number of decimal digits of x >= 1.
inline size_t decimal_digits(uint64_t x) {
  static constexpr auto kPow10 = [] {
    std::array<uint64_t, 20> t{};
    t[0] = 1;
    for (size_t i = 1; i < t.size(); ++i) t[i] = t[i - 1] * 10;
    return t;
  }();
  const int t = ((64 - std::countl_zero(x)) * 1233) >> 12;  // floor(log10(2^bits)), ±1
  return static_cast<size_t>(t + 1 - (x < kPow10[t] ? 1 : 0));
}

}  // namespace

// The widest write is the "ddd.ddd" case below: a sign, up to 16 integer digits, the
// point and a 16-byte copy of the fraction digits, 34 bytes; kFloatReprRoom leaves margin.
char* put_float_repr(double v, char* d) {
  if (std::isnan(v)) return put_literal(d, "NaN");
  if (std::isinf(v)) return v > 0 ? put_literal(d, "Infinity") : put_literal(d, "-Infinity");
  if (v == 0) return std::signbit(v) ? put_literal(d, "-0.0") : put_literal(d, "0.0");
  // Integral values below 1e16 (1.0, 100.0, common in configs) are the integer + ".0".
  if (v > -1e16 && v < 1e16 && v == static_cast<double>(static_cast<int64_t>(v))) {
    d = std::to_chars(d, d + 20, static_cast<int64_t>(v)).ptr;
    return put_literal(d, ".0");
  }
  if (v < 0) *d++ = '-';
  ShortestDecimal dec = shortest_decimal(std::bit_cast<uint64_t>(v) & ~(uint64_t{1} << 63));
  while (dec.digits % 100000000 == 0) dec.digits /= 100000000, dec.exp10 += 8;
  if (dec.digits % 10000 == 0) dec.digits /= 10000, dec.exp10 += 4;
  if (dec.digits % 100 == 0) dec.digits /= 100, dec.exp10 += 2;
  if (dec.digits % 10 == 0) dec.digits /= 10, dec.exp10 += 1;
  // All 17 digit positions (dec.digits < 10^17), then skip the leading zeros.
  char buf[40] = {};
  buf[0] = static_cast<char>('0' + dec.digits / 10000000000000000);
  put8_digits(static_cast<uint32_t>(dec.digits / 100000000 % 100000000), buf + 1);
  put8_digits(static_cast<uint32_t>(dec.digits % 100000000), buf + 9);
  const size_t n = decimal_digits(dec.digits);
  // The digits, followed by at least 23 more readable bytes.
  const char* const digits = buf + (17 - n);
  const int exp = dec.exp10 + static_cast<int>(n) - 1;  // of the first digit
  if (exp < -4 || exp >= 16) {
    // Scientific: "d.ddde-05", with a sign and at least two exponent digits.
    *d++ = digits[0];
    if (n > 1) {
      *d++ = '.';
      std::memcpy(d, digits + 1, 16);
      d += n - 1;
    }
    *d++ = 'e';
    *d++ = exp < 0 ? '-' : '+';
    const int a = exp < 0 ? -exp : exp;
    if (a < 10) *d++ = '0';
    return std::to_chars(d, d + 3, a).ptr;
  }
  if (exp < 0) {  // 0.000ddd
    std::memcpy(d, "0.0000", 6);
    d += 1 - exp;
    std::memcpy(d, digits, 17);
    return d + n;
  }
  const size_t point = static_cast<size_t>(exp) + 1;
  std::memcpy(d, digits, 17);
  if (n <= point) {  // ddd000.0
    d += n;
    for (size_t z = point - n; z > 0; --z) *d++ = '0';
    return put_literal(d, ".0");
  }
  d += point;  // ddd.ddd
  *d++ = '.';
  std::memcpy(d, digits + point, 16);
  return d + (n - point);
}

void append_float_repr(double d, std::string& out) {
  const size_t used = out.size();
  out.resize(used + kFloatReprRoom);
  char* const end = put_float_repr(d, out.data() + used);
  out.resize(static_cast<size_t>(end - out.data()));
}

}  // namespace weft
