// MODEL, not weft: `pool-sync-walk`, Weave's released client (the master branch of
// weave PR 6740's table).
//
// finish_call walks the output on the calling thread (_save_nested_objects + map_to_refs):
// every new Object gets a ref with a pending digest and its save is queued, children
// ahead of parents; then send_end_call is queued. A worker serialising a parent or a call
// blocks in to_json on each child digest that is still pending. Because everything a task
// waits for was queued ahead of it, the pool always drains; the price is the walk on the
// calling thread and workers parked on digests.
#include "bench/scenario/pool_client.h"
#include "bench/scenario/runner.h"

namespace weft_bench {

namespace {

class SyncWalkModel final : public PoolClient {
 public:
  using PoolClient::PoolClient;
  ~SyncWalkModel() override { shutdown(); }

 protected:
  // defer(send): the task blocks on pending children when it runs.
  void dispatch(const Children& children, WorkerPool::Task task) override {
    (void)children;
    pool().defer(std::move(task));
  }

  void end_call(std::shared_ptr<CallRecord> rec) override {
    Children children = output_children(rec->output);  // the walk, on the calling thread
    pool().defer([this, rec, children] { send_call_end(*rec, children); });
  }
};

}  // namespace

RunResult run_main_pool_sync_walk(const std::string& store, const Options& o) {
  return measure_main<SyncWalkModel>("pool-sync-walk", store, o, [&](std::shared_ptr<weft::Store> s) {
    return std::make_unique<SyncWalkModel>(model_config(std::move(s), o));
  });
}

ScenarioResult run_paused_pool_sync_walk(const Options& o) {
  return measure_paused<SyncWalkModel>("pool-sync-walk", o.pool, o, [&](std::shared_ptr<weft::Store> s) {
    return std::make_unique<SyncWalkModel>(model_config(std::move(s), o));
  });
}

}  // namespace weft_bench
