// Calling-thread cost of one traced call: start_call + finish, for a call whose output
// holds nested Objects (a response with usage, a choice and its message). Values are built
// before the timed region (building them is the application's work, not weft's); the null
// store keeps the disk out of it. Reports Google Benchmark's mean plus p50/p99/max from
// per-call samples (steady_clock around each pair: its ~25-30 ns per read are included).
//
//   build/bench/call_cost_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include <weft/runtime.h>
#include <weft/store.h>

namespace {

using weft::Value;

Value response(int i) {
  Value usage = weft::make_object("Usage", {{"prompt_tokens", Value::integer(40 + i % 7)},
                                            {"completion_tokens", Value::integer(i)},
                                            {"total_tokens", Value::integer(40 + i % 7 + i)}});
  Value message = weft::make_object("Message", {{"role", Value::string("assistant")},
                                                {"content", Value::string("answer " + std::to_string(i))}});
  Value choice = weft::make_object("Choice", {{"index", Value::integer(0)}, {"message", message}});
  return weft::make_object("ChatCompletion", {{"model", Value::string("gpt-4o-mini")},
                                              {"usage", usage},
                                              {"choices", Value::list({choice})}});
}

void BM_StartFinishNestedOutput(benchmark::State& state) {
  weft::Config cfg;
  cfg.project = "bench/calls";
  cfg.store = weft::make_null_store();
  cfg.scheduler_threads = 1;
  weft::Runtime rt(cfg);
  const Value op = weft::make_op("predict", "def predict(x): ...\n");
  const Value inputs = Value::dict({{"question", Value::string("What is 2 + 2?")}});

  constexpr int kBatch = 4096;
  std::vector<Value> outputs;
  std::vector<int64_t> samples;
  samples.reserve(1 << 20);
  int next = kBatch;
  for (auto _ : state) {
    if (next == kBatch) {
      // Refill outside the timed region, and let the runtime drain what it has, so the
      // queue does not grow without bound during a long run.
      state.PauseTiming();
      rt.flush(std::chrono::seconds(60));
      outputs.clear();
      for (int i = 0; i < kBatch; ++i) outputs.push_back(response(i));
      next = 0;
      state.ResumeTiming();
    }
    auto t0 = std::chrono::steady_clock::now();
    weft::Call c = rt.start_call(op, inputs);
    c.finish(std::move(outputs[static_cast<size_t>(next++)]));
    auto t1 = std::chrono::steady_clock::now();
    if (samples.size() < samples.capacity())
      samples.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  rt.flush(std::chrono::seconds(60));
  std::sort(samples.begin(), samples.end());
  auto pct = [&](double p) {
    return samples.empty() ? 0.0 : static_cast<double>(samples[static_cast<size_t>(p * static_cast<double>(samples.size() - 1))]);
  };
  state.counters["p50_ns"] = pct(0.50);
  state.counters["p99_ns"] = pct(0.99);
  state.counters["max_ns"] = samples.empty() ? 0.0 : static_cast<double>(samples.back());
}
BENCHMARK(BM_StartFinishNestedOutput)->UseRealTime();

}  // namespace
