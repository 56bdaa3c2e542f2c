// Canonical JSON tests. Every hard-coded expected string was printed by python3's
// json.dumps(v, sort_keys=True) (file digests: weave-compat.md §1's base digest, also
// computed with python3's hashlib + base64).
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <weft/json.h>
#include <weft/ref.h>
#include <weft/value.h>

namespace weft {
namespace {

Value str(std::string s) { return Value::string(std::move(s)); }
Value num(double d) { return Value::number(d); }
Value integer(int64_t i) { return Value::integer(i); }

std::string float_repr(double d) {
  std::string out;
  append_float_repr(d, out);
  return out;
}

std::string json_string(std::string_view s) {
  std::string out;
  append_json_string(s, out);
  return out;
}

TEST(CanonicalJson, IssueExample) {
  // printf '{"b":[1.0,1e16],"a":"\u00e9"}' | python3 -c 'import json,sys;
  //   print(json.dumps(json.load(sys.stdin), sort_keys=True))'
  const Result<Value> parsed = parse_json(R"({"b":[1.0,1e16],"a":"\u00e9"})");
  ASSERT_TRUE(parsed.is_ok()) << parsed.error();
  EXPECT_EQ(canonical_json(parsed.value()), R"({"a": "\u00e9", "b": [1.0, 1e+16]})");
  const Value built = Value::dict({{"b", Value::list({num(1.0), num(1e16)})}, {"a", str("é")}});
  EXPECT_EQ(canonical_json(built), R"({"a": "\u00e9", "b": [1.0, 1e+16]})");
}

TEST(CanonicalJson, Scalars) {
  EXPECT_EQ(canonical_json(Value()), "null");
  EXPECT_EQ(canonical_json(Value::boolean(true)), "true");
  EXPECT_EQ(canonical_json(Value::boolean(false)), "false");
  EXPECT_EQ(canonical_json(integer(0)), "0");
  EXPECT_EQ(canonical_json(integer(-17)), "-17");
  EXPECT_EQ(canonical_json(integer(std::numeric_limits<int64_t>::max())), "9223372036854775807");
  EXPECT_EQ(canonical_json(integer(std::numeric_limits<int64_t>::min())), "-9223372036854775808");
  EXPECT_EQ(canonical_json(str("")), R"("")");
}

TEST(CanonicalJson, BigIntegersAreWrittenExactly) {
  EXPECT_EQ(canonical_json(Value::big_integer("123456789012345678901234567890")),
            "123456789012345678901234567890");
  EXPECT_EQ(canonical_json(Value::big_integer("-9223372036854775809")), "-9223372036854775809");
  EXPECT_EQ(canonical_json(Value::big_integer("18446744073709551616")), "18446744073709551616");
  const std::string digits(500, '7');
  EXPECT_EQ(canonical_json(Value::big_integer(digits)), digits);
}

TEST(CanonicalJson, FloatsAsPythonRepr) {
  const std::pair<double, const char*> cases[] = {
      {1.0, "1.0"},
      {-0.0, "-0.0"},
      {0.0, "0.0"},
      {0.1, "0.1"},
      {0.0001, "0.0001"},
      {1e-05, "1e-05"},
      {123.456, "123.456"},
      {1e16, "1e+16"},
      {1.5e16, "1.5e+16"},
      {1.2345678901234568e17, "1.2345678901234568e+17"},
      {5e-324, "5e-324"},  // the smallest subnormal
      {2.2250738585072014e-308, "2.2250738585072014e-308"},
      {1.7976931348623157e308, "1.7976931348623157e+308"},
      {9007199254740993.0, "9007199254740992.0"},
      {1e15, "1000000000000000.0"},
      {123456789012345.6, "123456789012345.6"},
      {1e22, "1e+22"},
      {1e23, "1e+23"},
      {0.1 + 0.2, "0.30000000000000004"},
      {100.0, "100.0"},
      {0.00001234, "1.234e-05"},
      {9999999999999998.0, "9999999999999998.0"},
      {1e-7, "1e-07"},
      {-1.5, "-1.5"},
      {2.5e-5, "2.5e-05"},
      {4.35, "4.35"},
      {1.0 / 3, "0.3333333333333333"},
      {2.0 / 3, "0.6666666666666666"},
      {1e100, "1e+100"},
      {-1e-100, "-1e-100"},
      {18446744073709551616.0, "1.8446744073709552e+19"},
      {1.7976931348623157e308 / 3, "5.992310449541053e+307"},
      {9223372036854775808.0, "9.223372036854776e+18"},
      {1e21, "1e+21"},
      {12345678.9, "12345678.9"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
  };
  for (const auto& [d, expected] : cases) {
    EXPECT_EQ(float_repr(d), expected);
    EXPECT_EQ(canonical_json(num(d)), expected);
  }
}

// Python's repr from std::to_chars's shortest digits (libstdc++ uses Ryu, and Python's
// repr picks the same digits). The writer has its own, faster, shortest-digit search;
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

TEST(CanonicalJson, FloatsAgreeWithShortestRoundTripOnRandomBits) {
  std::mt19937_64 rng(20240611);
  auto check = [](uint64_t bits) {
    double d;
    std::memcpy(&d, &bits, sizeof d);
    if (!std::isfinite(d)) return;
    ASSERT_EQ(float_repr(d), reference_repr(d)) << "bits " << std::hex << bits;
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

TEST(CanonicalJson, StringEscapes) {
  // json.dumps(["\"\\/\b\f\n\r\t", "\x00\x01\x1f\x7f", "é€\u2028\uffff😀\U0010ffff", "a/b"])
  const Value v = Value::list({str("\"\\/\b\f\n\r\t"), str(std::string("\x00\x01\x1f\x7f", 4)),
                               str("é€\u2028\uffff😀\U0010ffff"), str("a/b")});
  EXPECT_EQ(canonical_json(v), R"(["\"\\/\b\f\n\r\t", "\u0000\u0001\u001f\u007f", )"
                               R"("\u00e9\u20ac\u2028\uffff\ud83d\ude00\udbff\udfff", "a/b"])");
  EXPECT_EQ(json_string(" ~"), R"(" ~")");  // the printable ASCII bounds stay as they are
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

TEST(CanonicalJson, StringsOfEveryLengthAndMix) {
  // Lengths around the writer's 4-, 8- and 16-byte word paths and its 4096-byte chunks,
  // with a special character at every position.
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

TEST(CanonicalJson, BrokenUtf8BecomesReplacementCharacters) {
  // Strings must be valid UTF-8 (the parser checks, builders trust the caller). If a
  // caller breaks that, each bad byte is written as U+FFFD rather than read past.
  EXPECT_EQ(json_string("a\xff\xc3"), R"("a\ufffd\ufffd")");
  EXPECT_EQ(json_string("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")");  // an encoded surrogate
  std::string expected = "\"";
  for (int i = 0; i < 10000; ++i) expected += "\\ufffd";
  EXPECT_EQ(json_string(std::string(10000, '\x80')), expected + "\"");
}

TEST(CanonicalJson, AppendsWithoutTouchingWhatIsThere) {
  std::string out = "prefix:";
  append_json_string("é", out);
  append_float_repr(0.5, out);
  write_canonical_json(Value::list({integer(1)}), out);
  EXPECT_EQ(out, R"(prefix:"\u00e9"0.5[1])");
}

TEST(CanonicalJson, KeysSortedByCodePoint) {
  const Value v = Value::dict({
      {"b", integer(1)},
      {"a", integer(2)},
      {"", integer(3)},
      {"metric_10", integer(4)},
      {"metric_2", integer(5)},
      {"metric_1", integer(6)},
      {"é", integer(7)},
      {"z", integer(8)},
      {"Z", integer(9)},
      {std::string("a\0b", 3), integer(10)},
      {std::string("a\0", 2), integer(11)},
      {"abcdefghijklmnopq", integer(12)},
      {"abcdefghijklmnopr", integer(13)},
      {"abcdefghijklmnop", integer(14)},
      {"abcdefgh", integer(15)},
      {"abcdefghi", integer(16)},
      {"😀", integer(17)},
      {"\uffff", integer(18)},
  });
  EXPECT_EQ(canonical_json(v),
            R"({"": 3, "Z": 9, "a": 2, "a\u0000": 11, "a\u0000b": 10, "abcdefgh": 15, )"
            R"("abcdefghi": 16, "abcdefghijklmnop": 14, "abcdefghijklmnopq": 12, )"
            R"("abcdefghijklmnopr": 13, "b": 1, "metric_1": 6, "metric_10": 4, "metric_2": 5, )"
            R"("z": 8, "\u00e9": 7, "\uffff": 18, "\ud83d\ude00": 17})");
}

TEST(CanonicalJson, WideDictWithSharedPrefixes) {
  // Keys that agree on their first 8 or 16 bytes exercise every comparison step.
  std::mt19937 rng(3);
  std::vector<DictEntry> entries;
  std::vector<std::string> keys;
  for (int i = 0; i < 2000; ++i) {
    std::string k = (i % 3 == 0) ? "shared_prefix_16" : (i % 3 == 1) ? "pre_" : "";
    const int extra = static_cast<int>(rng() % 6);
    for (int j = 0; j < extra; ++j) k += "ab\x01\xc3\xa9"[rng() % 5];
    if (std::find(keys.begin(), keys.end(), k) != keys.end()) continue;
    keys.push_back(k);
    entries.emplace_back(k, integer(i));
  }
  // Only valid UTF-8 keys matter to Python; the byte order is what is checked here.
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  std::string expected = "{";
  for (const std::string& k : sorted) {
    if (expected.size() > 1) expected += ", ";
    const auto it = std::find_if(entries.begin(), entries.end(),
                                 [&](const DictEntry& e) { return e.first == k; });
    expected += json_string(k) + ": " + std::to_string(it->second.as_int());
  }
  expected += "}";
  EXPECT_EQ(canonical_json(Value::dict(entries)), expected);
}

TEST(CanonicalJson, EmptyContainers) {
  const Value v =
      Value::list({Value::list({}), Value::dict({}), Value::list({Value::list({})}),
                   Value::dict({{"a", Value::dict({})}}), Value::dict({{"a", Value::list({})}})});
  EXPECT_EQ(canonical_json(v), R"([[], {}, [[]], {"a": {}}, {"a": []}])");
  EXPECT_EQ(canonical_json(Value::list({})), "[]");
  EXPECT_EQ(canonical_json(Value::dict({})), "{}");
}

TEST(CanonicalJson, RepeatedKeyKeepsLastValue) {
  const Value v = Value::dict({{"a", integer(1)}, {"b", integer(2)}, {"a", integer(3)}});
  EXPECT_EQ(canonical_json(v), R"({"a": 3, "b": 2})");
}

TEST(CanonicalJson, ObjectRootIsItsDict) {
  const Value model = make_object("Model", {{"temperature", num(0.5)}, {"name", str("x")}});
  EXPECT_EQ(canonical_json(model),
            R"({"_bases": ["Object", "BaseModel"], "_class_name": "Model", "_type": "Model", )"
            R"("name": "x", "temperature": 0.5})");
  EXPECT_EQ(canonical_json(make_object("Thing", {}, "", {})),
            R"({"_bases": [], "_class_name": "Thing", "_type": "Thing"})");
}

// Python: base digest of the source, {"_type": ..., "files": {"obj.py": d}, "weave_type": ...}
constexpr const char* kOpSource = "def f(x):\n    return x + 1\n";
constexpr const char* kOpJson =
    R"({"_type": "CustomWeaveType", "files": )"
    R"({"obj.py": "ZFRXAcqltCgkHCRINIU1Ld8RfCs0yeQYethuyTahWrM"}, "weave_type": {"type": "Op"}})";

TEST(CanonicalJson, OpIsItsCustomWeaveType) {
  EXPECT_EQ(canonical_json(make_op("f", kOpSource)), kOpJson);
}

Value image_blob() {
  return make_blob("PIL.Image.Image",
                   {{"meta.json", std::make_shared<const std::string>(R"({"w": 1})")},
                    {"image.png", std::make_shared<const std::string>("\x89PNG-bytes")}});
}
constexpr const char* kImageJson =
    R"({"_type": "CustomWeaveType", "files": )"
    R"({"image.png": "fF7lOm5kSEMjZptUrLdOUAjhyUXXToRXslPUJsmVxtk", )"
    R"("meta.json": "h6v9aLErd7TVdqPBzdXVWmxYZx4kMej4zEwjpIODkvk"}, )"
    R"("weave_type": {"type": "PIL.Image.Image"}})";

TEST(CanonicalJson, BlobIsInlineWithSortedFileDigests) {
  EXPECT_EQ(canonical_json(image_blob()), kImageJson);
  EXPECT_EQ(canonical_json(make_blob("Blob", {})),
            R"({"_type": "CustomWeaveType", "files": {}, "weave_type": {"type": "Blob"}})");
  // A repeated file name keeps the last file, as a Python dict would.
  const Value twice = make_blob("Blob", {{"f", std::make_shared<const std::string>("first")},
                                         {"f", std::make_shared<const std::string>("")}});
  EXPECT_EQ(
      canonical_json(twice),
      R"({"_type": "CustomWeaveType", "files": )"
      R"({"f": "47DEQpj8HBSaXYTImWX5JCeuQeRkm5NMpJWZG3hSuFU"}, "weave_type": {"type": "Blob"}})");
}

Ref object_ref(std::string name, std::string digest) {
  Ref r;
  r.entity = "e";
  r.project = "p";
  r.kind = Ref::Kind::kObject;
  r.name = std::move(name);
  r.digest = std::move(digest);
  return r;
}

TEST(CanonicalJson, RefIsItsUri) {
  EXPECT_EQ(canonical_json(make_ref(object_ref("ds", "abc"))), R"("weave:///e/p/object/ds:abc")");
  Ref with_path = object_ref("ds", "abc");
  with_path.extra = {{"key", "a b/é"}};
  EXPECT_EQ(canonical_json(Value::list({make_ref(with_path)})),
            "[" + json_string(with_path.uri()) + "]");
}

TEST(CanonicalJson, ChildrenInlineWithoutAChildWriter) {
  const Value child = make_object("Child", {{"x", integer(1)}});
  const Value table = make_table({Value::dict({{"b", integer(2)}, {"a", integer(1)}})});
  const Value parent = make_object(
      "Parent",
      {{"child", child}, {"rows", table}, {"op", make_op("f", kOpSource)}, {"img", image_blob()}});
  EXPECT_EQ(
      canonical_json(parent),
      std::string(
          R"({"_bases": ["Object", "BaseModel"], "_class_name": "Parent", "_type": "Parent", )") +
          R"("child": {"_bases": ["Object", "BaseModel"], "_class_name": "Child", )" +
          R"("_type": "Child", "x": 1}, )" +
          R"("img": )" + kImageJson + R"(, "op": )" + kOpJson + R"(, "rows": [{"a": 1, "b": 2}]})");
  EXPECT_EQ(canonical_json(table), R"([{"a": 1, "b": 2}])");  // a root table is its rows
  EXPECT_EQ(canonical_json(make_table({})), "[]");
}

// Writes each child as a made-up ref string and records what it was handed.
class RecordingChildWriter : public ChildWriter {
 public:
  void write_child(const Value& child, std::string& out) override {
    children.push_back(child);
    out += "\"ref:" + std::string(kind_name(child.kind())) + "\"";
  }
  void on_blob(const Value& blob) override { blobs.push_back(blob); }
  std::vector<Value> children;
  std::vector<Value> blobs;
};

TEST(CanonicalJson, ChildWriterGetsEverythingBelowTheRoot) {
  const Value child = make_object("Child", {{"x", integer(1)}});
  const Value table = make_table({Value::dict({{"a", integer(1)}})});
  const Value op = make_op("f", kOpSource);
  const Value root =
      make_object("Root", {{"list", Value::list({child, Value::dict({{"t", table}})})},
                           {"op", op},
                           {"img", image_blob()}});
  RecordingChildWriter w;
  EXPECT_EQ(canonical_json(root, &w),
            std::string(
                R"({"_bases": ["Object", "BaseModel"], "_class_name": "Root", "_type": "Root", )") +
                R"("img": )" + kImageJson +
                R"(, "list": ["ref:Object", {"t": "ref:Table"}], "op": "ref:Op"})");
  ASSERT_EQ(w.children.size(), 3u);
  // In output order: "list" (its Object, then its Table) before "op".
  EXPECT_EQ(w.children[0].node(), child.node());
  EXPECT_EQ(w.children[1].node(), table.node());
  EXPECT_EQ(w.children[2].node(), op.node());
  ASSERT_EQ(w.blobs.size(), 1u);
  EXPECT_EQ(w.blobs[0].kind(), ValueKind::kBlob);
}

TEST(CanonicalJson, RootIsWrittenInFullEvenWithAChildWriter) {
  RecordingChildWriter w;
  EXPECT_EQ(canonical_json(make_op("f", kOpSource), &w), kOpJson);
  EXPECT_EQ(canonical_json(make_table({Value::dict({{"a", integer(1)}})}), &w), R"([{"a": 1}])");
  EXPECT_EQ(canonical_json(image_blob(), &w), kImageJson);
  EXPECT_TRUE(w.children.empty());
  EXPECT_EQ(w.blobs.size(), 1u);  // a root blob is reported too
}

// A ChildWriter that canonicalises the child itself (re-entering the writer on this thread).
class InliningChildWriter : public ChildWriter {
 public:
  void write_child(const Value& child, std::string& out) override {
    write_canonical_json(child, out, this);
  }
};

TEST(CanonicalJson, ChildWriterMayReenterTheWriter) {
  Value v = make_object("Leaf", {{"x", num(0.25)}});
  for (int i = 0; i < 50; ++i) {
    const Value leaf = make_object("Leaf", {{"x", integer(i)}});
    v = make_object(
        "Node", {{"next", v}, {"items", Value::list({integer(i), Value::dict({{"k", leaf}})})}});
  }
  InliningChildWriter w;
  EXPECT_EQ(canonical_json(v, &w), canonical_json(v));
}

class ThrowingChildWriter : public ChildWriter {
 public:
  void write_child(const Value&, std::string& out) override {
    out += "garbage";
    throw std::runtime_error("child failed");
  }
};

TEST(CanonicalJson, ChildWriterExceptionLeavesOutputAsItWas) {
  const Value root = make_object("Root", {{"a", Value::list({integer(1), make_object("C", {})})}});
  ThrowingChildWriter w;
  std::string out = "keep";
  EXPECT_THROW(write_canonical_json(root, out, &w), std::runtime_error);
  EXPECT_EQ(out, "keep");
  // The thread's scratch state was released: the writer still works.
  EXPECT_EQ(canonical_json(Value::dict({{"b", integer(1)}, {"a", integer(2)}})),
            R"({"a": 2, "b": 1})");
}

TEST(CanonicalJson, DeepListNeedsNoStack) {
  constexpr int kDepth = 100000;
  Value v = Value::list({});
  for (int i = 1; i < kDepth; ++i) v = Value::list({v});
  const std::string json = canonical_json(v);
  EXPECT_EQ(json, std::string(kDepth, '[') + std::string(kDepth, ']'));
  // And back: the parser is iterative too, given a large enough max_depth.
  const Result<Value> parsed = parse_json(json, ParseOptions{.max_depth = kDepth});
  ASSERT_TRUE(parsed.is_ok()) << parsed.error();
  EXPECT_EQ(canonical_json(parsed.value()), json);
}

TEST(CanonicalJson, DeepDictsAndObjectsNeedNoStack) {
  constexpr int kDepth = 100000;
  Value v = integer(1);
  for (int i = 0; i < kDepth; ++i) v = Value::dict({{"a", v}, {"b", Value::list({})}});
  const std::string json = canonical_json(v);
  std::string expected;
  for (int i = 0; i < kDepth; ++i) expected += R"({"a": )";
  expected += "1";
  for (int i = 0; i < kDepth; ++i) expected += R"(, "b": []})";
  EXPECT_EQ(json, expected);

  Value obj = Value();
  for (int i = 0; i < 10000; ++i) obj = make_object("O", {{"x", obj}});
  const std::string obj_json = canonical_json(obj);
  const std::string level =
      R"({"_bases": ["Object", "BaseModel"], "_class_name": "O", "_type": "O", "x": )";
  EXPECT_EQ(obj_json.substr(0, 2 * level.size()), level + level);
  EXPECT_EQ(obj_json.size(), 10000 * (level.size() + 1) + 4);  // + "}" per level, + "null"
  EXPECT_EQ(obj_json.substr(10000 * level.size(), 5), "null}");
}

}  // namespace
}  // namespace weft
