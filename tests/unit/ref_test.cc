// Ref URIs, percent-encoding and object-name sanitising. Expected encodings come from
// python3's urllib.parse.quote(s, safe=""), sanitised names from Weave's
// sanitize_object_name run under python3.
#include <gtest/gtest.h>

#include <string>

#include <weft/ref.h>

namespace weft {
namespace {

constexpr const char* kDigest = "6jAV4T6F42RKlabeB2RO0BXkbFFPrKyU2yyQedpotB8";
constexpr const char* kTableDigest =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Ref make(Ref::Kind kind, std::string name, std::string digest,
         std::vector<std::pair<std::string, std::string>> extra = {}) {
  Ref r;
  r.entity = "ent";
  r.project = "proj";
  r.kind = kind;
  r.name = std::move(name);
  r.digest = std::move(digest);
  r.extra = std::move(extra);
  return r;
}

void expect_round_trip(const Ref& r, const std::string& uri) {
  EXPECT_EQ(r.uri(), uri);
  Result<Ref> parsed = Ref::parse(uri);
  ASSERT_TRUE(parsed.is_ok()) << parsed.error();
  EXPECT_EQ(parsed.value(), r);
}

TEST(Ref, KindNames) {
  EXPECT_STREQ(ref_kind_name(Ref::Kind::kObject), "object");
  EXPECT_STREQ(ref_kind_name(Ref::Kind::kOp), "op");
  EXPECT_STREQ(ref_kind_name(Ref::Kind::kTable), "table");
  EXPECT_STREQ(ref_kind_name(Ref::Kind::kCall), "call");
}

TEST(Ref, RoundTripsEachKind) {
  expect_round_trip(make(Ref::Kind::kObject, "my-model", kDigest),
                    std::string("weave:///ent/proj/object/my-model:") + kDigest);
  expect_round_trip(make(Ref::Kind::kOp, "predict", kDigest),
                    std::string("weave:///ent/proj/op/predict:") + kDigest);
  expect_round_trip(make(Ref::Kind::kTable, "", kTableDigest),
                    std::string("weave:///ent/proj/table/") + kTableDigest);
  expect_round_trip(make(Ref::Kind::kCall, "", "0190f5a4-7b1c-7def-8123-456789abcdef"),
                    "weave:///ent/proj/call/0190f5a4-7b1c-7def-8123-456789abcdef");
}

TEST(Ref, RoundTripsExtraPath) {
  const std::string rows = "XdhgKMbg1k4iUYb5astpM4ssWXZN95FiEH9cS7NNExA";
  expect_round_trip(
      make(Ref::Kind::kObject, "ds", kDigest, {{"attr", "rows"}, {"id", rows}, {"key", "v"}}),
      std::string("weave:///ent/proj/object/ds:") + kDigest + "/attr/rows/id/" + rows +
          "/key/v");
  expect_round_trip(make(Ref::Kind::kCall, "", "c1", {{"key", "output"}, {"index", "3"}}),
                    "weave:///ent/proj/call/c1/key/output/index/3");
  expect_round_trip(make(Ref::Kind::kOp, "f", "d", {{"key", ""}}), "weave:///ent/proj/op/f:d/key/");
}

TEST(Ref, PercentEncodesExtraValues) {
  EXPECT_EQ(percent_encode("a/b"), "a%2Fb");
  EXPECT_EQ(percent_encode("\xc3\xa9"), "%C3%A9");                        // é
  EXPECT_EQ(percent_encode("\xf0\x9f\x98\x80 x"), "%F0%9F%98%80%20x");      // 😀 x
  EXPECT_EQ(percent_encode("_.-~"), "_.-~");
  EXPECT_EQ(percent_encode("a:b%c"), "a%3Ab%25c");
  EXPECT_EQ(percent_encode(""), "");
  expect_round_trip(make(Ref::Kind::kObject, "o", "d",
                         {{"key", "a/b"}, {"key", "\xe6\x97\xa5\xe6\x9c\xac"},
                          {"attr", "\xf0\x9f\x98\x80 x"}, {"key", "a:b%c"}}),
                    "weave:///ent/proj/object/o:d/key/a%2Fb/key/%E6%97%A5%E6%9C%AC"
                    "/attr/%F0%9F%98%80%20x/key/a%3Ab%25c");
}

TEST(Ref, ParseAcceptsLowercaseAndRawCharacters) {
  Result<Ref> r = Ref::parse("weave:///e/p/object/o:d/key/%c3%a9/key/caf\xc3\xa9");
  ASSERT_TRUE(r.is_ok()) << r.error();
  ASSERT_EQ(r->extra.size(), 2u);
  EXPECT_EQ(r->extra[0].second, "\xc3\xa9");
  EXPECT_EQ(r->extra[1].second, "caf\xc3\xa9");
}

void expect_parse_error(std::string_view uri, std::string_view fragment) {
  Result<Ref> r = Ref::parse(uri);
  ASSERT_FALSE(r.is_ok()) << "parsed: " << uri;
  EXPECT_NE(r.error().find(fragment), std::string::npos) << r.error();
  EXPECT_NE(r.error().find("invalid ref"), std::string::npos) << r.error();
  EXPECT_EQ(r.code(), StatusCode::kInvalidArgument) << uri;
}

TEST(Ref, ParseErrors) {
  expect_parse_error("", "weave:///");
  expect_parse_error("http:///e/p/object/o:d", "weave:///");
  expect_parse_error("weave://e/p/object/o:d", "weave:///");
  expect_parse_error("weave:///e/p/object", "expected");
  expect_parse_error("weave:///e/p", "expected");
  expect_parse_error("weave:////p/object/o:d", "empty entity");
  expect_parse_error("weave:///e//object/o:d", "empty project");
  expect_parse_error("weave:///e/p/thing/o:d", "unknown kind");
  expect_parse_error("weave:///e/p/object/od", "missing ':'");
  expect_parse_error("weave:///e/p/op/a:b:c", "more than one ':'");
  expect_parse_error("weave:///e/p/object/:d", "empty name");
  expect_parse_error("weave:///e/p/object/o:", "empty digest");
  expect_parse_error("weave:///e/p/table/", "empty table digest");
  expect_parse_error("weave:///e/p/call/", "empty call id");
  expect_parse_error("weave:///e/p/table/abc/key/x", "no extra path");
  expect_parse_error("weave:///e/p/object/o:d/", "pairs");
  expect_parse_error("weave:///e/p/object/o:d/key", "pairs");
  expect_parse_error("weave:///e/p/object/o:d/key/a/index", "pairs");
  expect_parse_error("weave:///e/p/object/o:d/field/a", "bad edge");
  expect_parse_error("weave:///e/p/object/o:d/key/%zz", "bad percent escape");
  expect_parse_error("weave:///e/p/object/o:d/key/ab%4", "truncated percent escape");
  expect_parse_error("weave:///e/p/object/o:d/key/%", "truncated percent escape");
  expect_parse_error("weave:///e/p/object/o:d/key/%ff", "not valid UTF-8");
}

Result<std::string> sanitize(std::string_view s) { return sanitize_object_name(s); }

TEST(SanitizeObjectName, MatchesWeave) {
  const std::pair<const char*, const char*> cases[] = {
      {"my model", "my-model"},     {"a..b", "a-b"},      {"a._b", "a-b"},
      {"__init__", "init"},         {"-x-", "x"},         {"a/b:c", "a-b-c"},
      {"a.b", "a.b"},               {"a--b", "a-b"},      {"a - b", "a-b"},
      {".hidden", ".hidden"},       {"x.", "x."},         {"a_-_b", "a-b"},
      {"a__b", "a-b"},              {"a.-.", "a"},        {"..a..", "a"},
      {"_a_", "a"},                 {"Model_v2", "Model_v2"},
      {"\xc3\xa9 caf\xc3\xa9", "\xc3\xa9-caf\xc3\xa9"},  // é café -> é-café
      // 日本語 モデル -> 日本語-モデル
      {"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \xe3\x83\xa2\xe3\x83\x87\xe3\x83\xab",
       "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e-\xe3\x83\xa2\xe3\x83\x87\xe3\x83\xab"},
  };
  for (const auto& [in, want] : cases) {
    Result<std::string> got = sanitize(in);
    ASSERT_TRUE(got.is_ok()) << in << ": " << got.error();
    EXPECT_EQ(got.value(), want) << "input: " << in;
  }
}

TEST(SanitizeObjectName, KnownDeviationNonAsciiSymbolsAreWordCharacters) {
  // Weave (Python's Unicode \w) gives "a-b" for these; weft keeps them (see ref.cc).
  EXPECT_EQ(sanitize("a\xe2\x80\x93" "b").value(), "a\xe2\x80\x93" "b");  // U+2013
  EXPECT_EQ(sanitize("a\xf0\x9f\x98\x80" "b").value(), "a\xf0\x9f\x98\x80" "b");  // emoji
}

TEST(SanitizeObjectName, EmptyResultIsAnError) {
  for (const char* in : {"", "  ", "-", "_", "__--__", "/:/", "._."}) {
    Result<std::string> got = sanitize(in);
    EXPECT_FALSE(got.is_ok()) << "input: '" << in << "' gave '" << got.value() << "'";
  }
  EXPECT_NE(sanitize("  ").error().find("invalid object name"), std::string::npos);
}

TEST(SanitizeObjectName, InvalidUtf8IsAnError) {
  EXPECT_FALSE(sanitize("ab\xff").is_ok());
  EXPECT_FALSE(sanitize("ab\xc3").is_ok());
}

TEST(SanitizeObjectName, TruncatesToMaxCharacters) {
  EXPECT_EQ(sanitize(std::string(200, 'a')).value(), std::string(kMaxObjectNameLength, 'a'));
  // Code points, not bytes: 200 two-byte characters keep 128 characters = 256 bytes.
  std::string e_acute;
  for (int i = 0; i < 200; ++i) e_acute += "\xc3\xa9";
  const std::string got = sanitize(e_acute).value();
  EXPECT_EQ(got.size(), 2 * kMaxObjectNameLength);
  EXPECT_EQ(got, e_acute.substr(0, 2 * kMaxObjectNameLength));
  // Weave truncates after stripping, so the result may end in '-'.
  EXPECT_EQ(sanitize(std::string(127, 'a') + " b").value(), std::string(127, 'a') + "-");
  // Stripping happens first, so leading junk does not eat into the 128.
  EXPECT_EQ(sanitize("__" + std::string(128, 'b')).value(), std::string(128, 'b'));
}

}  // namespace
}  // namespace weft
