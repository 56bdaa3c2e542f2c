// MODEL of Weave's Python WeaveClient (see pool_client.h), not part of weft.
#include "bench/scenario/pool_client.h"

#include <pthread.h>

#include <stdexcept>

#include <weft/digest.h>
#include <weft/json.h>
#include <weft/ref.h>
#include <weft/store.h>

#include "runtime/model/json_escape.h"

namespace weft_bench {

using weft::Value;
using weft::ValueKind;

namespace {

// to_json with children as refs: Weave's ref.uri() blocks until the child's digest is
// known, so this is where a worker of the blocking designs waits.
class RefWriter final : public weft::ChildWriter {
 public:
  RefWriter(const Children& children, WorkerPool& pool) : children_(children), pool_(pool) {}
  void write_child(const Value& child, std::string& out) override {
    for (const auto& c : children_) {
      if (c.node != child.node()) continue;
      const std::string& uri = c.future->wait_uri(pool_);
      if (uri.empty()) {
        out += "null";  // the child's write failed
        return;
      }
      weft::append_json_string(uri, out);
      bool seen = false;
      for (const auto& u : uris_) seen |= u == uri;
      if (!seen) uris_.push_back(uri);
      return;
    }
    throw std::logic_error("reference model: a child was not walked before serialising");
  }
  std::vector<std::string>& uris() { return uris_; }

 private:
  const Children& children_;
  WorkerPool& pool_;
  std::vector<std::string> uris_;
};

// Weave's base_object_class (as weft's object actor computes it).
std::optional<std::string> base_object_class(const weft::ObjectData& o) {
  const auto& b = o.bases;
  if (b.size() >= 2 && b[b.size() - 1] == "BaseModel" && b[b.size() - 2] == "Object")
    return b.size() > 2 ? b[b.size() - 3] : o.class_name;
  return std::nullopt;
}

}  // namespace

ModelConfig model_config(std::shared_ptr<weft::Store> store, const Options& o) {
  ModelConfig c;
  c.store = std::move(store);
  c.pool_threads = o.pool;
  c.deadlock_confirm_s = o.deadlock_confirm_s;
  c.stall_timeout_s = o.stall_timeout_s;
  return c;
}

// ---------------------------------------------------------------- PoolClient

PoolClient::PoolClient(const ModelConfig& config)
    : config_(config),
      project_id_(config.entity + "/" + config.project),
      attributes_json_(weft::canonical_json(Value::dict(
          {{"weave", Value::dict({{"client", Value::string("weave-python-model")},
                                  {"client_version", Value::string("0")}})}}))),
      store_(config.store, config.store_batch, &outstanding_),
      pool_(config.pool_threads) {
  watchdog_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "pool.watchdog");  // "other" in the CPU split
    watchdog();
  });
}

PoolClient::~PoolClient() { shutdown(); }

PoolClient::Call PoolClient::start(const Value& op, Value inputs, const Call* parent) {
  auto rec = std::make_shared<CallRecord>();
  rec->id = weft::new_uuid_v7();
  if (parent != nullptr && parent->rec_) {
    rec->trace_id = parent->rec_->trace_id;
    rec->parent_id = parent->rec_->id;
    rec->parent = parent->rec_.get();
  } else {
    rec->trace_id = weft::new_uuid_v7();
  }
  rec->started_at_us = weft::now_unix_micros();
  // _save_op and _save_nested_objects(inputs), on the calling thread.
  rec->op = save(op);
  collect(inputs, rec->input_children);
  rec->inputs = std::move(inputs);
  Children needs = rec->input_children;
  needs.push_back(Child{op.node(), rec->op});
  outstanding_.fetch_add(1, std::memory_order_acq_rel);  // its call_start
  dispatch(needs, [this, rec] { send_call_start(*rec); });
  Call c;
  c.rec_ = std::move(rec);
  return c;
}

void PoolClient::finish(Call& call, Value output) {
  std::shared_ptr<CallRecord> rec = std::move(call.rec_);
  if (!rec) return;
  rec->ended_at_us = weft::now_unix_micros();
  rec->output = std::move(output);
  // The summary is computed before finish_call returns (both in Weave's release and in
  // the PR), and rolled up into the parent on the calling thread.
  rec->summary.add_own_output(rec->output);
  rec->summary.success += 1;
  if (rec->parent != nullptr) rec->parent->summary.add(rec->summary);
  outstanding_.fetch_add(1, std::memory_order_acq_rel);  // its call_end
  end_call(std::move(rec));
}

FuturePtr PoolClient::save(const Value& v) {
  if (v.kind() != ValueKind::kObject && v.kind() != ValueKind::kOp)
    throw std::logic_error(std::string("reference model: cannot save a ") + weft::kind_name(v.kind()) +
                           " (the models handle Objects and Ops, all the workload uses)");
  FuturePtr future;
  {
    std::lock_guard<std::mutex> lock(registry_mu_);
    auto it = registry_.find(v.node());
    if (it != registry_.end()) return it->second.future;
    future = std::make_shared<DigestFuture>();
    registry_.emplace(v.node(), Entry{v, future});
  }
  // Children first: their saves are queued ahead of this one.
  Children children;
  if (v.kind() == ValueKind::kObject)
    for (const auto& f : v.object().fields) collect(f.second, children);
  const bool is_op = v.kind() == ValueKind::kOp;
  outstanding_.fetch_add(is_op ? 2 : 1, std::memory_order_acq_rel);  // obj_create (+ the op's file)
  dispatch(children, [this, v, future, children] { send_obj_create(v, future, children); });
  return future;
}

void PoolClient::collect(const Value& v, Children& out) {
  switch (v.kind()) {
    case ValueKind::kObject:
    case ValueKind::kOp: {
      FuturePtr f = save(v);
      for (const auto& c : out)
        if (c.node == v.node()) return;
      out.push_back(Child{v.node(), std::move(f)});
      return;
    }
    case ValueKind::kTable:
    case ValueKind::kBlob:
      throw std::logic_error("reference model: Tables and Blobs are not modelled");
    case ValueKind::kList:
      for (const auto& item : v.items()) collect(item, out);
      return;
    case ValueKind::kDict:
      for (const auto& e : v.entries()) collect(e.second, out);
      return;
    default:
      return;
  }
}

Children PoolClient::output_children(const Value& output) {
  Children out;
  if (output.is_saveable()) out.push_back(Child{output.node(), save(output)});
  else collect(output, out);
  return out;
}

std::vector<FuturePtr> PoolClient::pending_of(const Children& children) {
  std::vector<FuturePtr> pending;
  for (const auto& c : children)
    if (!c.future->ready()) pending.push_back(c.future);
  return pending;
}

void PoolClient::send_obj_create(const Value& v, const FuturePtr& future, const Children& children) {
  RefWriter refs(children, pool_);
  std::string val = weft::canonical_json(v, &refs);
  std::string digest = weft::base_digest(val);
  const bool is_op = v.kind() == ValueKind::kOp;
  std::string raw = is_op ? v.op().name : (v.object().name.empty() ? v.object().class_name : v.object().name);
  weft::Result<std::string> name = weft::sanitize_object_name(raw);
  weft::Ref ref;
  ref.entity = config_.entity;
  ref.project = config_.project;
  ref.kind = is_op ? weft::Ref::Kind::kOp : weft::Ref::Kind::kObject;
  ref.name = name ? *name : raw;
  ref.digest = digest;
  if (is_op) {
    const std::string& src = v.op().source;
    store_.submit(weft::FileCreateRequest{project_id_, weft::file_digest(src), "obj.py",
                                   std::make_shared<const std::string>(src)});
  }
  weft::ObjCreateRequest req;
  req.project_id = project_id_;
  req.object_id = ref.name;
  req.kind = is_op ? "op" : "object";
  req.val_json = std::move(val);
  req.digest = std::move(digest);
  if (!is_op) {
    req.base_object_class = base_object_class(v.object());
    req.leaf_object_class = v.object().class_name;
  }
  req.refs = std::move(refs.uris());
  req.created_at_us = weft::now_unix_micros();
  store_.submit(std::move(req), future, ref.uri());
}

void PoolClient::send_call_start(CallRecord& rec) {
  RefWriter refs(rec.input_children, pool_);
  weft::CallStartRequest req;
  req.project_id = project_id_;
  req.id = rec.id.str();
  req.trace_id = rec.trace_id.str();
  if (rec.parent_id) req.parent_id = rec.parent_id->str();
  req.op_name = rec.op->wait_uri(pool_);
  req.started_at_us = rec.started_at_us;
  req.attributes_json = attributes_json_;
  req.inputs_json = rec.inputs.is_null() ? std::string("{}") : weft::canonical_json(rec.inputs, &refs);
  req.input_refs = std::move(refs.uris());
  store_.submit(std::move(req));
}

void PoolClient::send_call_end(CallRecord& rec, const Children& children) {
  RefWriter refs(children, pool_);
  weft::CallEndRequest req;
  req.project_id = project_id_;
  req.id = rec.id.str();
  req.started_at_us = rec.started_at_us;
  req.ended_at_us = rec.ended_at_us;
  if (rec.output.is_saveable()) {
    // map_to_refs: an Object output is recorded as its ref.
    const std::string& uri = children.front().future->wait_uri(pool_);
    if (uri.empty()) {
      req.output_json = "null";
    } else {
      weft::append_json_string(uri, req.output_json);
      req.output_refs.push_back(uri);
    }
  } else {
    req.output_json = weft::canonical_json(rec.output, &refs);
    req.output_refs = std::move(refs.uris());
  }
  req.summary_json = rec.summary.to_json();
  store_.submit(std::move(req));
}

DrainResult PoolClient::drain(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (outstanding_.load(std::memory_order_acquire) == 0) return {};
    if (deadlocked()) {
      std::lock_guard<std::mutex> lock(deadlock_mu_);
      return {"DEADLOCK", deadlock_reason_};
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return {"TIMEOUT", std::to_string(outstanding_.load()) + " requests not written by the drain limit"};
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
}

void PoolClient::after_step() {
  // A value the application no longer holds can never be met again: its ref goes with it.
  // Dropping a parent's entry frees its children's last outside reference, hence passes.
  std::lock_guard<std::mutex> lock(registry_mu_);
  for (int pass = 0; pass < 8; ++pass) {
    bool erased = false;
    for (auto it = registry_.begin(); it != registry_.end();) {
      if (it->second.future->ready() && it->second.keep.use_count() == 1) {
        it = registry_.erase(it);
        erased = true;
      } else {
        ++it;
      }
    }
    if (!erased) break;
  }
}

void PoolClient::watchdog() {
  using std::chrono::duration;
  using SteadyClock = std::chrono::steady_clock;
  const duration<double> confirm(config_.deadlock_confirm_s), stall(config_.stall_timeout_s);
  uint64_t last_progress = ~uint64_t{0}, starved_progress = 0;
  auto last_progress_at = SteadyClock::now();
  bool starved_before = false;  // (not std::optional: GCC 12 misreports it as uninitialised)
  SteadyClock::time_point starved_since{};
  while (!watchdog_stop_.load(std::memory_order_acquire) && !deadlocked()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    const auto now = SteadyClock::now();
    const uint64_t progress = pool_.tasks_done() + store_.written();
    if (progress != last_progress) {
      last_progress = progress;
      last_progress_at = now;
    }
    if (outstanding_.load(std::memory_order_acquire) == 0 || store_.paused()) {
      last_progress_at = now;  // nothing to do, or waiting on purpose
      starved_before = false;
      continue;
    }
    // Every worker waits on a digest and the store has nothing to write: those digests
    // belong to saves still queued behind the waiting tasks, so none can ever resolve.
    const bool starved = pool_.blocked() == pool_.size() && store_.idle();
    if (starved) {
      if (!starved_before || progress != starved_progress) {
        starved_before = true;
        starved_since = now;
        starved_progress = progress;
      } else if (now - starved_since >= confirm) {
        declare_deadlock("all " + std::to_string(pool_.size()) +
                         " workers blocked on digests of saves queued behind them (" +
                         std::to_string(pool_.queued()) + " tasks queued, store idle)");
        return;
      }
    } else {
      starved_before = false;
    }
    if (now - last_progress_at >= stall) {
      declare_deadlock("no progress for " + std::to_string(static_cast<int>(config_.stall_timeout_s)) +
                       " s with " + std::to_string(outstanding_.load()) + " requests pending");
      return;
    }
  }
}

void PoolClient::declare_deadlock(std::string why) {
  {
    std::lock_guard<std::mutex> lock(deadlock_mu_);
    deadlock_reason_ = std::move(why);
  }
  deadlocked_.store(true, std::memory_order_release);
  // Reported; now release the stuck workers so the process can go on and exit.
  pool_.poison();
}

void PoolClient::shutdown() {
  if (shut_down_) return;
  shut_down_ = true;
  const bool clean = outstanding_.load(std::memory_order_acquire) == 0;
  if (!clean) pool_.poison();  // a deadlock or a drain that gave up: release the workers
  watchdog_stop_.store(true, std::memory_order_release);
  if (watchdog_.joinable()) watchdog_.join();
  pool_.stop();
  store_.stop(/*drop=*/!clean);
  // Callbacks that will never run (then() gates after a deadlock) hold tasks that hold
  // futures: break those cycles.
  std::lock_guard<std::mutex> lock(registry_mu_);
  for (auto& [node, entry] : registry_) entry.future->drop_callbacks();
  registry_.clear();
}

}  // namespace weft_bench
