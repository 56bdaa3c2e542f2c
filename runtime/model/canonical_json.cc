// Canonical JSON writer (see canonical_json.h and weave-compat.md §1).
//
// This runs on every object save, so it is written for speed (budget: canonicalise +
// digest of a 2 KB value within 2.5x the SHA-256 of its bytes; see
// bench/canonical_digest_bench.cc): one pass over the value; output through a raw cursor;
// no per-node allocation once the thread's scratch vectors are warm (a dict is sorted as
// a range of 32-byte entries in a shared vector, compared by 8-byte key prefixes);
// strings checked and copied eight bytes at a time; floats by Schubfach, not to_chars.
// Nesting is handled by an explicit stack of frames on the heap, never by recursion.
#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <span>
#include <vector>

#include <weft/digest.h>
#include <weft/json.h>
#include <weft/ref.h>

namespace weft {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";

// Per byte below 0x80: 0 = copy verbatim, 'u' = \u00XX, anything else = the letter of a
// two-character escape. Bytes >= 0x80 start a UTF-8 sequence and are decoded instead.
constexpr auto kEscape = [] {
  std::array<char, 128> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  t['"'] = '"';
  t['\\'] = '\\';
  t[0x7f] = 'u';
  return t;
}();

// 1 for every byte that is not copied verbatim (kEscape's set plus all bytes >= 0x80).
constexpr auto kSpecial = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = (c >= 0x80 || kEscape[c] != 0) ? 1 : 0;
  return t;
}();

// Marks (bit 7 of the byte) the bytes of w that need escaping: < 0x20, '"', '\\' or
// >= 0x7F. Classic SWAR byte tests. Borrows and carries only run from a marked byte
// towards higher bytes, so a byte above a marked one may be marked wrongly, but the
// lowest marked byte is always right -- and zero means none.
inline uint64_t escape_mask(uint64_t w) {
  constexpr uint64_t k01 = 0x0101010101010101ull;
  constexpr uint64_t k80 = 0x8080808080808080ull;
  const uint64_t below_space = (w - k01 * 0x20) & ~w;
  const uint64_t q = w ^ (k01 * '"');
  const uint64_t quote = (q - k01) & ~q;
  const uint64_t b = w ^ (k01 * '\\');
  const uint64_t backslash = (b - k01) & ~b;
  const uint64_t high = w | (w + k01);  // bit 7 set for >= 0x80, and 0x7F + 1
  return (below_space | quote | backslash | high) & k80;
}

inline char* put_u_escape(uint32_t unit, char* d) {
  d[0] = '\\';
  d[1] = 'u';
  d[2] = kHexDigits[(unit >> 12) & 15];
  d[3] = kHexDigits[(unit >> 8) & 15];
  d[4] = kHexDigits[(unit >> 4) & 15];
  d[5] = kHexDigits[unit & 15];
  return d + 6;
}

// Decodes the UTF-8 sequence at p (p < end, *p >= 0x80). Returns its length and sets cp,
// or returns 0 for an invalid sequence. Strings are valid UTF-8 by contract; this check
// only keeps a broken caller from making us read past the end.
inline size_t decode_utf8(const unsigned char* p, const unsigned char* end, uint32_t& cp) {
  const unsigned c = p[0];
  size_t n;
  uint32_t min;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2, cp = c & 0x1F, min = 0x80;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3, cp = c & 0x0F, min = 0x800;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4, cp = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (static_cast<size_t>(end - p) < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((p[i] & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

// Writes the escape for the special byte (or UTF-8 sequence) at p; returns the next p.
const unsigned char* escape_one(const unsigned char* p, const unsigned char* end, char*& d) {
  const unsigned c = *p;
  if (c < 0x80) {
    const char esc = kEscape[c];
    if (esc == 'u') {
      d = put_u_escape(c, d);
    } else {
      d[0] = '\\';
      d[1] = esc;
      d += 2;
    }
    return p + 1;
  }
  uint32_t cp = 0;
  const size_t n = decode_utf8(p, end, cp);
  if (n == 0) {
    d = put_u_escape(0xFFFD, d);  // broken input: one replacement per bad byte
    return p + 1;
  }
  if (cp >= 0x10000) {  // 4 input bytes, 12 output bytes
    cp -= 0x10000;
    d = put_u_escape(0xD800 + (cp >> 10), d);
    d = put_u_escape(0xDC00 + (cp & 0x3FF), d);
  } else {
    d = put_u_escape(cp, d);
  }
  return p + n;
}

// Escapes [p, end) to d, which must have room for 6 bytes per input byte (the worst
// case: a control character becomes \u00XX) plus kEscapeSlack: word stores may run up
// to 7 bytes past the output, which later writes overwrite. Returns the new end of d.
constexpr size_t kEscapeSlack = 8;
char* escape_chunk(const unsigned char* const begin, const unsigned char* const end, char* d) {
  const unsigned char* p = begin;
  while (true) {
    // Eight bytes at a time: copy them all (there is room: 8 <= 6 * 8), keep those
    // before the first byte that needs escaping.
    if constexpr (std::endian::native == std::endian::little) {
      while (end - p >= 8) {
        uint64_t w;
        std::memcpy(&w, p, 8);
        std::memcpy(d, p, 8);
        const uint64_t mask = escape_mask(w);
        if (mask != 0) {
          const int clean = std::countr_zero(mask) / 8;
          p += clean;
          d += clean;
          goto special;
        }
        p += 8;
        d += 8;
      }
      // A tail of 1..7 bytes in a string of 8 or more: the last eight bytes of the
      // string, shifted so that the tail comes first.
      if (p < end && end - begin >= 8) {
        const int skip = static_cast<int>(8 - (end - p)) * 8;
        uint64_t w;
        std::memcpy(&w, end - 8, 8);
        w >>= skip;
        std::memcpy(d, &w, 8);
        const uint64_t mask = escape_mask(w) << skip >> skip;  // drop the shifted-in zeros
        if (mask == 0) return d + (end - p);
        const int clean = std::countr_zero(mask) / 8;
        p += clean;
        d += clean;
        goto special;
      }
    }
    // 4..7 bytes (most dict keys): two overlapping four-byte words.
    if (end - p >= 4 && end - p < 8) {
      uint32_t lo, hi;
      std::memcpy(&lo, p, 4);
      std::memcpy(&hi, end - 4, 4);
      if (escape_mask(lo | (uint64_t{hi} << 32)) == 0) {
        std::memcpy(d, &lo, 4);
        std::memcpy(d + (end - p) - 4, &hi, 4);
        return d + (end - p);
      }
    }
    // Short strings (or everything, on a big-endian machine): byte by byte.
    while (p < end && kSpecial[*p] == 0) *d++ = static_cast<char>(*p++);
    if (p == end) return d;
  special:
    p = escape_one(p, end, d);
  }
}

// The output buffer: the caller's string, written through a raw cursor. std::string's
// append() costs a call and a capacity check per piece, which dominated the profile
// (a dict entry is half a dozen small pieces). The cursor is passed along and returned
// by value so that it lives in a register, not in memory. ensure(d, n) guarantees n
// writable bytes at d; finish(d) trims the string to what was written.
class Out {
 public:
  explicit Out(std::string& out) : out_(out) {}

  // The cursor at the end of the string, with `room` writable bytes. The room is
  // zero-filled (std::string cannot grow uninitialised before C++23), so it stays modest
  // and grows by doubling.
  char* attach(size_t room) {
    const size_t used = out_.size();
    out_.resize(used + room);
    end_ = out_.data() + out_.size();
    return out_.data() + used;
  }
  char* ensure(char* d, size_t n) { return static_cast<size_t>(end_ - d) >= n ? d : grow(d, n); }
  std::string& finish(char* d) {
    out_.resize(static_cast<size_t>(d - out_.data()));
    return out_;
  }

 private:
  char* grow(char* d, size_t n) {
    const size_t used = static_cast<size_t>(d - out_.data());
    out_.resize(std::max(out_.size() * 2, used + n + 256));
    end_ = out_.data() + out_.size();
    return out_.data() + used;
  }

  std::string& out_;
  char* end_ = nullptr;
};

template <size_t N>
inline char* put_lit(char* d, const char (&s)[N]) {  // a string literal, without its NUL
  std::memcpy(d, s, N - 1);
  return d + N - 1;
}

// Escaping can grow text six-fold; long strings are done in chunks so the room asked
// for does not overshoot by megabytes.
constexpr size_t kStringChunk = 4096;

// Strings longer than this take the general path below.
constexpr size_t kShortString = 16;

// `"s"` for a long string (or one with something to escape).
char* put_string_slow(std::string_view s, char* d, Out& out, size_t suffix_size) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* const end = p + s.size();
  d = out.ensure(d, 6 * std::min(s.size(), kStringChunk) + 2 + kEscapeSlack + suffix_size);
  *d++ = '"';
  while (static_cast<size_t>(end - p) > kStringChunk) {
    // Cut at a sequence start: back over at most three continuation bytes.
    const unsigned char* cut = p + kStringChunk;
    for (int k = 0; k < 3 && (*cut & 0xC0) == 0x80; ++k) --cut;
    d = escape_chunk(p, cut, d);
    p = cut;
    d = out.ensure(d, 6 * std::min(static_cast<size_t>(end - p), kStringChunk) + 2 + kEscapeSlack +
                          suffix_size);
  }
  d = escape_chunk(p, end, d);
  *d++ = '"';
  return d;
}

// `"s"` followed by `suffix` (the `": "` after a key). Dict keys and most values are
// short and need no escaping: that case is checked and copied inline, as two
// overlapping words, without a call.
template <size_t N = 1>
[[gnu::always_inline]] inline char* put_string(std::string_view s, char* d, Out& out,
                                               const char (&suffix)[N] = "") {
  const size_t n = s.size();
  if constexpr (std::endian::native == std::endian::little) {
    if (n <= kShortString) {
      d = out.ensure(d, 6 * kShortString + 2 + N);
      const char* const p = s.data();
      bool clean = true;
      if (n >= 8) {
        uint64_t head, tail;
        std::memcpy(&head, p, 8);
        std::memcpy(&tail, p + n - 8, 8);
        clean = (escape_mask(head) | escape_mask(tail)) == 0;
        if (clean) {
          std::memcpy(d + 1, &head, 8);
          std::memcpy(d + 1 + n - 8, &tail, 8);
        }
      } else if (n >= 4) {
        uint32_t head, tail;
        std::memcpy(&head, p, 4);
        std::memcpy(&tail, p + n - 4, 4);
        clean = escape_mask(head | (uint64_t{tail} << 32)) == 0;
        if (clean) {
          std::memcpy(d + 1, &head, 4);
          std::memcpy(d + 1 + n - 4, &tail, 4);
        }
      } else {
        for (size_t i = 0; i < n; ++i) {
          clean = clean && kSpecial[static_cast<unsigned char>(p[i])] == 0;
          d[1 + i] = p[i];
        }
      }
      if (clean) {
        d[0] = '"';
        d[1 + n] = '"';
        return put_lit(d + 2 + n, suffix);
      }
    }
  }
  return put_lit(put_string_slow(s, d, out, N - 1), suffix);
}

// --- Python's repr(float) -------------------------------------------------------------
//
// The shortest digits that round-trip, closest to the value when several are as short:
// Raffaello Giulietti's Schubfach algorithm ("The Schubfach way to render doubles",
// 2020), in the 128-bit form of Alexander Bolz's Drachennest. std::to_chars computes the
// same digits (libstdc++ uses Ryu) at about three times the cost, and a float costs as
// much as a whole dict entry here: summaries and metrics are full of them.

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

// Python's repr(float): at most 24 bytes, but the caller must provide kFloatRoom (the
// digits are moved with fixed-size copies that may run past the end).
constexpr size_t kFloatRoom = 48;
char* put_float(double v, char* d) {
  if (std::isnan(v)) return put_lit(d, "NaN");
  if (std::isinf(v)) return v > 0 ? put_lit(d, "Infinity") : put_lit(d, "-Infinity");
  if (v == 0) return std::signbit(v) ? put_lit(d, "-0.0") : put_lit(d, "0.0");
  // Integral values below 1e16 (1.0, 100.0, common in configs) are the integer + ".0".
  if (v > -1e16 && v < 1e16 && v == static_cast<double>(static_cast<int64_t>(v))) {
    d = std::to_chars(d, d + 20, static_cast<int64_t>(v)).ptr;
    return put_lit(d, ".0");
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
    return put_lit(d, ".0");
  }
  d += point;  // ddd.ddd
  *d++ = '.';
  std::memcpy(d, digits + point, 16);
  return d + (n - point);
}

// The inline form of a binary value or an op, Weave's CustomWeaveType dict:
// {"_type": "CustomWeaveType", "files": {name: file digest, ...}, "weave_type": {"type": id}}
// (its keys already in sorted order). write_files writes the inside of "files".
template <class WriteFiles>
char* put_custom_type(std::string_view type_id, char* d, Out& out, WriteFiles write_files) {
  d = put_lit(out.ensure(d, 64), R"({"_type": "CustomWeaveType", "files": {)");
  d = write_files(d);
  d = put_lit(out.ensure(d, 64), R"(}, "weave_type": {"type": )");
  d = put_string(type_id, d, out);
  return put_lit(out.ensure(d, 2), "}}");
}

char* put_file_entry(std::string_view name, std::string_view bytes, char* d, Out& out) {
  d = put_string(name, d, out, ": ");
  return put_string(file_digest(bytes), d, out);
}

char* put_blob(const BlobData& blob, char* d, Out& out) {
  // Files sorted by name; a repeated name keeps its last file, as a Python dict would.
  std::vector<const BlobFile*> files;
  files.reserve(blob.files.size());
  for (const auto& f : blob.files) files.push_back(&f);
  std::stable_sort(files.begin(), files.end(),
                   [](const BlobFile* a, const BlobFile* b) { return a->name < b->name; });
  return put_custom_type(blob.type_id, d, out, [&](char* p) {
    bool first = true;
    for (size_t i = 0; i < files.size(); ++i) {
      if (i + 1 < files.size() && files[i + 1]->name == files[i]->name) continue;
      if (!first) p = put_lit(out.ensure(p, 2), ", ");
      first = false;
      p = put_file_entry(files[i]->name, *files[i]->bytes, p, out);
    }
    return p;
  });
}

char* put_op(const OpData& op, char* d, Out& out) {
  return put_custom_type("Op", d, out,
                         [&](char* p) { return put_file_entry("obj.py", op.source, p, out); });
}

// A dict entry waiting to be written. Object roots add entries that are not Values
// ("_type", "_class_name", "_bases"), hence the tagged pointer. 32 bytes: sorting moves
// these around.
struct Entry {
  enum class Slot : uint8_t { kValue, kText, kTextList };
  uint64_t prefix;  // the key's first eight bytes, big-endian, zero-padded
  const char* key;
  uint32_t key_size;  // keys are far below 4 GiB
  Slot slot;
  const void* ptr;  // const Value*, const std::string*, const std::vector<std::string>*

  Entry(std::string_view k, const void* p, Slot s)
      : prefix(key_prefix(k)),
        key(k.data()),
        key_size(static_cast<uint32_t>(k.size())),
        slot(s),
        ptr(p) {}
  std::string_view key_view() const { return {key, key_size}; }

  // Comparing prefixes as integers orders keys by their first eight bytes, unsigned,
  // exactly as memcmp would; only equal prefixes need the full comparison.
  static uint64_t key_prefix(std::string_view k) {
    const auto* p = reinterpret_cast<const unsigned char*>(k.data());
    const size_t n = k.size();
    if constexpr (std::endian::native == std::endian::little) {
      uint64_t le = 0;  // byte i of the key in byte i of le
      if (n >= 8) {
        std::memcpy(&le, p, 8);
      } else if (n >= 4) {  // two overlapping four-byte loads
        uint32_t lo, hi;
        std::memcpy(&lo, p, 4);
        std::memcpy(&hi, p + n - 4, 4);
        le = lo | ((uint64_t{hi} >> (8 * (8 - n))) << 32);
      } else {
        for (size_t i = 0; i < n; ++i) le |= uint64_t{p[i]} << (8 * i);
      }
      return __builtin_bswap64(le);
    } else {
      uint64_t be = 0;
      for (size_t i = 0; i < n && i < 8; ++i) be |= uint64_t{p[i]} << (56 - 8 * i);
      return be;
    }
  }
};
static_assert(sizeof(Entry) == 32);

// Byte order (== code point order for UTF-8): Python's sort_keys. Keys that share
// their first eight bytes ("metric_10", "metric_11") compare the next eight the same way
// before falling back to memcmp.
inline bool key_less(const Entry& a, const Entry& b) {
  if (a.prefix != b.prefix) return a.prefix < b.prefix;
  const std::string_view ka = a.key_view(), kb = b.key_view();
  if (ka.size() <= 8 || kb.size() <= 8) return ka.size() < kb.size();
  const uint64_t na = Entry::key_prefix(ka.substr(8)), nb = Entry::key_prefix(kb.substr(8));
  if (na != nb) return na < nb;
  // Equal zero-padded prefixes: if either key ends within them, it is a prefix of the other.
  if (ka.size() <= 16 || kb.size() <= 16) return ka.size() < kb.size();
  return ka.substr(16) < kb.substr(16);
}

// An open container. Lists walk a span of Values; dicts walk a range of `entries`.
struct Frame {
  const Value* items;  // nullptr for a dict frame
  size_t begin;        // dict: index of the first entry in Scratch::entries
  size_t size;
  size_t next;
};

struct Scratch {
  std::vector<Frame> frames;
  std::vector<Entry> entries;
  bool in_use = false;
};

// Reused per thread so a warm writer does not allocate. A ChildWriter may call back into
// the writer on the same thread; that nested call gets a fresh Scratch.
thread_local Scratch t_scratch;

// Bigger than this after a call (a very deep or very wide value) and the scratch memory is
// released rather than pinned for the life of the thread.
constexpr size_t kKeepFrames = 4096;
constexpr size_t kKeepEntries = 16384;

class Writer {
 public:
  Writer(Out& out, ChildWriter* children, Scratch& scratch)
      : out_(out), children_(children), frames_(scratch.frames), entries_(scratch.entries) {}

  char* run(const Value& root, char* d) {
    d = write_value(root, /*is_root=*/true, d);
    while (!frames_.empty()) {
      Frame& f = frames_.back();
      d = out_.ensure(d, 2);
      if (f.next == f.size) {
        if (f.items == nullptr) {
          entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(f.begin), entries_.end());
          *d++ = '}';
        } else {
          *d++ = ']';
        }
        frames_.pop_back();
        continue;
      }
      const size_t i = f.next++;
      if (i > 0) d = put_lit(d, ", ");
      // write_value may push a frame: `f` is not used past this point.
      if (f.items != nullptr) {
        d = write_value(f.items[i], false, d);
        continue;
      }
      const Entry& e = entries_[f.begin + i];
      const Entry::Slot slot = e.slot;
      const void* const ptr = e.ptr;
      d = put_string(e.key_view(), d, out_, ": ");
      switch (slot) {
        case Entry::Slot::kValue: d = write_value(*static_cast<const Value*>(ptr), false, d); break;
        case Entry::Slot::kText:
          d = put_string(*static_cast<const std::string*>(ptr), d, out_);
          break;
        case Entry::Slot::kTextList:
          d = put_string_list(*static_cast<const std::vector<std::string>*>(ptr), d);
          break;
      }
    }
    return d;
  }

 private:
  char* put_string_list(const std::vector<std::string>& list, char* d) {
    d = out_.ensure(d, 1);
    *d++ = '[';
    for (size_t i = 0; i < list.size(); ++i) {
      if (i > 0) d = put_lit(out_.ensure(d, 2), ", ");
      d = put_string(list[i], d, out_);
    }
    d = out_.ensure(d, 1);
    *d++ = ']';
    return d;
  }

  char* write_value(const Value& v, bool is_root, char* d) {
    switch (v.kind()) {
      case ValueKind::kNull: return put_lit(out_.ensure(d, 4), "null");
      case ValueKind::kBool:
        d = out_.ensure(d, 5);
        return v.as_bool() ? put_lit(d, "true") : put_lit(d, "false");
      case ValueKind::kInt: {
        d = out_.ensure(d, 20);
        return std::to_chars(d, d + 20, v.as_int()).ptr;
      }
      case ValueKind::kBigInt: {
        const std::string_view digits = v.big_integer_text();
        d = out_.ensure(d, digits.size());
        std::memcpy(d, digits.data(), digits.size());
        return d + digits.size();
      }
      case ValueKind::kFloat: return put_float(v.as_double(), out_.ensure(d, kFloatRoom));
      case ValueKind::kString: return put_string(v.as_string(), d, out_);
      case ValueKind::kRef: return put_string(v.ref().uri(), d, out_);
      case ValueKind::kList: return open_list(v.items(), d);
      case ValueKind::kDict: return open_dict(v.entries(), d);
      case ValueKind::kBlob:
        if (children_ != nullptr) children_->on_blob(v);
        return put_blob(v.blob(), d, out_);
      case ValueKind::kObject:
      case ValueKind::kTable:
      case ValueKind::kOp:
        if (!is_root && children_ != nullptr) {
          children_->write_child(v, out_.finish(d));
          return out_.attach(256);
        }
        if (v.kind() == ValueKind::kObject) return open_object(v.object(), d);
        if (v.kind() == ValueKind::kTable) return open_list(v.table().rows, d);
        return put_op(v.op(), d, out_);
    }
    return d;
  }

  char* open_list(std::span<const Value> items, char* d) {
    d = out_.ensure(d, 2);
    if (items.empty()) return put_lit(d, "[]");
    frames_.push_back(Frame{items.data(), 0, items.size(), 0});
    *d++ = '[';
    return d;
  }

  char* open_dict(std::span<const DictEntry> dict, char* d) {
    d = out_.ensure(d, 2);
    if (dict.empty()) return put_lit(d, "{}");
    const size_t begin = entries_.size();
    for (const auto& [key, value] : dict) entries_.emplace_back(key, &value, Entry::Slot::kValue);
    return push_sorted(begin, d);
  }

  // {"_type": class, <fields>, "_class_name": class, "_bases": [...]}, then sorted.
  char* open_object(const ObjectData& obj, char* d) {
    d = out_.ensure(d, 1);
    const size_t begin = entries_.size();
    entries_.emplace_back("_type", &obj.class_name, Entry::Slot::kText);
    for (const auto& [key, value] : obj.fields)
      entries_.emplace_back(key, &value, Entry::Slot::kValue);
    entries_.emplace_back("_class_name", &obj.class_name, Entry::Slot::kText);
    entries_.emplace_back("_bases", &obj.bases, Entry::Slot::kTextList);
    return push_sorted(begin, d);
  }

  // REQUIRES: room for one byte at d.
  char* push_sorted(size_t begin, char* d) {
    // Keys are unique (Value::dict and make_object guarantee it), so stability does not
    // matter.
    std::sort(entries_.begin() + static_cast<std::ptrdiff_t>(begin), entries_.end(),
              [](const Entry& a, const Entry& b) { return key_less(a, b); });
    frames_.push_back(Frame{nullptr, begin, entries_.size() - begin, 0});
    *d++ = '{';
    return d;
  }

  Out& out_;
  ChildWriter* children_;
  std::vector<Frame>& frames_;
  std::vector<Entry>& entries_;
};

}  // namespace

void append_json_string(std::string_view utf8, std::string& out) {
  Out o(out);
  o.finish(put_string(utf8, o.attach(0), o));
}

void append_float_repr(double d, std::string& out) {
  Out o(out);
  o.finish(put_float(d, o.attach(kFloatRoom)));
}

void write_canonical_json(const Value& v, std::string& out, ChildWriter* children) {
  Scratch nested;
  Scratch& scratch = t_scratch.in_use ? nested : t_scratch;
  scratch.in_use = true;
  // Reset even if a ChildWriter (or an allocation) throws; then `out` is also put back
  // as it was, rather than left with a half-written value and uninitialised room.
  struct Release {
    Scratch& s;
    std::string& out;
    size_t out_size;
    bool done = false;
    ~Release() {
      s.frames.clear();
      s.entries.clear();
      if (s.frames.capacity() > kKeepFrames) std::vector<Frame>().swap(s.frames);
      if (s.entries.capacity() > kKeepEntries) std::vector<Entry>().swap(s.entries);
      s.in_use = false;
      if (!done) out.resize(out_size);
    }
  } release{scratch, out, out.size()};
  Out o(out);
  char* const d = Writer(o, children, scratch).run(v, o.attach(256));
  o.finish(d);
  release.done = true;
}

std::string canonical_json(const Value& v, ChildWriter* children) {
  std::string out;
  out.reserve(1024);
  write_canonical_json(v, out, children);
  return out;
}

}  // namespace weft
