// weft::to_value and weft::op: conversions checked on the Values they build, and wrapped
// calls checked on what a real runtime wrote to its SQLite store.
#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <weft/json.h>
#include <weft/op.h>
#include <weft/to_value.h>

#include "tests/support/test_support.h"

// User types live in a named namespace, as in an application: WEFT_OBJECT's to_value is
// found by ADL there, and exception type names are predictable.
namespace optest {

struct Source {
  std::string url;
  int page = 0;
};
WEFT_OBJECT(Source, url, page);

struct Doc {
  std::string text;
  Source source;
  std::vector<std::string> tags;
};
WEFT_OBJECT(Doc, text, source, tags);

struct Answer {
  std::string text;
  double confidence = 0;
};
WEFT_OBJECT(Answer, text, confidence);

struct Wide {
  int f1 = 1, f2 = 2, f3 = 3, f4 = 4, f5 = 5, f6 = 6, f7 = 7, f8 = 8, f9 = 9, f10 = 10;
  std::string f11 = "eleven";
  bool f12 = true;
  double f13 = 13.5;
};
WEFT_OBJECT(Wide, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13);

struct Empty {};
WEFT_OBJECT(Empty);

// Converted by an ADL free function.
struct Celsius {
  double degrees = 0;
};
weft::Value to_value(const Celsius& c) {
  return weft::Value::dict({{"celsius", weft::Value::number(c.degrees)}});
}

// Converted by a ValueTraits specialization.
struct Money {
  int64_t cents = 0;
};

struct QuotaExceeded : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct NoConversion {};

}  // namespace optest

template <>
struct weft::ValueTraits<optest::Money> {
  static Value to_value(const optest::Money& m) {
    return Value::string(std::to_string(m.cents / 100) + "." + std::to_string(m.cents % 100));
  }
};

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::Db;
using testing::TempStore;
using testing::test_config;

constexpr auto kFlush = 120s;
const std::string kProjectRefs = "weave:///test-entity/test-project/";

std::string column(const Db& db, const std::string& col, const std::string& call_id) {
  return db.text("SELECT " + col + " FROM calls WHERE id='" + call_id + "'");
}

std::string object_ref(const Db& db, const std::string& object_id) {
  std::string digest = db.text("SELECT digest FROM objects WHERE object_id='" + object_id + "'");
  return digest.empty() ? "" : kProjectRefs + "object/" + object_id + ":" + digest;
}

// ---- to_value ----

static_assert(ToValue<int> && ToValue<uint64_t> && ToValue<double> && ToValue<bool>);
static_assert(ToValue<std::optional<std::vector<optest::Doc>>>);
static_assert(ToValue<optest::Celsius> && ToValue<optest::Money> && ToValue<const optest::Doc&>);
static_assert(!ToValue<char> && !ToValue<int*> && !ToValue<optest::NoConversion>);
static_assert(!ToValue<std::vector<optest::NoConversion>>);
static_assert(!ToValue<std::map<int, int>>);  // dict keys are strings

TEST(OpToValue, Scalars) {
  EXPECT_EQ(to_value(int8_t{-5}), Value::integer(-5));
  EXPECT_EQ(to_value(uint16_t{65535}), Value::integer(65535));
  EXPECT_EQ(to_value(std::numeric_limits<int64_t>::min()),
            Value::integer(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(to_value(0.25f), Value::number(0.25));
  EXPECT_EQ(to_value(std::string("s")), Value::string("s"));
  EXPECT_EQ(to_value(std::string_view("sv")), Value::string("sv"));
  EXPECT_EQ(to_value("literal"), Value::string("literal"));
  const char* p = "ptr";
  EXPECT_EQ(to_value(p), Value::string("ptr"));
  EXPECT_EQ(to_value(static_cast<const char*>(nullptr)), Value::null());
  char buf[8] = {'a', 'b', '\0', 'x', 'x', 'x', 'x', 'x'};
  EXPECT_EQ(to_value(buf), Value::string("ab"));
  EXPECT_EQ(to_value(std::optional<int>()), Value::null());
  EXPECT_EQ(to_value(std::optional<int>(4)), Value::integer(4));
  Value v = Value::list({Value::integer(1)});
  EXPECT_EQ(to_value(v).node(), v.node());  // passthrough shares the node
}

TEST(OpToValue, BoolIsNotAnInteger) {
  EXPECT_EQ(to_value(true).kind(), ValueKind::kBool);
  EXPECT_TRUE(to_value(true).as_bool());
  EXPECT_EQ(to_value(std::vector<bool>{true, false}),
            Value::list({Value::boolean(true), Value::boolean(false)}));
}

TEST(OpToValue, Uint64AboveInt64MaxIsABigInteger) {
  EXPECT_EQ(to_value(uint64_t{9223372036854775807u}).kind(), ValueKind::kInt);
  Value big = to_value(uint64_t{9223372036854775808u});
  ASSERT_EQ(big.kind(), ValueKind::kBigInt);
  EXPECT_EQ(big.big_integer_text(), "9223372036854775808");
  EXPECT_EQ(to_value(std::numeric_limits<uint64_t>::max()).big_integer_text(),
            "18446744073709551615");
}

TEST(OpToValue, Containers) {
  EXPECT_EQ(to_value(std::vector<int>{1, 2}), Value::list({Value::integer(1), Value::integer(2)}));
  EXPECT_EQ(to_value(std::array<double, 2>{0.5, 1.5}),
            Value::list({Value::number(0.5), Value::number(1.5)}));
  int c_array[3] = {7, 8, 9};
  EXPECT_EQ(to_value(c_array),
            Value::list({Value::integer(7), Value::integer(8), Value::integer(9)}));
  std::map<std::string, std::vector<int>> m{{"b", {2}}, {"a", {}}};
  Value d = to_value(m);
  ASSERT_EQ(d.kind(), ValueKind::kDict);
  ASSERT_EQ(d.entries().size(), 2u);
  EXPECT_EQ(d.entries()[0].first, "a");
  EXPECT_EQ(d.entries()[1].second, Value::list({Value::integer(2)}));
}

TEST(OpToValue, UnorderedMapKeysAreSorted) {
  std::unordered_map<std::string, int> m;
  for (int i = 0; i < 50; ++i) m["k" + std::to_string(i)] = i;
  Value d = to_value(m);
  ASSERT_EQ(d.entries().size(), 50u);
  for (size_t i = 1; i < d.entries().size(); ++i)
    EXPECT_LT(d.entries()[i - 1].first, d.entries()[i].first);
  EXPECT_EQ(*d.find("k17"), Value::integer(17));
}

TEST(OpToValue, UserTypesByAdlAndByTraits) {
  EXPECT_EQ(to_value(optest::Celsius{21.5}),
            Value::dict({{"celsius", Value::number(21.5)}}));
  EXPECT_EQ(to_value(optest::Money{1234}), Value::string("12.34"));
  // Inside containers too: the dispatch recurses through weft::to_value.
  EXPECT_EQ(to_value(std::vector<optest::Money>{{5}}), Value::list({Value::string("0.5")}));
}

TEST(OpToValue, WeftObjectListsFieldsInOrderAndNests) {
  Value w = to_value(optest::Wide{});
  ASSERT_EQ(w.kind(), ValueKind::kObject);
  EXPECT_EQ(w.object().class_name, "Wide");
  ASSERT_EQ(w.object().fields.size(), 13u);
  for (int i = 0; i < 13; ++i) EXPECT_EQ(w.object().fields[i].first, "f" + std::to_string(i + 1));
  EXPECT_EQ(w.object().fields[9].second, Value::integer(10));
  EXPECT_EQ(w.object().fields[10].second, Value::string("eleven"));
  EXPECT_EQ(w.object().fields[11].second, Value::boolean(true));
  EXPECT_EQ(w.object().fields[12].second, Value::number(13.5));

  Value doc = to_value(optest::Doc{"t", {"u", 3}, {"x"}});
  ASSERT_EQ(doc.object().fields.size(), 3u);
  const Value& source = doc.object().fields[1].second;
  ASSERT_EQ(source.kind(), ValueKind::kObject);
  EXPECT_EQ(source.object().class_name, "Source");
  EXPECT_EQ(source.object().fields[1].second, Value::integer(3));
  EXPECT_TRUE(to_value(optest::Empty{}).object().fields.empty());
}

// ---- op ----

TEST(OpWrapper, InputsAreRecordedByParameterName) {
  TempStore store;
  Runtime rt(test_config(store));
  std::string id;
  auto describe = op(rt, "describe",
                     {"count", "ratio", "flag", "name", "view", "missing", "present", "ids",
                      "weights", "big"},
                     [&](int count, double ratio, bool flag, const std::string& name,
                         std::string_view view, std::optional<int> missing,
                         std::optional<std::string> present, const std::vector<int>& ids,
                         const std::map<std::string, double>& weights, uint64_t big) {
                       id = current_call()->id().str();
                       return name + ":" + std::to_string(count) + ":" +
                              std::to_string(ids.size() + weights.size()) +
                              (flag && !missing && present && big > 0 && ratio > 0 && !view.empty()
                                   ? ":ok"
                                   : ":bad");
                     });
  static_assert(decltype(describe)::arity == 10);
  std::string result = describe(3, 0.5, true, "ann", "sv", std::nullopt, "here", {1, 2, 3},
                                {{"b", 2.5}, {"a", 1.0}}, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(result, "ann:3:5:ok");  // the callable's own result, not a Value
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(column(db, "inputs", id),
            "{\"big\": 18446744073709551615, \"count\": 3, \"flag\": true, \"ids\": [1, 2, 3], "
            "\"missing\": null, \"name\": \"ann\", \"present\": \"here\", \"ratio\": 0.5, "
            "\"view\": \"sv\", \"weights\": {\"a\": 1.0, \"b\": 2.5}}");
  EXPECT_EQ(column(db, "output", id), "\"ann:3:5:ok\"");
  EXPECT_EQ(column(db, "exception", id), "");
}

TEST(OpWrapper, ArgumentsConvertToTheParameterTypesFirst) {
  TempStore store;
  Runtime rt(test_config(store));
  std::string id;
  auto half = op(rt, "half", {"x"}, [&](double x) {
    id = current_call()->id().str();
    return x / 2;
  });
  EXPECT_EQ(half(3), 1.5);  // an int argument, a double parameter
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(column(db, "inputs", id), "{\"x\": 3.0}");
  EXPECT_EQ(column(db, "output", id), "1.5");
}

TEST(OpWrapper, ParametersAreForwardedAsDeclared) {
  TempStore store;
  Runtime rt(test_config(store));
  std::string id;
  // By value: the callable may move from it (inputs were converted before it ran).
  // By non-const reference: the caller's object is the one changed.
  auto append = op(rt, "append", {"items", "log"},
                   [&](std::vector<std::string> items, std::string& log) {
                     id = current_call()->id().str();
                     std::vector<std::string> mine = std::move(items);
                     mine.push_back("c");
                     log += "appended";
                     return mine;
                   });
  std::string log = "log:";
  std::vector<std::string> out = append({"a", "b"}, log);
  EXPECT_EQ(out, (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(log, "log:appended");
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(column(db, "inputs", id), "{\"items\": [\"a\", \"b\"], \"log\": \"log:\"}");
  EXPECT_EQ(column(db, "output", id), "[\"a\", \"b\", \"c\"]");
}

TEST(OpWrapper, WeftObjectsAreSavedAndReferenced) {
  TempStore store;
  Runtime rt(test_config(store));
  std::string id;
  auto answer = op(rt, "answer", {"question", "doc"},
                   [&](const std::string& q, const optest::Doc& doc) {
                     id = current_call()->id().str();
                     return optest::Answer{q + " -> " + doc.text, 0.75};
                   });
  optest::Answer a = answer("why", optest::Doc{"because", {"https://x.test/a", 7}, {"t1", "t2"}});
  EXPECT_EQ(a.text, "why -> because");
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  const std::string doc_ref = object_ref(db, "Doc");
  const std::string source_ref = object_ref(db, "Source");
  const std::string answer_ref = object_ref(db, "Answer");
  ASSERT_FALSE(doc_ref.empty());
  ASSERT_FALSE(source_ref.empty());
  ASSERT_FALSE(answer_ref.empty());
  EXPECT_EQ(column(db, "inputs", id), "{\"doc\": \"" + doc_ref + "\", \"question\": \"why\"}");
  EXPECT_EQ(column(db, "output", id), "\"" + answer_ref + "\"");
  // The nested struct is its own object, referred to from Doc's row.
  EXPECT_EQ(db.text("SELECT val_dump FROM objects WHERE object_id='Doc'"),
            "{\"_bases\": [\"Object\", \"BaseModel\"], \"_class_name\": \"Doc\", \"_type\": "
            "\"Doc\", \"source\": \"" + source_ref + "\", \"tags\": [\"t1\", \"t2\"], \"text\": "
            "\"because\"}");
  EXPECT_EQ(db.text("SELECT val_dump FROM objects WHERE object_id='Source'"),
            "{\"_bases\": [\"Object\", \"BaseModel\"], \"_class_name\": \"Source\", \"_type\": "
            "\"Source\", \"page\": 7, \"url\": \"https://x.test/a\"}");
  EXPECT_NE(db.text("SELECT val_dump FROM objects WHERE object_id='Answer'")
                .find("\"confidence\": 0.75"),
            std::string::npos);
}

TEST(OpWrapper, NestedCallsAreChildrenInOneTrace) {
  TempStore store;
  Runtime rt(test_config(store));
  std::vector<std::string> inner_ids;
  std::string outer_id, outer_trace;
  auto retrieve = op(rt, "retrieve", {"query"}, [&](const std::string& q) {
    inner_ids.push_back(current_call()->id().str());
    return "doc about " + q;
  });
  auto predict = op(rt, "predict", {"question", "k"}, [&](const std::string& q, int k) {
    outer_id = current_call()->id().str();
    outer_trace = current_call()->trace_id().str();
    std::string context;
    for (int i = 0; i < k; ++i) context += retrieve(q + std::to_string(i)) + ";";
    return context;
  });
  EXPECT_EQ(predict("cats", 2), "doc about cats0;doc about cats1;");
  EXPECT_EQ(current_call(), nullptr);
  std::string second_root_id;
  auto root_retrieve = retrieve("alone");  // outside predict: a new trace
  second_root_id = inner_ids.back();
  EXPECT_EQ(root_retrieve, "doc about alone");
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  ASSERT_EQ(inner_ids.size(), 3u);
  EXPECT_EQ(column(db, "parent_id", outer_id), "");
  EXPECT_EQ(column(db, "trace_id", outer_id), outer_trace);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(column(db, "parent_id", inner_ids[i]), outer_id);
    EXPECT_EQ(column(db, "trace_id", inner_ids[i]), outer_trace);
    EXPECT_EQ(column(db, "inputs", inner_ids[i]), "{\"query\": \"cats" + std::to_string(i) + "\"}");
  }
  EXPECT_EQ(column(db, "parent_id", second_root_id), "");
  EXPECT_NE(column(db, "trace_id", second_root_id), outer_trace);
  EXPECT_EQ(column(db, "output", outer_id), "\"doc about cats0;doc about cats1;\"");
}

TEST(OpWrapper, ExceptionsAreRecordedWithTheirOwnTypeAndRethrown) {
  TempStore store;
  Runtime rt(test_config(store));
  std::string lookup_id, quota_id, outer_id;
  auto lookup = op(rt, "lookup", {"index"}, [&](int index) -> int {
    lookup_id = current_call()->id().str();
    throw std::out_of_range("index " + std::to_string(index) + " out of range");
  });
  auto spend = op(rt, "spend", {"tokens"}, [&](int tokens) {
    quota_id = current_call()->id().str();
    if (tokens > 10) throw optest::QuotaExceeded("over quota by " + std::to_string(tokens - 10));
    return tokens;
  });
  auto agent = op(rt, "agent", [&] {
    outer_id = current_call()->id().str();
    return spend(15);
  });
  EXPECT_THROW(lookup(7), std::out_of_range);
  try {
    agent();
    ADD_FAILURE() << "agent() did not throw";
  } catch (const optest::QuotaExceeded& e) {
    EXPECT_STREQ(e.what(), "over quota by 5");  // the very exception, rethrown
  }
  EXPECT_EQ(current_call(), nullptr);
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(column(db, "exception", lookup_id),
            "{\"message\": \"index 7 out of range\", \"traceback\": [], \"type\": "
            "\"std::out_of_range\"}");
  const std::string quota =
      "{\"message\": \"over quota by 5\", \"traceback\": [], \"type\": \"optest::QuotaExceeded\"}";
  EXPECT_EQ(column(db, "exception", quota_id), quota);
  EXPECT_EQ(column(db, "exception", outer_id), quota);  // it passed through agent too
  EXPECT_EQ(column(db, "parent_id", quota_id), outer_id);
  EXPECT_EQ(column(db, "inputs", quota_id), "{\"tokens\": 15}");
  EXPECT_FALSE(column(db, "ended_at", lookup_id).empty());
}

TEST(OpWrapper, VoidCallableRecordsNullOutput) {
  TempStore store;
  Runtime rt(test_config(store));
  std::string id;
  int total = 0;
  auto add = op(rt, "add", {"n"}, [&](int n) {
    id = current_call()->id().str();
    total += n;
  });
  static_assert(std::is_void_v<decltype(add(1))>);
  add(4);
  EXPECT_EQ(total, 4);
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(column(db, "output", id), "null");
  EXPECT_EQ(column(db, "exception", id), "");
  EXPECT_FALSE(column(db, "ended_at", id).empty());
}

TEST(OpWrapper, OneOpRefForEveryCallOfAWrapper) {
  TempStore store;
  Runtime rt(test_config(store));
  std::vector<std::string> ids;
  auto square = op(rt, "square", {"x"}, [&](int x) {
    ids.push_back(current_call()->id().str());
    return x * x;
  });
  const detail::Node* node = square.op_value().node();
  EXPECT_EQ(square(2) + square(3) + square(4), 29);
  EXPECT_EQ(square.op_value().node(), node);
  ASSERT_TRUE(rt.flush(kFlush));
  EXPECT_EQ(rt.stats().obj_create, 1u);  // the op, saved once for all three calls
  Db db(store.path());
  ASSERT_EQ(ids.size(), 3u);
  const std::string digest = db.text("SELECT digest FROM objects WHERE kind='op' AND object_id='square'");
  ASSERT_FALSE(digest.empty());
  for (const auto& id : ids) EXPECT_EQ(column(db, "op_name", id), kProjectRefs + "op/square:" + digest);
  EXPECT_EQ(db.count("SELECT count(DISTINCT op_name) FROM calls"), 1);
}

TEST(OpWrapper, DefaultSourceNamesTheWrapSite) {
  TempStore store;
  Runtime rt(test_config(store));
  const auto here = std::source_location::current();
  auto located = op(rt, "located", [] { return 1; });  // must stay on the line after `here`
  const std::string expected = "# weft op located\n# defined at " + std::string(here.file_name()) +
                               ":" + std::to_string(here.line() + 1) + "\n";
  EXPECT_EQ(located.op_value().op().source, expected);
  EXPECT_EQ(located.name(), "located");
  auto given = op(rt, OpInfo::named("given", {"x"}).with_source("def given(x): ...\n"),
                  [](int x) { return x; });
  EXPECT_EQ(given.op_value().op().source, "def given(x): ...\n");
  EXPECT_EQ(given.params(), std::vector<std::string>{"x"});
  EXPECT_EQ(located() + given(1), 2);
  ASSERT_TRUE(rt.flush(kFlush));
  // The source text is what the store holds (as the op's file).
  std::string quoted;
  for (char c : expected) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM files WHERE CAST(val AS TEXT) = '" + quoted + "'"), 1);
}

TEST(OpWrapper, CallOptionsSetDisplayNameAndAttributes) {
  TempStore store;
  Runtime rt(test_config(store));
  std::string id;
  auto echo = op(rt, "echo", {"s"}, [&](std::string s) {
    id = current_call()->id().str();
    return s;
  });
  CallOptions options;
  options.display_name = "echo (retry 2)";
  options.attributes = Value::dict({{"attempt", Value::integer(2)}});
  EXPECT_EQ(echo.call_with(options, "hi"), "hi");
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(column(db, "display_name", id), "echo (retry 2)");
  auto attributes = parse_json(column(db, "attributes", id));
  ASSERT_TRUE(attributes.is_ok()) << attributes.error();
  ASSERT_NE(attributes.value().find("attempt"), nullptr);
  EXPECT_EQ(*attributes.value().find("attempt"), Value::integer(2));
}

TEST(OpWrapper, FunctionPointersAndMutableLambdas) {
  TempStore store;
  Runtime rt(test_config(store));
  struct Local {
    static int twice(int x) noexcept { return 2 * x; }
  };
  auto twice = op(rt, OpInfo{.name = "twice", .params = {"x"}, .source = "twice"}, &Local::twice);
  auto counter = op(rt, "counter", {}, [n = 0]() mutable { return ++n; });
  EXPECT_EQ(twice(21), 42);
  EXPECT_EQ(counter(), 1);
  EXPECT_EQ(counter(), 2);
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE inputs='{\"x\": 21}' AND output='42'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE output='2'"), 1);
}

TEST(OpWrapper, BadParameterNamesAreRejectedAtWrapTime) {
  TempStore store;
  Runtime rt(test_config(store));
  auto two = [](int a, int b) { return a + b; };
  // Braced lists are checked at compile time (a static_assert); OpInfo lists here.
  try {
    op(rt, OpInfo::named("add", {"a"}), two);
    ADD_FAILURE() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "weft::op 'add': 1 parameter names for a callable of 2 parameters");
  }
  EXPECT_THROW(op(rt, OpInfo::named("add", {"a", "b", "c"}), two), std::invalid_argument);
  EXPECT_THROW(op(rt, OpInfo::named("add", {"a", "a"}), two), std::invalid_argument);
  EXPECT_THROW(op(rt, OpInfo::named("add", {"a", ""}), two), std::invalid_argument);
  EXPECT_THROW(op(rt, OpInfo::named("", {"a", "b"}), two), std::invalid_argument);
  EXPECT_NO_THROW(op(rt, OpInfo::named("add", {"a", "b"}), two));
  ASSERT_TRUE(rt.flush(kFlush));
  EXPECT_EQ(rt.stats().call_start, 0u);
}

}  // namespace
}  // namespace weft
