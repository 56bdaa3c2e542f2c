#include "bench/remote/driver_workload.h"

#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

#include <weft/runtime.h>
#include <weft/value.h>

namespace weft_remote_bench {

namespace {

using Clock = std::chrono::steady_clock;
using weft::Value;

double process_cpu_s() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

rusage thread_usage() {
  rusage ru{};
  getrusage(RUSAGE_THREAD, &ru);
  return ru;
}

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

Value str(std::string s) { return Value::string(std::move(s)); }

Value make_dataset(size_t rows) {
  std::vector<Value> r;
  r.reserve(rows);
  for (size_t i = 0; i < rows; ++i)
    r.push_back(Value::dict({{"id", Value::integer(static_cast<int64_t>(i))},
                             {"question", str("question " + std::to_string(i))},
                             {"expected", str("answer " + std::to_string(i))}}));
  return weft::make_object("Dataset",
                           {{"name", str("bench-dataset")},
                            {"description", str("the benchmark dataset")},
                            {"rows", weft::make_table(std::move(r))}},
                           "bench-dataset", {"Object", "BaseModel"});
}

Value make_output(size_t call, size_t parts, const std::string& question) {
  std::vector<Value> p;
  p.reserve(parts);
  for (size_t k = 0; k < parts; ++k)
    p.push_back(weft::make_object("Part", {{"call", Value::integer(static_cast<int64_t>(call))},
                                           {"index", Value::integer(static_cast<int64_t>(k))},
                                           {"text", str("part " + std::to_string(k) + " of call " + std::to_string(call))},
                                           {"score", Value::number(0.5)}}));
  return Value::dict({{"text", str("answer to " + question + " from gpt-4o-mini")}, {"parts", Value::list(std::move(p))}});
}

// What the runtime reported through Config::on_error during the run (its threads call it).
struct Errors {
  std::mutex mu;
  size_t count = 0;
  std::string first;
};

double percentile(std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(i, sorted.size() - 1)]);
}

}  // namespace

CaseResult run_weft_workload(weft::Config config, const Workload& w, const std::string& name) {
  CaseResult r;
  r.name = name;
  auto errors = std::make_shared<Errors>();
  config.on_error = [errors](const std::string& msg) {
    std::lock_guard<std::mutex> lock(errors->mu);
    if (errors->count++ == 0) errors->first = msg;
  };
  auto opened = weft::Runtime::open(std::move(config));
  if (!opened) {
    r.error = "cannot open the runtime: " + opened.error();
    return r;
  }
  std::unique_ptr<weft::Runtime> rt = std::move(*opened);

  // Built before the clock starts, as the TS program builds its model and rows first.
  const Value predict = weft::make_op("predict", "def predict(model, question):\n    return model.invoke(question)\n");
  const Value model = weft::make_object("BenchModel",
                                        {{"model_name", str("gpt-4o-mini")},
                                         {"temperature", Value::number(0.2)},
                                         {"system_prompt", str("You are a concise assistant.")}},
                                        "bench-model", {"Object", "BaseModel"});
  Value dataset = make_dataset(w.rows);
  std::vector<int64_t> call_ns;
  call_ns.reserve(w.calls);

  const double cpu0 = process_cpu_s();
  const auto t0 = Clock::now();
  rt->save(std::move(dataset), "bench-dataset");
  size_t refused = 0;
  const rusage loop0 = thread_usage();
  for (size_t i = 0; i < w.calls; ++i) {
    // The application's own work (building its values) is outside the timed pair.
    std::string question = "question " + std::to_string(i);
    Value output = make_output(i, w.objects_per_call, question);
    Value inputs = Value::dict({{"model", model}, {"question", str(std::move(question))}});
    const auto a = Clock::now();
    weft::Call call = rt->start_call(predict, std::move(inputs));
    weft::Status finished = call.finish(std::move(output));
    call_ns.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - a).count());
    if (!call.recorded() || !finished.is_ok()) ++refused;
  }
  const auto t_calls = Clock::now();
  const rusage loop1 = thread_usage();
  r.app_involuntary_switches = static_cast<uint64_t>(loop1.ru_nivcsw - loop0.ru_nivcsw);
  r.app_minor_faults = static_cast<uint64_t>(loop1.ru_minflt - loop0.ru_minflt);
  weft::FlushResult flushed = rt->flush(std::chrono::minutes(10));
  const auto t1 = Clock::now();
  r.cpu_s = process_cpu_s() - cpu0;
  r.wall_s = seconds(t1 - t0);
  r.calls_s = seconds(t_calls - t0);
  r.drain_s = seconds(t1 - t_calls);

  int64_t total = 0;
  for (int64_t ns : call_ns) total += ns;
  r.app_ns_per_call = static_cast<double>(total) / static_cast<double>(std::max<size_t>(1, w.calls));
  std::sort(call_ns.begin(), call_ns.end());
  r.app_p50_ns = percentile(call_ns, 0.50);
  r.app_p99_ns = percentile(call_ns, 0.99);

  const weft::RuntimeStats s = rt->stats();
  r.calls = s.call_end;
  r.objects = s.obj_create;
  rt.reset();  // shut down outside the measured window

  std::lock_guard<std::mutex> lock(errors->mu);
  if (!flushed.complete) {
    r.error = "flush incomplete: written " + std::to_string(flushed.written) + ", failed " +
              std::to_string(flushed.failed) + ", pending " + std::to_string(flushed.pending);
  } else if (refused > 0) {
    r.error = std::to_string(refused) + " calls refused";
  } else if (errors->count > 0) {
    r.error = std::to_string(errors->count) + " runtime errors, the first: " + errors->first;
  }
  r.ok = r.error.empty();
  return r;
}

}  // namespace weft_remote_bench
