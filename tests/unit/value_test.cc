// The value model: dict semantics, big integers, builders' errors, deep destruction.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

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
