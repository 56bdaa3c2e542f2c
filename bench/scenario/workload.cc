#include "bench/scenario/workload.h"

#include <functional>

#include <weft/json.h>

namespace weft_bench {

using weft::Value;

namespace {

Value str(std::string s) { return Value::string(std::move(s)); }
Value num(int64_t i) { return Value::integer(i); }

const char* const kWords[] = {"the",     "capital", "of",     "france", "is",     "paris",
                              "answer",  "model",   "token",  "prompt", "score",  "eval",
                              "dataset", "trace",   "weave",  "digest", "object", "table",
                              "because", "which",   "result", "quick",  "brown",  "fox"};

}  // namespace

SharedValues make_shared_values() {
  SharedValues s;
  s.step_op = weft::make_op("run_step", "def run_step(step, ops):\n    for i in range(ops): predict(model, example(i))\n");
  s.predict_op = weft::make_op("predict", "def predict(model, example):\n    return model.invoke(example)\n");
  s.score_op = weft::make_op("score", "def score(example, output):\n    return output.choices[0].message.content == example.expected\n");
  s.eval_op = weft::make_op("Evaluation.evaluate", "def evaluate(self, model):\n    ...\n");
  Value prompt = weft::make_object("Prompt", {{"content", str("You are a concise assistant. Answer in one sentence.")}});
  s.model = weft::make_object("ChatModel",
                              {{"model_name", str("gpt-4o-mini")},
                               {"temperature", Value::number(0.2)},
                               {"max_tokens", num(256)},
                               {"system_prompt", prompt}},
                              "gpt-4o-mini-evaluator", {"Model", "Object", "BaseModel"});
  return s;
}

std::string WorkloadBuilder::sentence(size_t words) {
  std::string out;
  for (size_t i = 0; i < words; ++i) {
    if (i) out += ' ';
    out += kWords[rng_() % (sizeof(kWords) / sizeof(kWords[0]))];
  }
  out += '.';
  return out;
}

Value WorkloadBuilder::example(size_t index) {
  return weft::make_object("Example", {{"id", num(static_cast<int64_t>(index))},
                                       {"question", str("Question #" + std::to_string(index) + ": " + sentence(8))},
                                       {"expected", str(sentence(3))},
                                       {"tags", Value::list({str("capitals"), str("geo")})}});
}

Value WorkloadBuilder::response(size_t index, const Value& example) {
  const int64_t prompt_tokens = 60 + static_cast<int64_t>(index % 37);
  const int64_t completion_tokens = 90 + static_cast<int64_t>(index % 23);
  Value usage = weft::make_object("Usage", {{"prompt_tokens", num(prompt_tokens)},
                                            {"completion_tokens", num(completion_tokens)},
                                            {"total_tokens", num(prompt_tokens + completion_tokens)}});
  std::vector<Value> choices;
  for (int64_t c = 0; c < 3; ++c) {
    Value message = weft::make_object(
        "Message", {{"role", str("assistant")},
                    {"content", str(std::string(example.object().fields[2].second.as_string()) + " " + sentence(30))}});
    choices.push_back(weft::make_object("Choice", {{"index", num(c)},
                                                   {"message", message},
                                                   {"finish_reason", str(c == 0 ? "stop" : "length")}}));
  }
  std::vector<Value> tool_calls;
  for (int64_t t = 0; t < 4; ++t) {
    tool_calls.push_back(Value::dict({{"name", str(t % 2 ? "search" : "lookup")},
                                      {"arguments", str("{\"q\": \"" + sentence(4) + "\"}")},
                                      {"ok", Value::boolean(t != 3)},
                                      {"latency_ms", Value::number(12.5 + static_cast<double>(t))}}));
  }
  return weft::make_object("ChatCompletion",
                           {{"id", str("chatcmpl-" + std::to_string(index))},
                            {"object", str("chat.completion")},
                            {"created", num(1767225600 + static_cast<int64_t>(index))},
                            {"model", str("gpt-4o-mini")},
                            {"usage", usage},
                            {"choices", Value::list(std::move(choices))},
                            {"tool_calls", Value::list(std::move(tool_calls))},
                            {"system_fingerprint", str("fp_0123456789")}});
}

OpValues WorkloadBuilder::op(const SharedValues& shared, size_t index) {
  Value ex = example(index);
  OpValues v;
  v.output = response(index, ex);
  v.inputs = Value::dict({{"model", shared.model}, {"example", std::move(ex)}});
  return v;
}

Value WorkloadBuilder::step_inputs(size_t step, size_t ops) {
  return Value::dict({{"step", num(static_cast<int64_t>(step))}, {"ops", num(static_cast<int64_t>(ops))}});
}

Value WorkloadBuilder::step_output(size_t step, size_t ops) {
  return Value::dict({{"step", num(static_cast<int64_t>(step))}, {"completed", num(static_cast<int64_t>(ops))}});
}

size_t output_json_bytes(const OpValues& v) { return weft::canonical_json(v.output).size(); }
size_t inputs_json_bytes(const OpValues& v) { return weft::canonical_json(v.inputs).size(); }

size_t objects_per_op(const OpValues& v) {
  // Objects reachable from a value, each instance once, skipping the shared model.
  size_t n = 0;
  std::function<void(const Value&, bool)> walk = [&](const Value& x, bool count) {
    switch (x.kind()) {
      case weft::ValueKind::kObject:
        n += count ? 1 : 0;
        for (const auto& f : x.object().fields) walk(f.second, count);
        break;
      case weft::ValueKind::kList:
        for (const auto& i : x.items()) walk(i, count);
        break;
      case weft::ValueKind::kDict:
        for (const auto& e : x.entries()) walk(e.second, count && e.first != "model");
        break;
      default: break;
    }
  };
  walk(v.inputs, true);
  walk(v.output, true);
  return n;
}

}  // namespace weft_bench
