// JSON strings as Python's json.dumps writes them (ensure_ascii, its default): `"` and `\`
// escaped, \n \r \t \b \f as two-character escapes, every other byte outside printable
// ASCII U+0020..U+007E (other controls, U+007F, all non-ASCII) as lowercase \uXXXX, and
// characters above U+FFFF as a surrogate pair (docs/COMPATIBILITY.md#canonical-json).
//
// Internal to the library (runtime/, so not in include/weft/): the canonical writer uses the
// raw cursor API below on its hot path, request bodies and the sqlite store use
// append_json_string. The inline parts are here, rather than in json_escape.cc, because the
// writer spends much of its time on short, clean strings (dict keys), and those must be
// checked and copied without a call.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace weft {

// Appends utf8 to out as a JSON string, with the quotes. utf8 must be valid UTF-8; a byte
// that is not part of a valid sequence is written as \ufffd (never read past).
void append_json_string(std::string_view utf8, std::string& out);

// --- The raw cursor API (the canonical writer's hot path) ------------------------------

// The output buffer: the caller's string, written through a raw cursor. std::string's
// append() costs a call and a capacity check per piece, which dominated the writer's
// profile (a dict entry is half a dozen small pieces). The cursor is passed along and
// returned by value so that it lives in a register, not in memory. ensure(d, n) guarantees
// n writable bytes at d; finish(d) trims the string to what was written.
//
// It lives here, not in the writer, because a long string is escaped in chunks and the
// escaper grows the buffer between them (see put_json_string_slow).
class JsonOut {
 public:
  explicit JsonOut(std::string& out) : out_(out) {}

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

// Strings up to this long that need no escaping are written inline by put_json_string;
// longer ones (or ones with something to escape) take put_json_string_slow.
inline constexpr size_t kJsonShortString = 16;

// `"s"` for a long string (or one with something to escape), followed by room for
// suffix_size more bytes (which the caller writes). Out of line: it loops over chunks.
char* put_json_string_slow(std::string_view s, char* d, JsonOut& out, size_t suffix_size);

namespace detail {

// Per byte below 0x80: 0 = copy verbatim, 'u' = \u00XX, anything else = the letter of a
// two-character escape. Bytes >= 0x80 start a UTF-8 sequence and are decoded instead.
inline constexpr auto kJsonEscape = [] {
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

// 1 for every byte that is not copied verbatim (kJsonEscape's set plus all bytes >= 0x80).
inline constexpr auto kJsonSpecial = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = (c >= 0x80 || kJsonEscape[c] != 0) ? 1 : 0;
  return t;
}();

// Marks (bit 7 of the byte) the bytes of w that need escaping: < 0x20, '"', '\\' or
// >= 0x7F. Classic SWAR byte tests. Borrows and carries only run from a marked byte
// towards higher bytes, so a byte above a marked one may be marked wrongly, but the
// lowest marked byte is always right -- and zero means none.
inline uint64_t json_escape_mask(uint64_t w) {
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

}  // namespace detail

// Writes `"s"` followed by `suffix` (a string literal, e.g. the `": "` after a dict key) at
// d, growing out as needed; returns the new cursor. Dict keys and most values are short
// and need no escaping: that case is checked and copied inline, as two overlapping
// words, without a call.
template <size_t N = 1>
[[gnu::always_inline]] inline char* put_json_string(std::string_view s, char* d, JsonOut& out,
                                                    const char (&suffix)[N] = "") {
  const size_t n = s.size();
  if constexpr (std::endian::native == std::endian::little) {
    if (n <= kJsonShortString) {
      d = out.ensure(d, 6 * kJsonShortString + 2 + N);
      const char* const p = s.data();
      bool clean = true;
      if (n >= 8) {
        uint64_t head, tail;
        std::memcpy(&head, p, 8);
        std::memcpy(&tail, p + n - 8, 8);
        clean = (detail::json_escape_mask(head) | detail::json_escape_mask(tail)) == 0;
        if (clean) {
          std::memcpy(d + 1, &head, 8);
          std::memcpy(d + 1 + n - 8, &tail, 8);
        }
      } else if (n >= 4) {
        uint32_t head, tail;
        std::memcpy(&head, p, 4);
        std::memcpy(&tail, p + n - 4, 4);
        clean = detail::json_escape_mask(head | (uint64_t{tail} << 32)) == 0;
        if (clean) {
          std::memcpy(d + 1, &head, 4);
          std::memcpy(d + 1 + n - 4, &tail, 4);
        }
      } else {
        for (size_t i = 0; i < n; ++i) {
          clean = clean && detail::kJsonSpecial[static_cast<unsigned char>(p[i])] == 0;
          d[1 + i] = p[i];
        }
      }
      if (clean) {
        d[0] = '"';
        d[1 + n] = '"';
        std::memcpy(d + 2 + n, suffix, N - 1);
        return d + 2 + n + N - 1;
      }
    }
  }
  d = put_json_string_slow(s, d, out, N - 1);
  std::memcpy(d, suffix, N - 1);
  return d + N - 1;
}

}  // namespace weft
