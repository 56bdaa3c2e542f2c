// JSON parser tests. Accepted inputs and values follow python3's json.loads; every error
// offset below is the position python3's JSONDecodeError reports for the same (ASCII)
// input, except where a comment says Python accepts what weft cannot represent.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include <weft/json.h>
#include <weft/value.h>

namespace weft {
namespace {

Value parse_ok(std::string_view text, ParseOptions options = {}) {
  Result<Value> r = parse_json(text, options);
  EXPECT_TRUE(r.is_ok()) << "input: " << text << "\nerror: " << (r.is_ok() ? "" : r.error());
  return r.is_ok() ? std::move(r).value() : Value();
}

std::string parse_error(std::string_view text, ParseOptions options = {}) {
  Result<Value> r = parse_json(text, options);
  EXPECT_FALSE(r.is_ok()) << "input: " << text << " parsed as " << canonical_json(r.value());
  return r.is_ok() ? "" : r.error();
}

// The canonical JSON of what text parses to.
std::string canon(std::string_view text) { return canonical_json(parse_ok(text)); }

TEST(JsonParser, IssueExample) {
  EXPECT_EQ(canon(R"({"b":[1.0,1e16],"a":"\u00e9"})"), R"({"a": "\u00e9", "b": [1.0, 1e+16]})");
}

TEST(JsonParser, Literals) {
  EXPECT_TRUE(parse_ok("null").is_null());
  EXPECT_TRUE(parse_ok(" true ").as_bool());
  EXPECT_FALSE(parse_ok("false").as_bool());
  EXPECT_EQ(canon("[null,true,false]"), "[null, true, false]");
}

TEST(JsonParser, Integers) {
  EXPECT_EQ(parse_ok("0").as_int(), 0);
  const Value minus_zero = parse_ok("-0");  // an integer, not -0.0
  ASSERT_EQ(minus_zero.kind(), ValueKind::kInt);
  EXPECT_EQ(minus_zero.as_int(), 0);
  EXPECT_EQ(parse_ok("-9223372036854775808").as_int(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(parse_ok("9223372036854775807").as_int(), std::numeric_limits<int64_t>::max());
  const Value big = parse_ok("9223372036854775808");
  ASSERT_EQ(big.kind(), ValueKind::kBigInt);
  EXPECT_EQ(big.big_integer_text(), "9223372036854775808");
  EXPECT_EQ(parse_ok("-9223372036854775809").big_integer_text(), "-9223372036854775809");
  // std::string("1").append(...), not "1" + std::string(...): GCC 12's -O3 warns falsely
  // (-Wrestrict) on the latter.
  const std::string digits = std::string("1").append(std::string(120, '0')) + "7";
  EXPECT_EQ(canon("[" + digits + ", -" + digits + "]"), "[" + digits + ", -" + digits + "]");
}

TEST(JsonParser, Floats) {
  EXPECT_EQ(canon("[1.0, 1e2, 1E+2, 1e-2, 0.5, -2.5E-3, 1e16, 1.5e300]"),
            "[1.0, 100.0, 100.0, 0.01, 0.5, -0.0025, 1e+16, 1.5e+300]");
  const Value neg_zero = parse_ok("-0.0");
  ASSERT_EQ(neg_zero.kind(), ValueKind::kFloat);
  EXPECT_TRUE(std::signbit(neg_zero.as_double()));
  // Beyond the double range, as Python's float(): +/-inf, or a zero of the right sign.
  EXPECT_EQ(canon("[1e400, -1e400, 1e-400, -1e-400, 1.7976931348623159e308]"),
            "[Infinity, -Infinity, 0.0, -0.0, Infinity]");
  EXPECT_EQ(canon("[2.4703282292062328e-324, 2.4703282292062327e-324, 1e99999999999999999999]"),
            "[5e-324, 0.0, Infinity]");
  // Many digits (simdjson 3.0.1 gets "0." + 20 digits wrong; Python does not).
  EXPECT_EQ(canon("[0.579616395772110212815106338443456, 0.95000000000000000000]"),
            "[0.5796163957721102, 0.95]");
  EXPECT_EQ(canon(std::string("1").append(std::string(400, '0')) + ".5"), "Infinity");
  EXPECT_EQ(canon(std::string("0.").append(std::string(400, '0')) + "1"), "0.0");
}

TEST(JsonParser, NanAndInfinityLiterals) {
  EXPECT_EQ(canon("[NaN, Infinity, -Infinity]"), "[NaN, Infinity, -Infinity]");
  EXPECT_TRUE(std::isnan(parse_ok("NaN").as_double()));
  EXPECT_EQ(parse_ok(" -Infinity ").as_double(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(canon(R"({"x": Infinity})"), R"({"x": Infinity})");
}

TEST(JsonParser, Strings) {
  EXPECT_EQ(parse_ok(R"("\"\\\/\b\f\n\r\t")").as_string(), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(parse_ok(R"("\u00e9\u20AC")").as_string(), "é€");
  EXPECT_EQ(parse_ok(R"("\ud83d\ude00")").as_string(), "😀");
  EXPECT_EQ(parse_ok(R"("\u0000")").as_string(), std::string(1, '\0'));
  EXPECT_EQ(parse_ok("\"raw é 😀 \x7f\"").as_string(), "raw é 😀 \x7f");
  EXPECT_EQ(parse_ok(R"("")").as_string(), "");
}

TEST(JsonParser, Containers) {
  EXPECT_EQ(canon(" \t\n\r[ 1 , [ ] , { } , { \"a\" : [ { } ] } ] \n"),
            R"([1, [], {}, {"a": [{}]}])");
  const Value v = parse_ok(R"({"z": 1, "a": {"y": [true]}})");
  ASSERT_EQ(v.kind(), ValueKind::kDict);
  ASSERT_EQ(v.entries().size(), 2u);
  EXPECT_EQ(v.entries()[0].first, "z");  // document order is kept; sorting is the writer's
  EXPECT_EQ(v.entries()[1].first, "a");
}

TEST(JsonParser, RepeatedKeysKeepFirstPositionAndLastValue) {
  const Value v = parse_ok(R"({"a": 1, "b": 2, "a": 3})");  // Python: {'a': 3, 'b': 2}
  ASSERT_EQ(v.entries().size(), 2u);
  EXPECT_EQ(v.entries()[0].first, "a");
  EXPECT_EQ(v.entries()[0].second.as_int(), 3);
  EXPECT_EQ(v.entries()[1].first, "b");
}

TEST(JsonParser, RoundTripsCanonicalJson) {
  const std::string json =
      R"({"_bases": ["Object", "BaseModel"], "a": [1, -2.5, 1e-07, "\u00e9\n", null, true], )"
      R"("b": {"": {}, "c": []}, "n": 123456789012345678901234567890})";
  EXPECT_EQ(canon(json), json);
}

TEST(JsonParser, SyntaxErrorsWithOffsets) {
  const std::pair<std::string, std::string> cases[] = {
      {"", "invalid JSON at byte 0: expected a value"},
      {"   ", "invalid JSON at byte 3: expected a value"},
      {"[1,]", "invalid JSON at byte 3: expected a value"},
      {R"({"a":1,})", "invalid JSON at byte 7: expected a double-quoted property name"},
      {"[1 2]", "invalid JSON at byte 3: expected ',' or ']'"},
      {R"({"a" 1})", "invalid JSON at byte 5: expected ':'"},
      {R"({"a":1 "b":2})", "invalid JSON at byte 7: expected ',' or '}'"},
      {"[1] 2", "invalid JSON at byte 4: unexpected content after the JSON value"},
      {"01", "invalid JSON at byte 1: unexpected content after the JSON value"},
      {"1.", "invalid JSON at byte 1: unexpected content after the JSON value"},
      {"[1.e5]", "invalid JSON at byte 2: expected ',' or ']'"},
      {"[1e+]", "invalid JSON at byte 2: expected ',' or ']'"},
      {R"("abc)", "invalid JSON at byte 0: unterminated string"},
      {"\"a\x01\"", "invalid JSON at byte 2: invalid control character in string"},
      {R"("\x")", "invalid JSON at byte 1: invalid escape"},
      {R"("\u12")", "invalid JSON at byte 2: invalid \\u escape (expected four hex digits)"},
      {R"("\u12zz")", "invalid JSON at byte 2: invalid \\u escape (expected four hex digits)"},
      {"tru", "invalid JSON at byte 0: expected a value"},
      {"nul", "invalid JSON at byte 0: expected a value"},
      {"-", "invalid JSON at byte 0: expected a value"},
      {"[-]", "invalid JSON at byte 1: expected a value"},
      {"-NaN", "invalid JSON at byte 0: expected a value"},
      {"infinity", "invalid JSON at byte 0: expected a value"},
      {"+1", "invalid JSON at byte 0: expected a value"},
      {".5", "invalid JSON at byte 0: expected a value"},
      {"NaNx", "invalid JSON at byte 3: unexpected content after the JSON value"},
      {"[NaN1]", "invalid JSON at byte 4: expected ',' or ']'"},
      {"[true false]", "invalid JSON at byte 6: expected ',' or ']'"},
      {"1 2", "invalid JSON at byte 2: unexpected content after the JSON value"},
      {R"("a" "b")", "invalid JSON at byte 4: unexpected content after the JSON value"},
      {"null x", "invalid JSON at byte 5: unexpected content after the JSON value"},
      {"NaN 1", "invalid JSON at byte 4: unexpected content after the JSON value"},
      {"{1:2}", "invalid JSON at byte 1: expected a double-quoted property name"},
      {"[", "invalid JSON at byte 1: expected a value"},
      {"{", "invalid JSON at byte 1: expected a double-quoted property name"},
      {R"({"a")", "invalid JSON at byte 4: expected ':'"},
      {R"({"a":)", "invalid JSON at byte 5: expected a value"},
      {"]", "invalid JSON at byte 0: expected a value"},
      {"[}", "invalid JSON at byte 1: expected a value"},
      {"[1}", "invalid JSON at byte 2: expected ',' or ']'"},
      {R"({"a":1])", "invalid JSON at byte 6: expected ',' or '}'"},
      {std::string("[1]\0", 4), "invalid JSON at byte 3: unexpected content after the JSON value"},
      {"[1] [2]", "invalid JSON at byte 4: unexpected content after the JSON value"},
  };
  for (const auto& [input, message] : cases) EXPECT_EQ(parse_error(input), message) << input;
}

TEST(JsonParser, LoneSurrogatesAreRejected) {
  // Python accepts these (its str holds lone surrogates); weft strings are UTF-8, which
  // cannot, so they are errors rather than silently replaced characters.
  const std::string why = "unpaired UTF-16 surrogate escape (not representable in UTF-8)";
  EXPECT_EQ(parse_error(R"("\ud800")"), "invalid JSON at byte 1: " + why);
  EXPECT_EQ(parse_error(R"(["ok", "x\udc00"])"), "invalid JSON at byte 9: " + why);
  EXPECT_EQ(parse_error(R"("\ud800\u0041")"), "invalid JSON at byte 1: " + why);
  EXPECT_EQ(parse_error(R"({"\ude00": 1})"), "invalid JSON at byte 2: " + why);
}

TEST(JsonParser, ByteOrderMarkIsRejected) {
  // As json.loads does for a str; decode with utf-8-sig to drop it first.
  EXPECT_EQ(parse_error("\xEF\xBB\xBF[1]"),
            "invalid JSON at byte 0: unexpected UTF-8 byte order mark");
}

TEST(JsonParser, InvalidUtf8GivesTheFirstBadByte) {
  EXPECT_EQ(parse_error("[\"ab\xff\"]"), "invalid UTF-8 at byte 4");
  EXPECT_EQ(parse_error("\"\xc3"), "invalid UTF-8 at byte 1");                // truncated
  EXPECT_EQ(parse_error("\"\xc0\x80\""), "invalid UTF-8 at byte 1");          // overlong
  EXPECT_EQ(parse_error("\"ok\xed\xa0\x80\""), "invalid UTF-8 at byte 3");    // a surrogate
  EXPECT_EQ(parse_error("\"\xf4\x90\x80\x80\""), "invalid UTF-8 at byte 1");  // > U+10FFFF
  EXPECT_EQ(parse_error("\"\xe2\x82\""), "invalid UTF-8 at byte 1");          // cut short
  // Outside strings too, and before any syntax error (the text is decoded first).
  EXPECT_EQ(parse_error("[1, \xff]"), "invalid UTF-8 at byte 4");
  EXPECT_EQ(parse_error("[1,, \"\xff\"]"), "invalid UTF-8 at byte 6");
  // Valid multi-byte sequences right before the bad byte.
  EXPECT_EQ(parse_error("\"é€😀\x80\""), "invalid UTF-8 at byte 10");
}

std::string nested_arrays(size_t depth) {
  return std::string(depth, '[') + std::string(depth, ']');
}

TEST(JsonParser, DepthLimit) {
  EXPECT_EQ(canon(nested_arrays(1000)), nested_arrays(1000));
  EXPECT_EQ(parse_error(nested_arrays(1001)), "nesting deeper than 1000 at byte 1000");
  std::string objects;
  for (int i = 0; i < 1001; ++i) objects += R"({"a":)";
  objects += std::string("1").append(std::string(1001, '}'));
  EXPECT_EQ(parse_error(objects), "nesting deeper than 1000 at byte 5000");
  EXPECT_EQ(parse_error(R"([{"a": [[1]]}])", ParseOptions{.max_depth = 3}),
            "nesting deeper than 3 at byte 8");
  EXPECT_EQ(canon(R"([{"a": [1]}])"), R"([{"a": [1]}])");
  // max_depth 0 allows scalars only.
  EXPECT_EQ(parse_ok("7", ParseOptions{.max_depth = 0}).as_int(), 7);
  EXPECT_EQ(parse_error("[]", ParseOptions{.max_depth = 0}), "nesting deeper than 0 at byte 0");
}

TEST(JsonParser, HundredThousandDeepGivesTheDepthErrorNotACrash) {
  EXPECT_EQ(parse_error(nested_arrays(100000)), "nesting deeper than 1000 at byte 1000");
  EXPECT_EQ(parse_error(std::string(100000, '[')), "nesting deeper than 1000 at byte 1000");
  // An earlier syntax error is reported first.
  EXPECT_EQ(parse_error("[1 " + nested_arrays(100000)),
            "invalid JSON at byte 3: expected ',' or ']'");
}

TEST(JsonParser, LargeDocuments) {
  // Over the size for which the per-thread parser is kept.
  std::string json = "[";
  for (int i = 0; i < 20000; ++i)
    json += (i ? ", " : "") + std::string(R"("item \u00e9 )") + std::to_string(i) + "\"";
  json += "]";
  ASSERT_GT(json.size(), 64u * 1024);
  const Value v = parse_ok(json);
  ASSERT_EQ(v.items().size(), 20000u);
  EXPECT_EQ(v.items()[19999].as_string(), "item é 19999");
  EXPECT_EQ(canonical_json(v), json);
  EXPECT_EQ(canon("[1]"), "[1]");  // and small ones still parse afterwards
}

TEST(JsonParser, ReusableAfterErrors) {
  for (int i = 0; i < 3; ++i) {
    parse_error("[1,");
    parse_error("\"\xff\"");
    EXPECT_EQ(canon(R"({"k": [1, 2]})"), R"({"k": [1, 2]})");
  }
}

TEST(JsonParser, ParsesConcurrently) {
  std::vector<std::thread> threads;
  std::vector<int> failures(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &failures] {
      for (int i = 0; i < 500; ++i) {
        const std::string json =
            R"({"t": )" + std::to_string(t) + R"(, "i": )" + std::to_string(i) + "}";
        const Result<Value> r = parse_json(json);
        if (!r.is_ok() || r.value().find("i")->as_int() != i) ++failures[t];
        if (parse_json("[1,").is_ok()) ++failures[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int f : failures) EXPECT_EQ(f, 0);
}

}  // namespace
}  // namespace weft
