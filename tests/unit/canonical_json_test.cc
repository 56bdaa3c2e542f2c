// Canonical JSON writer tests: the walk, sorted keys, Objects, Tables, Ops, Blobs and the
// ChildWriter. Strings and floats are the writer's leaves and have their own tests
// (json_escape_test.cc, float_repr_test.cc); here they are only checked to arrive through
// the writer. Every hard-coded expected string was printed by python3's
// json.dumps(v, sort_keys=True) (file digests: the base digest of
// docs/COMPATIBILITY.md#digests, also computed with python3's hashlib + base64).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weft/json.h>
#include <weft/ref.h>
#include <weft/value.h>

#include "runtime/model/float_repr.h"
#include "runtime/model/json_escape.h"

namespace weft {
namespace {

Value str(std::string s) { return Value::string(std::move(s)); }
Value num(double d) { return Value::number(d); }
Value integer(int64_t i) { return Value::integer(i); }

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

TEST(CanonicalJson, FloatsAreTheirRepr) {
  // A few of float_repr_test's cases, through the writer.
  const std::pair<double, const char*> cases[] = {
      {1.0, "1.0"},
      {-0.0, "-0.0"},
      {0.0001, "0.0001"},
      {1e-05, "1e-05"},
      {1e16, "1e+16"},
      {5e-324, "5e-324"},
      {-1.7976931348623157e308, "-1.7976931348623157e+308"},
      {std::numeric_limits<double>::quiet_NaN(), "NaN"},
      {std::numeric_limits<double>::infinity(), "Infinity"},
      {-std::numeric_limits<double>::infinity(), "-Infinity"},
  };
  for (const auto& [d, expected] : cases) EXPECT_EQ(canonical_json(num(d)), expected);
  // Many in one value: each asks the output for kFloatReprRoom bytes, wherever it stands.
  std::mt19937_64 rng(5);
  std::vector<Value> items;
  std::string expected = "[";
  for (int i = 0; i < 3000; ++i) {
    const int exp = static_cast<int>(rng() % 200) - 150;
    const double d = std::ldexp(static_cast<double>(rng() >> 11), exp);
    items.push_back(num(i % 2 == 0 ? d : -d));
    if (i > 0) expected += ", ";
    append_float_repr(i % 2 == 0 ? d : -d, expected);
  }
  EXPECT_EQ(canonical_json(Value::list(items)), expected + "]");
}

TEST(CanonicalJson, StringEscapes) {
  // json.dumps(["\"\\/\b\f\n\r\t", "\x00\x01\x1f\x7f", "é€\u2028\uffff😀\U0010ffff", "a/b"])
  const Value v = Value::list({str("\"\\/\b\f\n\r\t"), str(std::string("\x00\x01\x1f\x7f", 4)),
                               str("é€\u2028\uffff😀\U0010ffff"), str("a/b")});
  EXPECT_EQ(canonical_json(v), R"(["\"\\/\b\f\n\r\t", "\u0000\u0001\u001f\u007f", )"
                               R"("\u00e9\u20ac\u2028\uffff\ud83d\ude00\udbff\udfff", "a/b"])");
  // Keys take the same path, followed by ": ", short or long, clean or not:
  // json.dumps({"k": 1, "a\tb": 2, "long_key_with_caf\u00e9": 3, "clean_key_of_twenty": 4},
  //            sort_keys=True)
  const Value d = Value::dict({{"k", integer(1)},
                               {"a\tb", integer(2)},
                               {"long_key_with_café", integer(3)},
                               {"clean_key_of_twenty", integer(4)}});
  EXPECT_EQ(canonical_json(d),
            R"({"a\tb": 2, "clean_key_of_twenty": 4, "k": 1, "long_key_with_caf\u00e9": 3})");
}

TEST(CanonicalJson, AppendsWithoutTouchingWhatIsThere) {
  std::string out = "prefix:";
  write_canonical_json(Value::list({integer(1)}), out);
  write_canonical_json(str("é"), out);
  EXPECT_EQ(out, R"(prefix:[1]"\u00e9")");
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
