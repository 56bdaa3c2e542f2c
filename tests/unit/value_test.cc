// The value model: dict semantics, big integers, builders' errors, deep destruction.
#include <gtest/gtest.h>

#include <initializer_list>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <weft/json.h>
#include <weft/value.h>

namespace weft {
namespace {

std::vector<std::string> keys(const Value& d) {
  std::vector<std::string> k;
  for (const auto& e : d.entries()) k.push_back(e.first);
  return k;
}

TEST(Value, RepeatedKeysKeepFirstPositionAndLastValueLikePython) {
  Value d = Value::dict({{"a", Value::integer(1)}, {"b", Value::integer(2)}, {"a", Value::integer(3)}});
  EXPECT_EQ(keys(d), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(d.find("a")->as_int(), 3);
}

TEST(Value, RepeatedKeysInALargeDict) {
  std::vector<DictEntry> entries;
  // append, not "k" + to_string(i): GCC 12's -O3 warns falsely (-Wrestrict) on the latter.
  for (int i = 0; i < 1000; ++i)
    entries.emplace_back(std::string("k").append(std::to_string(i)), Value::integer(i));
  entries.emplace_back("k10", Value::integer(-1));
  entries.emplace_back("k999", Value::integer(-2));
  Value d = Value::dict(std::move(entries));
  ASSERT_EQ(d.entries().size(), 1000u);
  EXPECT_EQ(d.entries()[10].first, "k10");
  EXPECT_EQ(d.find("k10")->as_int(), -1);
  EXPECT_EQ(d.find("k999")->as_int(), -2);
  EXPECT_EQ(d.find("k500")->as_int(), 500);
}

// Bad input is linear and bounded (issue 9): a million keys, with repeats, build in well
// under a second even in a Debug build. No timing asserts; a quadratic check would take
// hours here (40,000 fields once took 1.3 s).
TEST(Value, AMillionEntryDictWithRepeatsKeepsFirstPositionsAndLastValues) {
  constexpr int kEntries = 1'000'000, kKeys = 400'000;
  std::vector<DictEntry> entries;
  entries.reserve(kEntries);
  for (int i = 0; i < kEntries; ++i)
    entries.emplace_back(std::string("k").append(std::to_string(i % kKeys)), Value::integer(i));
  Value d = Value::dict(std::move(entries));
  ASSERT_EQ(d.entries().size(), static_cast<size_t>(kKeys));
  int wrong = 0;
  for (int k = 0; k < kKeys; ++k) {
    const DictEntry& e = d.entries()[k];
    // Keys below kEntries - 2 * kKeys occur three times, the others twice: the last wins.
    const int last = k < kEntries - 2 * kKeys ? k + 2 * kKeys : k + kKeys;
    if (e.first != std::string("k").append(std::to_string(k)) || e.second.as_int() != last) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(d.entries()[7].first, "k7");
  EXPECT_EQ(d.entries()[7].second.as_int(), 800'007);
  EXPECT_EQ(d.entries()[399'999].second.as_int(), 799'999);
}

std::vector<DictEntry> numbered_fields(int n) {
  std::vector<DictEntry> fields;
  fields.reserve(n);
  for (int i = 0; i < n; ++i)
    fields.emplace_back(std::string("f").append(std::to_string(i)), Value::integer(i));
  return fields;
}

// make_object's error for fields, or "" if it builds.
std::string make_object_error(std::vector<DictEntry> fields) {
  try {
    make_object("C", std::move(fields));
    return "";
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
}

TEST(Value, AMillionFieldObjectBuildsAndItsRepeatIsFound) {
  std::vector<DictEntry> fields = numbered_fields(1'000'000);
  fields.back().first = "f123456";  // the only repeat, at the very end
  EXPECT_EQ(make_object_error(fields), "make_object: field 'f123456' given twice");
  fields.back().first = "last";
  Value o = make_object("Wide", std::move(fields));
  ASSERT_EQ(o.object().fields.size(), 1'000'000u);
  EXPECT_EQ(o.object().fields[0].first, "f0");
  EXPECT_EQ(o.object().fields[999'998].first, "f999998");
  EXPECT_EQ(o.object().fields[999'999].first, "last");
}

// Small objects are checked pairwise, large ones by grouping names: the same first error.
TEST(Value, MakeObjectReportsTheFirstBadFieldAtEverySize) {
  for (const int n : {6, 32, 33, 1000}) {
    SCOPED_TRACE(n);
    auto fields = [&](std::initializer_list<std::pair<int, const char*>> renames) {
      std::vector<DictEntry> f = numbered_fields(n);
      for (const auto& [at, name] : renames) f[static_cast<size_t>(at)].first = name;
      return f;
    };
    EXPECT_EQ(make_object_error(fields({})), "");
    EXPECT_EQ(make_object_error(fields({{n - 1, "f0"}})), "make_object: field 'f0' given twice");
    // Two repeats: the one whose second occurrence comes first is reported.
    EXPECT_EQ(make_object_error(fields({{n - 1, "f1"}, {n - 2, "f2"}})),
              "make_object: field 'f2' given twice");
    EXPECT_EQ(make_object_error(fields({{n - 1, "_bases"}})),
              "make_object: field name '_bases' is reserved");
    // A reserved name before a repeat wins, and after one loses.
    EXPECT_EQ(make_object_error(fields({{n - 3, "_type"}, {n - 1, "f0"}})),
              "make_object: field name '_type' is reserved");
    EXPECT_EQ(make_object_error(fields({{n - 3, "f0"}, {n - 1, "_class_name"}})),
              "make_object: field 'f0' given twice");
    // A reserved name given twice is reported as reserved, at its first occurrence.
    EXPECT_EQ(make_object_error(fields({{n - 4, "_type"}, {n - 2, "_type"}})),
              "make_object: field name '_type' is reserved");
  }
}

// Small dicts use the pairwise path, large ones the grouping one: the same result.
TEST(Value, RepeatedKeysAtEverySize) {
  for (const int n : {5, 32, 33, 1000}) {
    SCOPED_TRACE(n);
    std::vector<DictEntry> entries = numbered_fields(n);
    entries.emplace_back("f1", Value::string("one"));
    entries.emplace_back("f3", Value::string("three"));
    entries.emplace_back("f1", Value::string("uno"));
    Value d = Value::dict(std::move(entries));
    ASSERT_EQ(d.entries().size(), static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
      ASSERT_EQ(d.entries()[i].first, std::string("f").append(std::to_string(i)));
    EXPECT_EQ(d.entries()[0].second.as_int(), 0);
    EXPECT_EQ(d.entries()[1].second.as_string(), "uno");
    EXPECT_EQ(d.entries()[3].second.as_string(), "three");
    EXPECT_EQ(d.entries()[4].second.as_int(), 4);
  }
}

TEST(Value, BigIntegersNormaliseAndFitInt64WhenTheyCan) {
  EXPECT_EQ(Value::big_integer("-0").kind(), ValueKind::kInt);
  EXPECT_EQ(Value::big_integer("-9223372036854775808").as_int(), INT64_MIN);
  EXPECT_EQ(Value::big_integer("9223372036854775807").as_int(), INT64_MAX);
  Value big = Value::big_integer("0009223372036854775808");
  ASSERT_EQ(big.kind(), ValueKind::kBigInt);
  EXPECT_EQ(big.big_integer_text(), "9223372036854775808");
  EXPECT_EQ(Value::big_integer("-18446744073709551616").big_integer_text(), "-18446744073709551616");
  EXPECT_THROW(Value::big_integer("12a"), std::invalid_argument);
  EXPECT_THROW(Value::big_integer("-"), std::invalid_argument);
}

TEST(Value, BuildersRejectMisuse) {
  EXPECT_THROW(make_table({Value::integer(1)}), std::invalid_argument);
  EXPECT_THROW(make_object("C", {{"_type", Value::null()}}), std::invalid_argument);
  EXPECT_THROW(make_object("C", {{"x", Value::null()}, {"x", Value::null()}}), std::invalid_argument);
  EXPECT_THROW(make_object("", {}), std::invalid_argument);
  EXPECT_THROW(make_op("", "src"), std::invalid_argument);
  EXPECT_THROW(make_blob("image/png", {BlobFile{"a.png", nullptr}}), std::invalid_argument);
}

TEST(Value, CopiesShareTheNode) {
  Value a = Value::list({Value::string("x")});
  Value b = a;
  EXPECT_EQ(a.node(), b.node());
  EXPECT_EQ(a.use_count(), 2);
}

TEST(Value, DeepValuesAreDestroyedWithoutRecursion) {
  // 1,000,000 levels: a recursive destructor would need far more stack than a thread has.
  Value v = Value::list({});
  for (int i = 0; i < 1'000'000; ++i) v = Value::list({v});
  Value chain = make_object("Node", {{"i", Value::integer(0)}});
  for (int i = 1; i < 100'000; ++i) chain = make_object("Node", {{"i", Value::integer(i)}, {"child", chain}});
  v = Value();
  chain = Value();
  SUCCEED();
}

}  // namespace
}  // namespace weft
