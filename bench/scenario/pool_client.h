// MODEL, not weft: Weave's Python WeaveClient (weave/trace/weave_client.py) as the seed
// benchmark's reference designs, on weft's values, canonical JSON, digests and stores.
//
// What every variant shares, as Weave does it:
//   - create_call on the calling thread: ids, clock, _save_nested_objects(inputs) (each
//     Object met for the first time gets a ref whose digest is a future, and its save is
//     queued: children before parents), then defer(send_start_call).
//   - a save task (send_obj_create): to_json with children as refs, which needs each
//     child's digest; then base digest; then obj_create to the store; the object's digest
//     future resolves when the store has written it.
//   - finish_call on the calling thread: the summary (own usage, roll-up into the parent),
//     then the design's own finish (end_call).
//   - one ref per Object instance (Weave keeps it on the object; here a registry keyed by
//     the value node, pruned when the application has dropped the value and its save is
//     done, which is when Python would have collected it).
//
// What the variants change (one file each):
//   - dispatch(): how a task that needs its children's digests is scheduled: queued as is,
//     blocking its worker inside to_json (Weave's released client), or gated on the
//     pending digests with then() (weave PR 6740's fix);
//   - end_call(): whether the output walk runs on the calling thread or in the pool.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <weft/ids.h>
#include <weft/value.h>

#include "bench/scenario/pool_model.h"
#include "bench/scenario/results.h"
#include "runtime/core/call_summary.h"

namespace weft_bench {

struct ModelConfig {
  std::shared_ptr<weft::Store> store;
  unsigned pool_threads = 4;  // Weave's client_parallelism (a small pool)
  std::string entity = "bench";
  std::string project = "seed";
  size_t store_batch = 2048;  // as weft's store writer, so the store side is the same
  double deadlock_confirm_s = 0.3;
  double stall_timeout_s = 20;
};

// The models' configuration from the command line (--pool, watchdog timings).
ModelConfig model_config(std::shared_ptr<weft::Store> store, const Options& o);

// A saveable value met while walking, and its digest future.
struct Child {
  const weft::detail::Node* node;
  FuturePtr future;
};
using Children = std::vector<Child>;

// The call summary Weave computes on the calling thread: usage per model, status counts.
// The summary roll-up is weft's own (shared code: only the scheduling differs).
using ModelSummary = weft::CallSummary;

struct CallRecord {
  weft::Uuid id;
  weft::Uuid trace_id;
  std::optional<weft::Uuid> parent_id;
  CallRecord* parent = nullptr;  // alive until this call finishes (calls nest)
  int64_t started_at_us = 0;
  int64_t ended_at_us = 0;
  FuturePtr op;
  weft::Value inputs;
  Children input_children;
  weft::Value output;
  ModelSummary summary;
};

class PoolClient {
 public:
  class Call {
   public:
    Call() = default;

   private:
    friend class PoolClient;
    std::shared_ptr<CallRecord> rec_;
  };

  explicit PoolClient(const ModelConfig& config);
  virtual ~PoolClient();
  PoolClient(const PoolClient&) = delete;
  PoolClient& operator=(const PoolClient&) = delete;

  // ---- the application's calls (calling thread) ----
  Call start(const weft::Value& op, weft::Value inputs, const Call* parent);
  void finish(Call& call, weft::Value output);

  // ---- the harness ----
  void pause_store() { store_.pause(); }
  void resume_store() { store_.resume(); }
  // Until every request promised so far is written, a deadlock is detected, or the deadline.
  DrainResult drain(std::chrono::steady_clock::time_point deadline);
  bool deadlocked() const { return deadlocked_.load(std::memory_order_acquire); }
  // Between steps: forget refs of values the application dropped (Python's GC).
  void after_step();
  // Releases a deadlocked pool (poison), stops the workers, the store thread and the watchdog.
  void shutdown();
  uint64_t blocking_waits() const { return pool_.blocking_waits(); }

 protected:
  // The design's save site: schedule `task`, which needs `children`'s digests.
  virtual void dispatch(const Children& children, WorkerPool::Task task) = 0;
  // The design's finish_call after the calling-thread bookkeeping (rec->output is set and
  // its call_end is already promised).
  virtual void end_call(std::shared_ptr<CallRecord> rec) = 0;

  // Weave's _save_nested_objects for one saveable value: its children first (post-order),
  // then its own save through dispatch(). Returns its digest future (an existing one if
  // this instance was met before).
  FuturePtr save(const weft::Value& v);
  // Walks v through plain dicts and lists and save()s every Object or Op met (not looking
  // inside them), adding each instance once to `out`.
  void collect(const weft::Value& v, Children& out);
  // The output's children: an Object output is itself the child (Weave's output becomes
  // its ref); a dict or list output contributes the Objects inside it.
  Children output_children(const weft::Value& output);
  // send_end_call: to_json(output) (blocking on a pending child digest), call_end to the store.
  void send_call_end(CallRecord& rec, const Children& children);
  static std::vector<FuturePtr> pending_of(const Children& children);

  WorkerPool& pool() { return pool_; }

 private:
  struct Entry {
    weft::Value keep;  // pins the node so its address is not reused while registered
    FuturePtr future;
  };
  void send_obj_create(const weft::Value& v, const FuturePtr& future, const Children& children);
  void send_call_start(CallRecord& rec);
  void watchdog();
  void declare_deadlock(std::string why);

  const ModelConfig config_;
  const std::string project_id_;
  const std::string attributes_json_;
  std::atomic<int64_t> outstanding_{0};  // requests promised and not yet written
  ModelStore store_;
  WorkerPool pool_;

  std::mutex registry_mu_;
  std::unordered_map<const weft::detail::Node*, Entry> registry_;

  std::atomic<bool> deadlocked_{false};
  std::mutex deadlock_mu_;
  std::string deadlock_reason_;
  std::atomic<bool> watchdog_stop_{false};
  std::thread watchdog_;
  bool shut_down_ = false;
};

}  // namespace weft_bench
