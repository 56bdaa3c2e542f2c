// The Runtime facade: what application threads call. Everything here on the calling
// thread is O(1) and lock-free: an id, a clock read, one atomic increment (the flush
// epoch's counter), and a move into the hand-off queue with this thread's producer token.
#include <weft/runtime.h>

#include <mutex>
#include <stdexcept>

#include <weft/store.h>

#include "runtime/core/metrics_snapshot.h"
#include "runtime/core/runtime_impl.h"
#include "runtime/metrics/metrics_server.h"

namespace weft {
namespace detail {

namespace {
// Each application thread caches the producer token of the last few runtimes it used,
// keyed by runtime id (ids are never reused, so a stale entry can never match). The tokens
// themselves belong to the runtime and die before its queue.
struct TokenCacheEntry {
  uint64_t runtime_id = 0;
  moodycamel::ProducerToken* token = nullptr;
};
constexpr size_t kTokenCacheSize = 4;
thread_local TokenCacheEntry t_tokens[kTokenCacheSize];
thread_local size_t t_tokens_next = 0;
}  // namespace

moodycamel::ProducerToken& RuntimeImpl::producer_token() {
  for (auto& e : t_tokens)
    if (e.runtime_id == core.runtime_id) return *e.token;
  std::lock_guard<std::mutex> lock(tokens_mu);
  tokens.push_back(std::make_unique<moodycamel::ProducerToken>(queue.q));
  auto& slot = t_tokens[t_tokens_next++ % kTokenCacheSize];
  slot = TokenCacheEntry{core.runtime_id, tokens.back().get()};
  return *slot.token;
}

bool RuntimeImpl::enqueue(Event&& e) {
  if (queue.q.enqueue(producer_token(), std::move(e))) return true;
  // Only an allocation failure gets here: the event is lost, so say so (never silently).
  refuse("event dropped: the hand-off queue could not allocate memory");
  return false;
}

void RuntimeImpl::refuse(const std::string& why) {
  // Report the first refusal and then every 10,000th: a saturated runtime must not turn
  // the error channel into the bottleneck. Every one is counted.
  uint64_t n = core.events_refused.fetch_add(1, std::memory_order_relaxed);
  if (n % 10000 == 0) core.report_error(why + " (" + std::to_string(n + 1) + " refused so far)");
}

SavedRef RuntimeImpl::refused_ref(const std::string& why) {
  refuse(why);
  detail::CellRef cell(new detail::SaveCell(core.runtime_id), /*adopt=*/true);
  cell->fail(why);
  return saved_ref(std::move(cell));
}

}  // namespace detail

namespace {
std::shared_ptr<Store> open_store(const Config& cfg) {
  if (cfg.store) return cfg.store;
  auto s = open_sqlite_store(cfg.store_path);
  if (!s) throw StatusError(s.status().with_context("cannot open store '" + cfg.store_path + "'"));
  return std::shared_ptr<Store>(std::move(s.value()));
}
}  // namespace

Runtime::Runtime(Config config) {
  if (Status s = validate_config(config); !s) throw StatusError(s);
  std::shared_ptr<Store> store = open_store(config);
  impl_ = std::make_unique<detail::RuntimeImpl>(std::move(config), std::move(store));
  impl_->core.writer.start();
  impl_->dispatcher = start_dispatcher(impl_->core, impl_->queue);
  if (!impl_->core.config.metrics_listen.empty()) {
    auto server = MetricsServer::start(*this, impl_->core.config.metrics_listen);
    if (!server) {
      impl_->dispatcher->stop(std::chrono::steady_clock::now());
      impl_->core.writer.stop(std::chrono::steady_clock::now());
      throw StatusError(server.status().with_context("metrics endpoint"));
    }
    impl_->metrics_server = std::move(server.value());
  }
}

Result<std::unique_ptr<Runtime>> Runtime::open(Config config) {
  try {
    return std::make_unique<Runtime>(std::move(config));
  } catch (const StatusError& e) {
    return e.status();
  } catch (const std::exception& e) {
    return Status::internal(e.what());
  }
}

Runtime::~Runtime() {
  if (!impl_) return;
  shutdown(impl_->core.config.destructor_flush_timeout);
  impl_->metrics_server.reset();  // before the counters it reads go away
}

SavedRef Runtime::save(Value value, std::string name) {
  detail::RuntimeImpl& d = *impl_;
  if (!d.accepting.load(std::memory_order_acquire))
    return d.refused_ref("save refused: the runtime is shut down");
  WorkToken token = d.core.tracker.acquire();
  if (!token) return d.refused_ref("save refused: too much outstanding work (max_outstanding)");

  // Instances are saved once: the first save (or parent) to meet one claims its cell.
  // A save under a name other than the value's own is a separate save (a new object
  // name in Weave), so it gets a private cell; its children are still shared.
  bool shareable = value.node() != nullptr;
  if (shareable && !name.empty()) {
    if (value.kind() == ValueKind::kObject) {
      const ObjectData& o = value.object();
      shareable = name == (o.name.empty() ? o.class_name : o.name);
    } else if (value.kind() == ValueKind::kOp) {
      shareable = name == value.op().name;
    } else if (value.kind() != ValueKind::kTable) {
      shareable = false;  // plain values: the name is part of what is saved
    }
  }
  detail::Claim claim = shareable ? detail::claim_cell(value, d.core.runtime_id)
                                  : detail::Claim{detail::CellRef(new detail::SaveCell(d.core.runtime_id), true), true};
  if (claim.owner) {
    if (!d.enqueue(Event{SaveEvent{std::move(value), std::move(name), claim.cell}, std::move(token)}))
      claim.cell->fail("save dropped: the hand-off queue could not allocate memory");
  } else {
    // Already being saved: keep this save's flush epoch open until that write commits.
    claim.cell->pin_until_committed(std::move(token));
  }
  return detail::RuntimeImpl::saved_ref(std::move(claim.cell));
}

Call Runtime::start_call(const Value& op, Value inputs, CallOptions options) {
  detail::RuntimeImpl& d = *impl_;
  Call call;
  if (!d.accepting.load(std::memory_order_acquire)) {
    d.refuse("call refused: the runtime is shut down");
    return call;
  }
  if (op.kind() != ValueKind::kOp) {
    d.refuse(std::string("call refused: the op must be an Op value (make_op), not a ") + kind_name(op.kind()));
    return call;
  }
  if (inputs.kind() != ValueKind::kDict && !inputs.is_null()) {
    d.refuse(std::string("call refused: inputs must be a dict, not a ") + kind_name(inputs.kind()));
    return call;
  }
  WorkToken token = d.core.tracker.acquire();
  if (!token) {
    d.refuse("call refused: too much outstanding work (max_outstanding)");
    return call;
  }
  const Call* parent = options.parent;
  if (parent == nullptr && !options.root) {
    parent = current_call();
    if (parent != nullptr && parent->rt_ != this) parent = nullptr;  // another runtime's call
  }
  const int64_t now = now_unix_micros();  // one clock read for the ids and started_at
  call.rt_ = this;
  call.id_ = new_uuid_v7(now);
  call.trace_id_ = parent != nullptr ? parent->trace_id_ : new_uuid_v7(now);
  CallStartEvent ev;
  ev.id = call.id_;
  ev.trace_id = call.trace_id_;
  if (parent != nullptr) ev.parent_id = parent->id_;
  ev.op = op;
  ev.inputs = std::move(inputs);
  ev.attributes = std::move(options.attributes);
  ev.display_name = std::move(options.display_name);
  ev.started_at_us = now;
  if (!d.enqueue(Event{std::move(ev), std::move(token)})) call.rt_ = nullptr;  // reported
  return call;
}

bool Runtime::flush(std::chrono::milliseconds timeout) {
  return impl_->core.tracker.flush(std::chrono::steady_clock::now() + timeout);
}

bool Runtime::shutdown(std::chrono::milliseconds timeout) {
  detail::RuntimeImpl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.shutdown_mu);
  if (d.shut_down) return d.shutdown_result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool flushed = d.core.tracker.flush(deadline);
  d.accepting.store(false, std::memory_order_release);
  std::string cut = d.dispatcher->stop(deadline);
  std::string unwritten = d.core.writer.stop(deadline);
  // The host stays (stopped) until the runtime is destroyed: metrics() may still read it.
  if (!cut.empty()) d.core.report_error("shutdown: " + cut);
  if (!unwritten.empty()) d.core.report_error("shutdown: " + unwritten);
  d.shut_down = true;
  d.shutdown_result = flushed && unwritten.empty();
  return d.shutdown_result;
}

void Runtime::pause_store() { impl_->core.writer.pause(); }
void Runtime::resume_store() { impl_->core.writer.resume(); }

RuntimeStats Runtime::stats() const {
  const detail::RuntimeImpl& d = *impl_;
  RuntimeStats s;
  s.events_accepted = d.dispatcher ? d.dispatcher->events_dispatched() : 0;
  s.events_refused = d.core.events_refused.load(std::memory_order_relaxed);
  s.obj_create = d.core.writer.written(0);
  s.table_create = d.core.writer.written(1);
  s.file_create = d.core.writer.written(2);
  s.call_start = d.core.writer.written(3);
  s.call_end = d.core.writer.written(4);
  s.store_failures = d.core.writer.failures();
  s.store_batches = d.core.writer.batches();
  s.store_queue_depth = d.core.writer.queue_depth();
  s.errors_reported = d.core.errors_reported();
  s.outstanding_work = d.core.tracker.outstanding();
  s.store_paused = d.core.writer.paused();
  return s;
}

MetricsSnapshot Runtime::metrics(size_t top_n) const {
  const detail::RuntimeImpl& d = *impl_;
  HostFigures h;
  h.handoff_queue_depth = d.queue.q.size_approx();
  if (d.dispatcher) {
    h.dispatched = d.dispatcher->events_dispatched();
    h.open_calls = d.dispatcher->open_calls();
    h.scheduler_threads = d.dispatcher->scheduler_threads();
  }
  return take_snapshot(d.core, h, top_n);
}

std::string Runtime::metrics_text() const { return render_prometheus(metrics()); }

int Runtime::metrics_port() const {
  return impl_->metrics_server ? impl_->metrics_server->port() : 0;
}

std::vector<std::string> Runtime::recent_errors() const { return impl_->core.recent_errors(); }
uint64_t Runtime::instance_id() const { return impl_->core.runtime_id; }
const Config& Runtime::config() const { return impl_->core.config; }
std::string Runtime::entity() const { return impl_->core.entity; }
std::string Runtime::project_name() const { return impl_->core.project; }

}  // namespace weft
