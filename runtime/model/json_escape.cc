// JSON string escaping (see json_escape.h): the out-of-line part, for strings that are long
// or have something to escape. Strings are checked and copied eight bytes at a time; only
// the bytes that need it are escaped one by one.
#include "runtime/model/json_escape.h"

namespace weft {
namespace {

using detail::json_escape_mask;
using detail::kJsonEscape;
using detail::kJsonSpecial;

constexpr char kHexDigits[] = "0123456789abcdef";

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
    const char esc = kJsonEscape[c];
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
        const uint64_t mask = json_escape_mask(w);
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
        const uint64_t mask = json_escape_mask(w) << skip >> skip;  // drop the shifted-in zeros
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
      if (json_escape_mask(lo | (uint64_t{hi} << 32)) == 0) {
        std::memcpy(d, &lo, 4);
        std::memcpy(d + (end - p) - 4, &hi, 4);
        return d + (end - p);
      }
    }
    // Short strings (or everything, on a big-endian machine): byte by byte.
    while (p < end && kJsonSpecial[*p] == 0) *d++ = static_cast<char>(*p++);
    if (p == end) return d;
  special:
    p = escape_one(p, end, d);
  }
}

// Escaping can grow text six-fold; long strings are done in chunks so the room asked
// for does not overshoot by megabytes.
constexpr size_t kStringChunk = 4096;

}  // namespace

char* put_json_string_slow(std::string_view s, char* d, JsonOut& out, size_t suffix_size) {
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

void append_json_string(std::string_view utf8, std::string& out) {
  JsonOut o(out);
  o.finish(put_json_string(utf8, o.attach(0), o));
}

}  // namespace weft
