// MODEL, not weft: `pool-naive-defer`, part 1 of weave PR 6740 alone: finish_call queues
// one task that does the output walk (_save_nested_objects + map_to_refs + to_json) in the
// pool, without the PR's gate.
//
// That task queues the saves of the output's Objects at the back of the pool's queue and
// then blocks in to_json until their digests arrive. When the output was already met
// by a later call (the next call took the previous output as input and queued its save),
// the task blocks on a save queued behind it. Once every worker holds such a task, no
// worker is left to run the saves they wait for: the pool starves and never drains.
// A paused store makes that certain: the application queues its whole evaluation while
// the store holds every digest back, so the end tasks sit side by side at the front of
// the queue, ahead of the saves they need. The watchdog in PoolClient proves the state
// (every worker parked on a digest, the store idle) and reports DEADLOCK.
#include "bench/scenario/pool_client.h"
#include "bench/scenario/runner.h"

namespace weft_bench {

namespace {

class NaiveDeferModel final : public PoolClient {
 public:
  using PoolClient::PoolClient;
  ~NaiveDeferModel() override { shutdown(); }

 protected:
  // defer(send), as in the released client: a task blocks on pending children.
  void dispatch(const Children& children, WorkerPool::Task task) override {
    (void)children;
    pool().defer(std::move(task));
  }

  // The walk moves into the pool; the worker then waits for the saves it just queued
  // (or that a later call queued) behind itself.
  void end_call(std::shared_ptr<CallRecord> rec) override {
    pool().defer([this, rec] {
      Children children = output_children(rec->output);
      send_call_end(*rec, children);
    });
  }
};

}  // namespace

RunResult run_main_pool_naive_defer(const std::string& store, const Options& o) {
  return measure_main<NaiveDeferModel>("pool-naive-defer", store, o, [&](std::shared_ptr<weft::Store> s) {
    return std::make_unique<NaiveDeferModel>(model_config(std::move(s), o));
  });
}

ScenarioResult run_paused_pool_naive_defer(const Options& o) {
  return measure_paused<NaiveDeferModel>("pool-naive-defer", o.pool, o, [&](std::shared_ptr<weft::Store> s) {
    return std::make_unique<NaiveDeferModel>(model_config(std::move(s), o));
  });
}

}  // namespace weft_bench
