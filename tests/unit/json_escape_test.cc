// JSON string escaping (runtime/model/json_escape.h), tested directly. Every hard-coded
// expected string was printed by python3's json.dumps(s) (ensure_ascii=True, the
// default): e.g. python3 -c 'import json; print(json.dumps("\U0001f600"))'. The broken
// UTF-8 cases are weft's own rule (a Python str cannot hold them).
#include <gtest/gtest.h>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "runtime/model/json_escape.h"

namespace weft {
namespace {

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(s, out);
  return out;
}

TEST(JsonEscape, TwoCharacterEscapesAndSlash) {
  // json.dumps("\"\\/\b\f\n\r\t") and json.dumps("a/b"): "/" is not escaped.
  EXPECT_EQ(json_string("\"\\/\b\f\n\r\t"), R"("\"\\/\b\f\n\r\t")");
  EXPECT_EQ(json_string("a/b"), R"("a/b")");
  EXPECT_EQ(json_string(""), R"("")");
}

TEST(JsonEscape, EveryControlCharacter) {
  // json.dumps("".join(chr(c) for c in range(0x20)))
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls += static_cast<char>(c);
  EXPECT_EQ(json_string(controls),
            R"("\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f)"
            R"(\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c)"
            R"(\u001d\u001e\u001f")");
}

TEST(JsonEscape, PrintableAsciiIsVerbatimAndDelIsEscaped) {
  // json.dumps("".join(chr(c) for c in range(0x20, 0x7f))) and json.dumps("\x7f")
  std::string printable;
  for (int c = 0x20; c < 0x7f; ++c) printable += static_cast<char>(c);
  EXPECT_EQ(json_string(printable),
            R"(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`)"
            R"(abcdefghijklmnopqrstuvwxyz{|}~")");
  EXPECT_EQ(json_string("\x7f"), R"("\u007f")");
  EXPECT_EQ(json_string(" ~"), R"(" ~")");  // the printable bounds stay as they are
}

TEST(JsonEscape, Utf8SequenceBoundaries) {
  // The first and last code point of each UTF-8 length, and either side of the surrogate
  // range: all valid, all escaped. json.dumps(chr(cp)) for each.
  const std::pair<const char*, const char*> cases[] = {
      {"\xc2\x80", R"("\u0080")"},              // U+0080, first 2-byte
      {"\xdf\xbf", R"("\u07ff")"},              // U+07FF, last 2-byte
      {"\xe0\xa0\x80", R"("\u0800")"},          // U+0800, first 3-byte
      {"\xed\x9f\xbf", R"("\ud7ff")"},          // U+D7FF, just below the surrogates
      {"\xee\x80\x80", R"("\ue000")"},          // U+E000, just above them
      {"\xef\xbf\xbd", R"("\ufffd")"},          // U+FFFD
      {"\xef\xbf\xbe", R"("\ufffe")"},          // U+FFFE, a noncharacter but valid
      {"\xef\xbf\xbf", R"("\uffff")"},          // U+FFFF, last 3-byte
      {"\xf0\x90\x80\x80", R"("\ud800\udc00")"},  // U+10000, first 4-byte: a surrogate pair
      {"\xf0\x9f\x98\x80", R"("\ud83d\ude00")"},  // U+1F600
      {"\xf3\xbf\xbf\xbf", R"("\udbbf\udfff")"},  // U+FFFFF
      {"\xf4\x80\x80\x80", R"("\udbc0\udc00")"},  // U+100000
      {"\xf4\x8f\xbf\xbf", R"("\udbff\udfff")"},  // U+10FFFF, the last code point
  };
  for (const auto& [utf8, expected] : cases) EXPECT_EQ(json_string(utf8), expected) << expected;
  // json.dumps("é€\u2028\uffff😀\U0010ffff")
  EXPECT_EQ(json_string("é€\u2028\uffff😀\U0010ffff"),
            R"("\u00e9\u20ac\u2028\uffff\ud83d\ude00\udbff\udfff")");
}

TEST(JsonEscape, BrokenUtf8BecomesReplacementCharacters) {
  // Strings must be valid UTF-8 (the parser checks, builders trust the caller). If a
  // caller breaks that, each bad byte is written as U+FFFD rather than read past.
  EXPECT_EQ(json_string("a\xff\xc3"), R"("a\ufffd\ufffd")");
  EXPECT_EQ(json_string("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // an encoded surrogate
  // Just past each boundary above: overlong forms, beyond U+10FFFF, stray continuations.
  EXPECT_EQ(json_string("\xc0\x80"), R"("\ufffd\ufffd")");
  EXPECT_EQ(json_string("\xc1\xbf"), R"("\ufffd\ufffd")");
  EXPECT_EQ(json_string("\xe0\x9f\xbf"), R"("\ufffd\ufffd\ufffd")");
  EXPECT_EQ(json_string("\xf0\x8f\xbf\xbf"), R"("\ufffd\ufffd\ufffd\ufffd")");
  EXPECT_EQ(json_string("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");
  EXPECT_EQ(json_string("\xf5\x80\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");
  EXPECT_EQ(json_string("\x80z"), R"("\ufffdz")");
  // A sequence cut short by the end of the string (at and past the 8-byte word).
  EXPECT_EQ(json_string("abcdefg\xf0\x9f\x98"), R"("abcdefg\ufffd\ufffd\ufffd")");
  std::string expected = "\"";
  for (int i = 0; i < 10000; ++i) expected += "\\ufffd";
  EXPECT_EQ(json_string(std::string(10000, '\x80')), expected + "\"");
}

TEST(JsonEscape, AppendsWithoutTouchingWhatIsThere) {
  std::string out = "prefix:";
  append_json_string("é", out);
  append_json_string("ab", out);
  EXPECT_EQ(out, R"(prefix:"\u00e9""ab")");
}

// One character of each kind, as python3 printed it: json.dumps(c)[1:-1].
struct Piece {
  std::string utf8;
  std::string escaped;
};
std::vector<Piece> special_pieces() {
  // [json.dumps(chr(c))[1:-1] for c in range(0x20)]
  static const char* const kControls[] = {
      R"(\u0000)", R"(\u0001)", R"(\u0002)", R"(\u0003)", R"(\u0004)", R"(\u0005)", R"(\u0006)",
      R"(\u0007)", R"(\b)",     R"(\t)",     R"(\n)",     R"(\u000b)", R"(\f)",     R"(\r)",
      R"(\u000e)", R"(\u000f)", R"(\u0010)", R"(\u0011)", R"(\u0012)", R"(\u0013)", R"(\u0014)",
      R"(\u0015)", R"(\u0016)", R"(\u0017)", R"(\u0018)", R"(\u0019)", R"(\u001a)", R"(\u001b)",
      R"(\u001c)", R"(\u001d)", R"(\u001e)", R"(\u001f)"};
  std::vector<Piece> pieces;
  for (int c = 0; c < 0x20; ++c)
    pieces.push_back({std::string(1, static_cast<char>(c)), kControls[c]});
  pieces.push_back({"\"", R"(\")"});
  pieces.push_back({"\\", R"(\\)"});
  pieces.push_back({"\x7f", R"(\u007f)"});
  pieces.push_back({"\xc2\x80", R"(\u0080)"});
  pieces.push_back({"é", R"(\u00e9)"});
  pieces.push_back({"€", R"(\u20ac)"});
  pieces.push_back({"\xef\xbf\xbf", R"(\uffff)"});
  pieces.push_back({"😀", R"(\ud83d\ude00)"});
  pieces.push_back({"\xf4\x8f\xbf\xbf", R"(\udbff\udfff)"});
  return pieces;
}

TEST(JsonEscape, SpecialCharacterAtEveryOffsetAcrossTheWords) {
  // The escaper reads 4- and 8-byte words (overlapping at the tail) and inlines clean
  // strings up to 16 bytes: put each kind of special character (multi-byte ones straddling
  // a word boundary included) at every offset of strings up to 40 bytes, alone and then
  // followed by a second one further on.
  for (const Piece& piece : special_pieces()) {
    for (size_t len = 0; len <= 40; ++len) {
      for (size_t at = 0; at <= len; ++at) {
        const std::string before(at, 'a'), after(len - at, 'b');
        ASSERT_EQ(json_string(before + piece.utf8 + after),
                  "\"" + before + piece.escaped + after + "\"")
            << piece.escaped << " len " << len << " at " << at;
        if (len - at >= 2) {
          const std::string mid(1, 'c'), rest(len - at - 1, 'd');
          ASSERT_EQ(json_string(before + piece.utf8 + mid + "\"" + rest),
                    "\"" + before + piece.escaped + mid + "\\\"" + rest + "\"")
              << piece.escaped << " len " << len << " at " << at;
        }
      }
    }
  }
}

TEST(JsonEscape, CleanStringsOfEveryLength) {
  for (size_t len = 0; len <= 200; ++len) {
    std::string s;
    for (size_t i = 0; i < len; ++i) s += static_cast<char>(0x20 + (i * 7) % 0x5f);  // printable
    std::string expected = "\"";
    for (char c : s) {
      if (c == '"' || c == '\\') expected += '\\';
      expected += c;
    }
    ASSERT_EQ(json_string(s), expected + "\"") << len;
  }
}

TEST(JsonEscape, MultiByteCharacterAcrossTheChunkCut) {
  // Long strings are escaped in 4096-byte chunks, cut at a sequence start: a 2-, 3- or
  // 4-byte character at every position around the cut.
  const std::pair<std::string, std::string> chars[] = {
      {"é", R"(\u00e9)"}, {"€", R"(\u20ac)"}, {"😀", R"(\ud83d\ude00)"}};
  for (const auto& [utf8, escaped] : chars) {
    for (size_t at = 4090; at <= 4097; ++at) {
      const std::string before(at, 'x'), after(100, 'y');
      ASSERT_EQ(json_string(before + utf8 + after), "\"" + before + escaped + after + "\"") << at;
    }
  }
}

// Python's escaping rules, written the slow and obvious way.
std::string reference_escape(std::string_view s) {
  std::string out = "\"";
  char buf[16];
  auto u = [&](uint32_t unit) {
    std::snprintf(buf, sizeof buf, "\\u%04x", unit);
    out += buf;
  };
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') {
      out += "\\\"";
    } else if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\b') {
      out += "\\b";
    } else if (c == '\f') {
      out += "\\f";
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else if (c < 0x80) {
      u(c);
    } else {
      const size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      uint32_t cp = c & (n == 2 ? 0x1F : n == 3 ? 0x0F : 0x07);
      for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
      if (cp >= 0x10000) {
        u(0xD800 + ((cp - 0x10000) >> 10));
        u(0xDC00 + ((cp - 0x10000) & 0x3FF));
      } else {
        u(cp);
      }
      i += n;
      continue;
    }
    ++i;
  }
  return out + "\"";
}

TEST(JsonEscape, StringsOfEveryLengthAndMix) {
  // Lengths around the 4-, 8- and 16-byte word paths and the 4096-byte chunks, with a
  // special character at every position.
  const std::string pieces[] = {"a", "é", "😀", "\n", "\"", "\x7f", "\x01", "€", " ", "\\"};
  std::mt19937 rng(7);
  for (size_t len :
       {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24, 31, 33, 64, 100, 4095, 4096, 4097, 9000}) {
    std::string clean(len, 'x');
    ASSERT_EQ(json_string(clean), reference_escape(clean)) << len;
    for (int trial = 0; trial < 20; ++trial) {
      std::string s;
      while (s.size() < len) s += pieces[rng() % std::size(pieces)];
      ASSERT_EQ(json_string(s), reference_escape(s)) << len;
      std::string one = clean;  // a single special character
      if (len > 0) one.replace(rng() % len, 1, pieces[1 + rng() % (std::size(pieces) - 1)]);
      ASSERT_EQ(json_string(one), reference_escape(one)) << len;
    }
  }
}

TEST(JsonEscape, MaskFindsTheFirstSpecialByte) {
  // Every byte value at every position of an otherwise clean word: the mask is non-zero
  // exactly for the bytes kJsonSpecial lists, and its lowest mark is that byte.
  for (int b = 0; b < 256; ++b) {
    for (int pos = 0; pos < 8; ++pos) {
      uint64_t w = 0x6161616161616161ull;  // "aaaaaaaa"
      w &= ~(uint64_t{0xff} << (8 * pos));
      w |= uint64_t(b) << (8 * pos);
      const uint64_t mask = detail::json_escape_mask(w);
      if (detail::kJsonSpecial[b] == 0) {
        ASSERT_EQ(mask, 0u) << b << " at " << pos;
      } else {
        ASSERT_NE(mask, 0u) << b << " at " << pos;
        ASSERT_EQ(std::countr_zero(mask) / 8, pos) << b << " at " << pos;
      }
    }
  }
  // Random words: the lowest mark is always the first special byte (marks above it may be
  // wrong, by design), and no mark means no special byte.
  std::mt19937_64 rng(11);
  for (int i = 0; i < 200000; ++i) {
    uint64_t w = rng();
    if (i % 2 == 0) w = (w & 0x3f3f3f3f3f3f3f3full) | 0x4040404040404040ull;  // mostly clean
    int first = 8;
    for (int pos = 7; pos >= 0; --pos)
      if (detail::kJsonSpecial[(w >> (8 * pos)) & 0xff] != 0) first = pos;
    const uint64_t mask = detail::json_escape_mask(w);
    ASSERT_EQ(mask == 0 ? 8 : std::countr_zero(mask) / 8, first) << std::hex << w;
  }
}

TEST(JsonEscape, RawCursorWithSuffix) {
  // put_json_string writes through a JsonOut cursor and appends a suffix (the writer's
  // `": "` after a key), on both the inline path (clean, up to 16 bytes) and the slow one.
  for (size_t len = 0; len <= 40; ++len) {
    for (const std::string& extra : {std::string(), std::string("\n"), std::string("é")}) {
      std::string s(len, 'k');
      if (!extra.empty() && len > 0) s.replace(len / 2, 1, extra);
      std::string out = "{";
      JsonOut o(out);
      char* d = o.attach(0);  // no room: put_json_string must ask for it
      d = put_json_string(s, d, o, ": ");
      d = put_json_string(s, d, o);
      o.finish(d);
      // append, not "{" + std::string: GCC 12's -O3 warns falsely (-Wrestrict) on the latter.
      const std::string expected = std::string("{").append(reference_escape(s));
      EXPECT_EQ(out, expected + ": " + reference_escape(s)) << len;
    }
  }
}

TEST(JsonEscape, RawCursorGrowsAcrossManyStrings) {
  std::string out;
  JsonOut o(out);
  char* d = o.attach(16);
  std::string expected;
  for (int i = 0; i < 5000; ++i) {
    const std::string s = std::string(static_cast<size_t>(i % 37), 'z') + (i % 5 == 0 ? "\t" : "");
    d = put_json_string(s, d, o, ", ");
    expected += reference_escape(s) + ", ";
  }
  o.finish(d);
  EXPECT_EQ(out, expected);
}

}  // namespace
}  // namespace weft
