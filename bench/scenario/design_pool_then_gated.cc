// MODEL, not weft: `pool-then-gated`, weave PR 6740 as merged in spirit: the output walk
// is deferred into the pool (schedule_send), and every save site goes through
// _defer_after_pending_digests: a task whose children's digests are still pending is
// registered with then(pending, task) instead of being queued to block. The worker that
// registers it returns to the pool; the task is queued when the last digest arrives, and
// by then to_json does not block. No worker ever waits for another, so the pool drains.
#include "bench/scenario/pool_client.h"
#include "bench/scenario/runner.h"

namespace weft_bench {

namespace {

class ThenGatedModel final : public PoolClient {
 public:
  using PoolClient::PoolClient;
  ~ThenGatedModel() override { shutdown(); }

 protected:
  void dispatch(const Children& children, WorkerPool::Task task) override {
    std::vector<FuturePtr> pending = pending_of(children);
    if (pending.empty()) pool().defer(std::move(task));
    else pool().then(pending, std::move(task));
  }

  // Phase 1 (schedule_send) in the pool: walk, collect pending digests; phase 2
  // (finalize_send: to_json + call_end) now if none are pending, else as a continuation.
  void end_call(std::shared_ptr<CallRecord> rec) override {
    pool().defer([this, rec] {
      Children children = output_children(rec->output);
      std::vector<FuturePtr> pending = pending_of(children);
      if (pending.empty()) send_call_end(*rec, children);
      else pool().then(pending, [this, rec, children] { send_call_end(*rec, children); });
    });
  }
};

}  // namespace

RunResult run_main_pool_then_gated(const std::string& store, const Options& o) {
  return measure_main<ThenGatedModel>("pool-then-gated", store, o, [&](std::shared_ptr<weft::Store> s) {
    return std::make_unique<ThenGatedModel>(model_config(std::move(s), o));
  });
}

ScenarioResult run_paused_pool_then_gated(const Options& o) {
  return measure_paused<ThenGatedModel>("pool-then-gated", o.pool, o, [&](std::shared_ptr<weft::Store> s) {
    return std::make_unique<ThenGatedModel>(model_config(std::move(s), o));
  });
}

}  // namespace weft_bench
