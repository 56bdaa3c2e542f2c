#include "runtime/cli/eval_workload.h"

#include <chrono>
#include <optional>
#include <random>
#include <string>

namespace weft {

namespace {

using Clock = std::chrono::steady_clock;

Value str(std::string s) { return Value::string(std::move(s)); }

Value make_dataset(size_t n, std::mt19937_64& rng) {
  static const char* kQuestions[] = {"What is the capital of France?", "2 + 2 = ?",
                                     "Name a prime above 100.", "Translate 'chat' to English."};
  static const char* kAnswers[] = {"Paris", "4", "101", "cat"};
  std::vector<Value> rows;
  rows.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    // A small fake PNG: the magic number and per-row bytes, so every file differs.
    auto bytes = std::make_shared<std::string>("\x89PNG\r\n\x1a\n");
    for (int k = 0; k < 64; ++k) bytes->push_back(static_cast<char>(rng() & 0xff));
    bytes->append(std::to_string(i));
    rows.push_back(Value::dict({
        {"id", Value::integer(static_cast<int64_t>(i))},
        {"question", str(kQuestions[i % 4])},
        {"expected", str(kAnswers[i % 4])},
        {"image", make_blob("PIL.Image.Image", {BlobFile{"image.png", std::move(bytes)}})},
    }));
  }
  return make_object("Dataset", {{"rows", make_table(std::move(rows))}, {"name", str("capitals")}},
                     "capitals-dataset", {"Dataset", "Object", "BaseModel"});
}

Value make_completion(size_t i, const Value& example) {
  int64_t prompt = 40 + static_cast<int64_t>(i % 17), completion = 8 + static_cast<int64_t>(i);
  Value usage = make_object("Usage", {{"prompt_tokens", Value::integer(prompt)},
                                      {"completion_tokens", Value::integer(completion)},
                                      {"total_tokens", Value::integer(prompt + completion)}});
  std::string answer = std::string(example.find("expected")->as_string()) + " (#" + std::to_string(i) + ")";
  Value message = make_object("Message", {{"role", str("assistant")}, {"content", str(answer)}});
  Value choice = make_object("Choice", {{"index", Value::integer(0)}, {"message", message},
                                        {"finish_reason", str("stop")}});
  return make_object("ChatCompletion",
                     {{"id", str("chatcmpl-" + std::to_string(i))},
                      {"model", str("gpt-4o-mini")},
                      {"usage", usage},
                      {"choices", Value::list({choice})},
                      {"latency_s", Value::number(0.25 + static_cast<double>(i % 10) / 100.0)}});
}

}  // namespace

EvalWorkloadResult run_eval_workload(Runtime& rt, const EvalWorkloadOptions& options) {
  std::mt19937_64 rng(options.seed);
  EvalWorkloadResult result;
  result.call_ns.reserve(options.examples * 3 + 2);

  const Value predict = make_op("predict", "def predict(model, example):\n    return model.invoke(example)\n");
  const Value score = make_op("score", "def score(example, output):\n    return output == example['expected']\n");
  const Value predict_and_score = make_op("predict_and_score", "def predict_and_score(model, example): ...\n");
  const Value evaluate = make_op("Evaluation.evaluate", "def evaluate(self, model): ...\n");
  const Value summarize = make_op("Evaluation.summarize", "def summarize(self, scores): ...\n");

  const Value prompt = make_object("Prompt", {{"content", str("You are a concise assistant.")}});
  const Value model = make_object("ChatModel", {{"model_name", str("gpt-4o-mini")},
                                                {"temperature", Value::number(0.2)},
                                                {"system_prompt", prompt}},
                                  "gpt-4o-mini-evaluator", {"Model", "Object", "BaseModel"});
  const Value dataset = make_dataset(options.examples, rng);
  const auto& rows = dataset.object().fields[0].second.table().rows;

  // Calling-thread time of weft's API calls only (building values is the app's work).
  auto time_ns = [](auto&& fn) {
    auto t0 = Clock::now();
    fn();
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count();
  };

  CallScope* eval_scope = nullptr;
  std::optional<CallScope> eval;
  int64_t eval_ns = time_ns([&] {
    eval.emplace(rt, evaluate, Value::dict({{"model", model}, {"dataset", dataset}}),
                 CallOptions::new_trace("evaluation"));
  });
  eval_scope = &*eval;

  std::vector<Value> scores;
  scores.reserve(rows.size());
  int64_t correct = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const Value& example = rows[i];
    Value inputs = Value::dict({{"model", model}, {"example", example}});
    Value prediction = make_completion(i, example);
    bool ok = (i % 3) != 2;
    correct += ok ? 1 : 0;
    Value score_out = Value::dict({{"correct", Value::boolean(ok)}, {"score", Value::number(ok ? 1.0 : 0.25)}});
    Value pair_out = Value::dict({{"prediction", prediction}, {"score", score_out}});
    Value score_in = Value::dict({{"example", example}, {"output", prediction}});

    Call outer, p;
    int64_t outer_ns = time_ns([&] { outer = rt.start_call(predict_and_score, inputs); });
    int64_t p_ns = time_ns([&] { p = rt.start_call(predict, inputs, CallOptions::child_of(outer)); });
    p_ns += time_ns([&] { p.finish(prediction); });
    result.call_ns.push_back(p_ns);
    result.call_ns.push_back(time_ns([&] {
      Call sc = rt.start_call(score, std::move(score_in), CallOptions::child_of(outer));
      sc.finish(score_out);
    }));
    outer_ns += time_ns([&] { outer.finish(pair_out); });
    result.call_ns.push_back(outer_ns);
    scores.push_back(std::move(score_out));
  }

  double accuracy = rows.empty() ? 0.0 : static_cast<double>(correct) / static_cast<double>(rows.size());
  Value summary = Value::dict({{"accuracy", Value::number(accuracy)},
                               {"count", Value::integer(static_cast<int64_t>(rows.size()))}});
  result.call_ns.push_back(time_ns([&] {
    Call s = rt.start_call(summarize, Value::dict({{"scores", Value::list(std::move(scores))}}));
    s.finish(summary);
  }));
  eval_ns += time_ns([&] { eval_scope->finish(summary); });
  result.call_ns.push_back(eval_ns);
  result.calls = 3 * rows.size() + 2;
  return result;
}

}  // namespace weft
