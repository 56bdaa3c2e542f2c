// The measurement loops, shared by every design so that they are driven identically.
//
// A design D offers the application's calls and the harness's controls:
//   typename D::Call;  D::Call start(const Value& op, Value inputs, const D::Call* parent);
//   void finish(D::Call&, Value output);  pause_store(); resume_store();
//   DrainResult drain(deadline);  bool deadlocked();  after_step();  shutdown();
//   uint64_t blocking_waits();
#pragma once

#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <thread>
#include <vector>

#include "bench/common/thread_cpu.h"
#include "bench/scenario/counting_store.h"
#include "bench/scenario/metrics.h"
#include "bench/scenario/results.h"
#include "bench/scenario/workload.h"

namespace weft_bench {

inline Clock::time_point deadline_after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// S steps x N ops. Each step's values are built before its clock starts (building them is
// the application's work, the same for every design); each op's start + finish is timed
// on the calling thread; then the drain.
template <class D, class Make>
RunResult measure_main(const std::string& design, const std::string& store_kind, const Options& o, Make make) {
  RunResult r;
  r.design = design;
  r.store = store_kind;
  std::string db_path;
  std::shared_ptr<CountingStore> store;
  try {
    store = open_counting_store(store_kind, o.tmp_dir, db_path);
  } catch (const std::exception& e) {
    r.status = "ERROR";
    r.detail = e.what();
    return r;
  }
  // The run's SQLite files go with it, however it ends (unless --keep-db).
  struct RemoveDb {
    const std::string& path;
    bool keep;
    ~RemoveDb() {
      if (!keep) remove_sqlite_files(path);
    }
  } remove_db{db_path, o.keep_db};
  SharedValues shared = make_shared_values();
  WorkloadBuilder builder(/*seed=*/1);
  {
    OpValues probe = builder.op(shared, 0);
    r.json_bytes_per_op = output_json_bytes(probe);
    r.objects_per_op = objects_per_op(probe);
  }
  r.op_ns.reserve(o.steps * o.ops);

  RssWatermark rss;
  rss.reset();
  r.rss_baseline_mb = rss.baseline_mb();
  r.rss_reset_ok = rss.reset_works();
  const weft_bench_common::CpuSnapshot snap0 = weft_bench_common::take_cpu_snapshot();
  const double cpu0 = process_cpu_s();
  std::unique_ptr<D> d = make(std::shared_ptr<weft::Store>(store));

  std::vector<OpValues> values;
  Clock::time_point first_start{};
  for (size_t step = 0; step < o.steps; ++step) {
    const double build0 = thread_cpu_s();
    values.clear();
    values.reserve(o.ops);
    for (size_t i = 0; i < o.ops; ++i) values.push_back(builder.op(shared, step * o.ops + i));
    weft::Value step_in = builder.step_inputs(step, o.ops), step_out = builder.step_output(step, o.ops);
    r.value_build_cpu_s += thread_cpu_s() - build0;

    const auto s0 = Clock::now();
    if (step == 0) first_start = s0;
    auto parent = d->start(shared.step_op, std::move(step_in), nullptr);
    for (size_t i = 0; i < o.ops; ++i) {
      const auto t0 = Clock::now();
      {
        auto call = d->start(shared.predict_op, std::move(values[i].inputs), &parent);
        d->finish(call, std::move(values[i].output));
      }
      r.op_ns.push_back(ns_between(t0, Clock::now()));
    }
    d->finish(parent, std::move(step_out));
    r.step_ms.push_back(static_cast<double>(ns_between(s0, Clock::now())) / 1e6);
    r.steps_run = step + 1;
    d->after_step();
    if (d->deadlocked()) break;  // a starved pool: stop feeding it
  }
  const auto last = Clock::now();
  DrainResult dr = d->drain(deadline_after(o.drain_limit_s));
  const auto drained = Clock::now();
  r.status = dr.status;
  r.detail = dr.detail;
  r.drain_ms = static_cast<double>(ns_between(last, drained)) / 1e6;
  r.end_to_end_s = static_cast<double>(ns_between(first_start, drained)) / 1e9;
  r.cpu_s = process_cpu_s() - cpu0 - r.value_build_cpu_s;
  {
    // The threads are all still alive here (shutdown comes after): per kind, same window.
    const weft_bench_common::CpuDelta cd = cpu_delta(snap0, weft_bench_common::take_cpu_snapshot());
    for (size_t k = 0; k < r.kind_cpu_s.size(); ++k) r.kind_cpu_s[k] = static_cast<double>(cd.kind_ns[k]) / 1e9;
    r.kind_cpu_s[weft_bench_common::kApp] -= r.value_build_cpu_s;
    r.exited_cpu_s = static_cast<double>(cd.exited_ns) / 1e9;
    r.context_switches = cd.csw;
    r.voluntary_context_switches = cd.vcsw;
  }
  r.rss_peak_mb = rss.peak_mb();
  r.blocking_waits = d->blocking_waits();
  r.objects = store->written(CountingStore::kObj);
  r.calls = store->written(CountingStore::kCallEnd);
  r.requests = store->written_total();
  if (r.status == "ok" && r.end_to_end_s > 0) r.objects_per_s = static_cast<double>(r.objects) / r.end_to_end_s;
  if (r.status == "ok" && store->failures() > 0) {
    r.status = "ERROR";
    r.detail = std::to_string(store->failures()) + " store requests failed";
  }
  d->shutdown();
  d.reset();
  store.reset();  // closes the SQLite file before RemoveDb deletes it
  if (o.keep_db && !db_path.empty()) r.detail += (r.detail.empty() ? "" : "; ") + std::string("kept ") + db_path;
  std::sort(r.op_ns.begin(), r.op_ns.end());
  return r;
}

// weave PR 6740's paused-client scenario: with the store paused, an evaluation runs
// `scenario_ops` predict calls (model + example in, a response Object out) and then scores
// each prediction with a call that takes that earlier output as its input; the store is
// resumed and the design must drain. The application never waits, and nothing reaches
// the store while it is paused.
template <class D, class Make>
ScenarioResult measure_paused(const std::string& design, unsigned threads, const Options& o, Make make) {
  ScenarioResult r;
  r.design = design;
  r.threads = threads;
  std::string db_path;
  std::shared_ptr<CountingStore> store = open_counting_store("null", o.tmp_dir, db_path);
  SharedValues shared = make_shared_values();
  WorkloadBuilder builder(/*seed=*/7);
  // More predictions than pool workers, whatever --pool says, so that the end tasks can
  // occupy every worker (the scenario is about a small pool).
  const size_t k = std::max(o.scenario_ops, 2 * static_cast<size_t>(o.pool) + 8);
  std::vector<OpValues> predictions;
  predictions.reserve(k);
  for (size_t i = 0; i < k; ++i) predictions.push_back(builder.op(shared, i));
  std::vector<weft::Value> score_inputs, score_outputs;
  for (size_t i = 0; i < k; ++i) {
    // The later call takes the earlier call's output instance as its input.
    score_inputs.push_back(weft::Value::dict({{"example", *predictions[i].inputs.find("example")},
                                              {"output", predictions[i].output}}));
    score_outputs.push_back(weft::Value::dict({{"correct", weft::Value::boolean(i % 3 != 2)},
                                               {"score", weft::Value::number(i % 3 != 2 ? 1.0 : 0.0)}}));
  }

  std::unique_ptr<D> d = make(std::shared_ptr<weft::Store>(store));
  d->pause_store();
  const auto a0 = Clock::now();
  auto eval = d->start(shared.eval_op, weft::Value::dict({{"model", shared.model}}), nullptr);
  for (size_t i = 0; i < k; ++i) {
    auto call = d->start(shared.predict_op, std::move(predictions[i].inputs), &eval);
    d->finish(call, std::move(predictions[i].output));
  }
  for (size_t i = 0; i < k; ++i) {
    auto call = d->start(shared.score_op, std::move(score_inputs[i]), &eval);
    d->finish(call, std::move(score_outputs[i]));
  }
  d->finish(eval, weft::Value::dict({{"accuracy", weft::Value::number(2.0 / 3.0)}}));
  r.app_ms = static_cast<double>(ns_between(a0, Clock::now())) / 1e6;
  r.calls = 2 * k + 1;
  // The server stays paused a moment longer, as in Weave's fixture; the pool settles in
  // whatever state the pause left it.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  r.written_while_paused = store->written_total();
  const auto resumed = Clock::now();
  d->resume_store();
  DrainResult dr = d->drain(deadline_after(std::min(o.drain_limit_s, 60.0)));
  r.after_resume_ms = static_cast<double>(ns_between(resumed, Clock::now())) / 1e6;
  r.status = dr.status;
  r.detail = dr.detail;
  if (r.written_while_paused != 0 && r.status == "ok") {
    r.status = "ERROR";
    r.detail = std::to_string(r.written_while_paused) + " requests reached the paused store";
  }
  r.objects = store->written(CountingStore::kObj);
  r.call_ends = store->written(CountingStore::kCallEnd);
  d->shutdown();
  return r;
}

}  // namespace weft_bench
