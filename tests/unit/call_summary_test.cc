// CallSummary on its own: a call's own usage, status counts, merging child summaries and
// the JSON it renders. Every expected JSON string below was printed by python3's
// json.dumps(summary, sort_keys=True), run on the dict the comment next to it shows (the
// dict a Weave summary of the same calls would hold).
#include <gtest/gtest.h>

#include <string>

#include <weft/value.h>

#include "runtime/core/call_summary.h"

namespace weft {
namespace {

Value integer(int64_t i) { return Value::integer(i); }

// An LLM-style output: {"model": model, "usage": {...}, "text": "..."}.
Value llm_output(std::string model, int64_t prompt, int64_t completion) {
  return Value::dict({{"text", Value::string("hello")},
                      {"model", Value::string(std::move(model))},
                      {"usage", Value::dict({{"prompt_tokens", integer(prompt)},
                                             {"completion_tokens", integer(completion)},
                                             {"total_tokens", integer(prompt + completion)}})}});
}

TEST(CallSummary, EmptySummaryHasZeroStatusCountsAndNoUsage) {
  CallSummary s;
  EXPECT_TRUE(s.usage.empty());
  // python3: json.dumps({"status_counts": {"error": 0, "success": 0}}, sort_keys=True)
  EXPECT_EQ(s.to_json(), R"({"status_counts": {"error": 0, "success": 0}})");
}

TEST(CallSummary, StatusCountsForSuccessAndError) {
  CallSummary ok;
  ok.success += 1;
  CallSummary failed;
  failed.error += 1;
  CallSummary parent;
  parent.success += 1;
  parent.add(ok);
  parent.add(failed);
  parent.add(failed);
  EXPECT_EQ(parent.success, 2);
  EXPECT_EQ(parent.error, 2);
  // python3: {"status_counts": {"error": 2, "success": 2}}
  EXPECT_EQ(parent.to_json(), R"({"status_counts": {"error": 2, "success": 2}})");

  CallSummary only_errors;
  only_errors.error = 2;
  // python3: {"status_counts": {"error": 2, "success": 0}}
  EXPECT_EQ(only_errors.to_json(), R"({"status_counts": {"error": 2, "success": 0}})");
}

TEST(CallSummary, OwnOutputWithUsageCountsOneRequestOfItsModel) {
  CallSummary s;
  s.add_own_output(llm_output("gpt-4o", 10, 5));
  s.success += 1;
  ASSERT_EQ(s.usage.size(), 1u);
  const auto& m = s.usage.at("gpt-4o");
  EXPECT_EQ(m.at("requests").i, 1);
  EXPECT_EQ(m.at("prompt_tokens").i, 10);
  EXPECT_EQ(m.at("completion_tokens").i, 5);
  EXPECT_EQ(m.at("total_tokens").i, 15);
  EXPECT_FALSE(m.at("prompt_tokens").is_float);
  EXPECT_EQ(m.count("text"), 0u);  // only usage fields are summed
  // python3: {"status_counts": {"error": 0, "success": 1}, "usage": {"gpt-4o": {"requests": 1,
  //           "prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}}
  EXPECT_EQ(s.to_json(),
            R"({"status_counts": {"error": 0, "success": 1}, "usage": {"gpt-4o": )"
            R"({"completion_tokens": 5, "prompt_tokens": 10, "requests": 1, "total_tokens": 15}}})");
}

TEST(CallSummary, OwnOutputAsAnObjectWithAnObjectUsage) {
  Value usage = make_object("Usage", {{"prompt_tokens", integer(7)}, {"completion_tokens", integer(2)}});
  Value out = make_object("Completion", {{"model", Value::string("m1")}, {"usage", usage}});
  CallSummary s;
  s.add_own_output(out);
  ASSERT_EQ(s.usage.count("m1"), 1u);
  EXPECT_EQ(s.usage.at("m1").at("requests").i, 1);
  EXPECT_EQ(s.usage.at("m1").at("prompt_tokens").i, 7);
  EXPECT_EQ(s.usage.at("m1").at("completion_tokens").i, 2);
  // A dict output with an Object usage, and an Object output with a dict usage, count too.
  s.add_own_output(Value::dict({{"model", Value::string("m1")}, {"usage", usage}}));
  s.add_own_output(make_object(
      "Completion", {{"model", Value::string("m1")},
                     {"usage", Value::dict({{"prompt_tokens", integer(1)}})}}));
  EXPECT_EQ(s.usage.at("m1").at("requests").i, 3);
  EXPECT_EQ(s.usage.at("m1").at("prompt_tokens").i, 15);
  EXPECT_EQ(s.usage.at("m1").at("completion_tokens").i, 4);
}

TEST(CallSummary, OutputsWithoutUsageOrWithoutAStringModelAddNothing) {
  CallSummary s;
  s.add_own_output(Value::null());
  s.add_own_output(integer(3));
  s.add_own_output(Value::string("usage"));
  s.add_own_output(Value::list({llm_output("m", 1, 1)}));  // not looked into
  s.add_own_output(Value::dict({{"model", Value::string("m")}}));  // no usage
  s.add_own_output(Value::dict({{"usage", Value::dict({{"t", integer(1)}})}}));  // no model
  s.add_own_output(Value::dict({{"model", integer(4)}, {"usage", Value::dict({{"t", integer(1)}})}}));
  s.add_own_output(Value::dict({{"model", Value::null()}, {"usage", Value::dict({{"t", integer(1)}})}}));
  // Nested deeper than the output's own fields: not the call's usage.
  s.add_own_output(Value::dict({{"response", llm_output("m", 1, 1)}}));
  EXPECT_TRUE(s.usage.empty());
  // python3: {"status_counts": {"error": 0, "success": 0}}
  EXPECT_EQ(s.to_json(), R"({"status_counts": {"error": 0, "success": 0}})");
}

TEST(CallSummary, NonNumericUsageFieldsAreSkippedFloatsSumAsFloats) {
  CallSummary s;
  s.add_own_output(Value::dict(
      {{"model", Value::string("m")},
       {"usage", Value::dict({{"cost", Value::number(0.5)},
                              {"tokens", integer(2)},
                              {"whole", integer(1)},
                              {"note", Value::string("cached")},
                              {"nested", Value::dict({{"x", integer(1)}})},
                              {"nothing", Value::null()}})}}));
  s.add_own_output(Value::dict(
      {{"model", Value::string("m")},
       {"usage", Value::dict({{"cost", Value::number(0.25)},
                              {"tokens", Value::number(0.5)},
                              {"whole", integer(2)}})}}));
  s.success = 2;
  const auto& m = s.usage.at("m");
  EXPECT_EQ(m.count("note"), 0u);
  EXPECT_EQ(m.count("nested"), 0u);
  EXPECT_EQ(m.count("nothing"), 0u);
  EXPECT_TRUE(m.at("cost").is_float);
  EXPECT_DOUBLE_EQ(m.at("cost").d, 0.75);
  EXPECT_TRUE(m.at("tokens").is_float);  // int + float is a float, as in Python
  EXPECT_DOUBLE_EQ(m.at("tokens").d, 2.5);
  EXPECT_FALSE(m.at("whole").is_float);
  EXPECT_EQ(m.at("whole").i, 3);
  // python3: {"status_counts": {"error": 0, "success": 2},
  //           "usage": {"m": {"requests": 2, "cost": 0.5 + 0.25, "tokens": 2 + 0.5, "whole": 1 + 2}}}
  EXPECT_EQ(s.to_json(),
            R"({"status_counts": {"error": 0, "success": 2}, "usage": {"m": )"
            R"({"cost": 0.75, "requests": 2, "tokens": 2.5, "whole": 3}}})");
}

TEST(CallSummary, AnIntegerSumThatMeetsAFloatBecomesAFloatAndRendersLikePython) {
  CallSummary a;
  a.usage["m"]["whole"] = CallSummary::Number{false, 1, 0};
  a.usage["m"]["requests"] = CallSummary::Number{false, 1, 0};
  CallSummary b;
  b.usage["m"]["whole"] = CallSummary::Number{false, 2, 0};
  b.usage["m"]["requests"] = CallSummary::Number{false, 1, 0};
  CallSummary c;
  c.usage["m"]["whole"] = CallSummary::Number{true, 0, 0.0};
  a.add(b);
  a.add(c);
  EXPECT_TRUE(a.usage.at("m").at("whole").is_float);
  a.success = 2;
  // python3: {"status_counts": {"error": 0, "success": 2},
  //           "usage": {"m": {"requests": 1 + 1, "whole": 1 + 2 + 0.0}}}
  EXPECT_EQ(a.to_json(),
            R"({"status_counts": {"error": 0, "success": 2}, "usage": {"m": {"requests": 2, "whole": 3.0}}})");
}

TEST(CallSummary, MergingChildSummariesAddsStatusesAndUsagePerModel) {
  CallSummary parent;  // the parent's own call: one gpt-4o request, succeeded
  parent.add_own_output(llm_output("gpt-4o", 10, 5));
  parent.success += 1;

  CallSummary child1;
  child1.add_own_output(llm_output("gpt-4o", 3, 4));
  child1.success += 1;

  CallSummary child2;
  child2.add_own_output(llm_output("claude-3", 100, 20));
  child2.error += 1;

  CallSummary child3;  // a child that reported no usage
  child3.add_own_output(Value::string("no usage here"));
  child3.success += 1;

  parent.add(child1);
  parent.add(child2);
  parent.add(child3);

  EXPECT_EQ(parent.success, 3);
  EXPECT_EQ(parent.error, 1);
  ASSERT_EQ(parent.usage.size(), 2u);
  EXPECT_EQ(parent.usage.at("gpt-4o").at("requests").i, 2);
  EXPECT_EQ(parent.usage.at("gpt-4o").at("prompt_tokens").i, 13);
  EXPECT_EQ(parent.usage.at("gpt-4o").at("completion_tokens").i, 9);
  EXPECT_EQ(parent.usage.at("gpt-4o").at("total_tokens").i, 22);
  EXPECT_EQ(parent.usage.at("claude-3").at("requests").i, 1);
  EXPECT_EQ(parent.usage.at("claude-3").at("total_tokens").i, 120);
  // The children are unchanged.
  EXPECT_EQ(child1.usage.at("gpt-4o").at("requests").i, 1);
  EXPECT_EQ(child1.success, 1);

  // python3: {"status_counts": {"error": 1, "success": 3}, "usage": {
  //   "gpt-4o": {"requests": 2, "prompt_tokens": 13, "completion_tokens": 9, "total_tokens": 22},
  //   "claude-3": {"requests": 1, "prompt_tokens": 100, "completion_tokens": 20, "total_tokens": 120}}}
  const std::string expected =
      R"({"status_counts": {"error": 1, "success": 3}, "usage": {"claude-3": )"
      R"({"completion_tokens": 20, "prompt_tokens": 100, "requests": 1, "total_tokens": 120}, )"
      R"("gpt-4o": {"completion_tokens": 9, "prompt_tokens": 13, "requests": 2, "total_tokens": 22}}})";
  EXPECT_EQ(parent.to_json(), expected);

  // Rolling up level by level gives the same as rolling up flat: grandchildren's usage
  // reaches the root through their parent.
  CallSummary mid;
  mid.add_own_output(llm_output("gpt-4o", 3, 4));
  mid.success += 1;
  mid.add(child2);
  mid.add(child3);
  CallSummary root;
  root.add_own_output(llm_output("gpt-4o", 10, 5));
  root.success += 1;
  root.add(mid);
  EXPECT_EQ(root.to_json(), expected);
}

TEST(CallSummary, MergingAnEmptyChildChangesNothing) {
  CallSummary s;
  s.add_own_output(llm_output("m", 1, 2));
  s.success = 1;
  const std::string before = s.to_json();
  s.add(CallSummary{});
  EXPECT_EQ(s.to_json(), before);
}

TEST(CallSummary, ModelNamesAreEscapedAndFloatsUseShortestRepr) {
  CallSummary s;
  s.add_own_output(Value::dict(
      {{"model", Value::string("caf\xc3\xa9 \"m\"")},
       {"usage", Value::dict({{"tokens", Value::number(0.1)}})}}));
  s.add_own_output(Value::dict(
      {{"model", Value::string("caf\xc3\xa9 \"m\"")},
       {"usage", Value::dict({{"tokens", Value::number(0.2)}})}}));
  s.success = 1;
  // python3: {"status_counts": {"error": 0, "success": 1},
  //           "usage": {"caf\u00e9 \"m\"": {"requests": 2, "tokens": 0.1 + 0.2}}}
  EXPECT_EQ(s.to_json(),
            R"({"status_counts": {"error": 0, "success": 1}, "usage": {"caf\u00e9 \"m\"": )"
            R"({"requests": 2, "tokens": 0.30000000000000004}}})");
}

TEST(CallSummary, LargeFloatsRenderAsPythonDoes) {
  CallSummary s;
  s.usage["m"]["requests"] = CallSummary::Number{false, 2, 0};
  s.usage["m"]["t"] = CallSummary::Number{false, 3, 0};
  s.usage["m"]["n"] = CallSummary::Number{true, 0, 1e20};
  // python3: {"status_counts": {"error": 0, "success": 0},
  //           "usage": {"m": {"requests": 2, "t": 3, "n": 1e20}}}
  EXPECT_EQ(s.to_json(),
            R"({"status_counts": {"error": 0, "success": 0}, "usage": {"m": {"n": 1e+20, "requests": 2, "t": 3}}})");
}

}  // namespace
}  // namespace weft
