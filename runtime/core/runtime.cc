// The Runtime facade: what application threads call. Everything here on the calling
// thread is O(1) and lock-free: an id, a clock read, two atomic adds (the shared budget
// word, and this thread's own flush-epoch count), and a move into the hand-off queue with
// this thread's producer token.
#include <weft/runtime.h>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include <atomic>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <weft/store.h>

#include "runtime/core/metrics_snapshot.h"
#include "runtime/core/runtime_impl.h"
#include "runtime/metrics/metrics_server.h"

namespace weft {
namespace detail {

namespace {
// Each application thread caches the producer slot of the last few runtimes it used, keyed
// by runtime id (ids are never reused, so a stale entry can never match). The slots
// themselves belong to the runtime and die before its queue.
struct SlotCacheEntry {
  uint64_t runtime_id = 0;
  ProducerSlot* slot = nullptr;
};
constexpr size_t kSlotCacheSize = 4;
thread_local SlotCacheEntry t_slots[kSlotCacheSize];
thread_local size_t t_slots_next = 0;
// The slot this thread used last: nearly every thread traces into one runtime, so one
// compare finds it and the scan of t_slots runs only when a thread alternates runtimes.
thread_local SlotCacheEntry t_last_slot;
}  // namespace

ProducerSlot* RuntimeImpl::enter() {
  ProducerSlot* slot = t_last_slot.runtime_id == core.runtime_id ? t_last_slot.slot : nullptr;
  if (slot == nullptr) {
    for (auto& e : t_slots)
      if (e.runtime_id == core.runtime_id) {
        slot = e.slot;
        break;
      }
  }
  if (slot == nullptr) {
    std::lock_guard<std::mutex> lock(slots_mu);
    slots.push_back(std::make_unique<ProducerSlot>(queue));
    slot = slots.back().get();
    t_slots[t_slots_next++ % kSlotCacheSize] = SlotCacheEntry{core.runtime_id, slot};
  }
  t_last_slot = SlotCacheEntry{core.runtime_id, slot};
  slot->active.store(1, std::memory_order_seq_cst);
  if (accepting.load(std::memory_order_seq_cst)) return slot;
  leave(slot);
  return nullptr;
}

void RuntimeImpl::close_front_door() {
  accepting.store(false, std::memory_order_seq_cst);
  std::lock_guard<std::mutex> lock(slots_mu);
  // A producer past the check finishes its enqueue in O(1): a short wait, never a long one.
  for (auto& slot : slots)
    while (slot->active.load(std::memory_order_seq_cst) != 0) std::this_thread::yield();
}

bool RuntimeImpl::enqueue(ProducerSlot* slot, Event&& e, EventKind kind) {
  if (queue.q.enqueue(slot->token, std::move(e))) return true;
  // Only an allocation failure gets here: the event is lost, so say so (never silently).
  refuse(kind, RefusedBecause::kNoMemory, "event dropped: the hand-off queue could not allocate memory");
  return false;
}

void RuntimeImpl::refuse(EventKind kind, RefusedBecause why, const std::string& message) {
  // Every refusal is counted; the first of each cause and then every 4096th is reported
  // (with the count), so a saturated runtime does not turn errors into the bottleneck.
  uint64_t n = core.refused.add(kind, why);
  if (n % 4096 == 0)
    core.report_error(std::string("refused ") + event_kind_name(kind) + " " + refused_because_name(why),
                      message + " (" + std::to_string(n + 1) + " " + event_kind_name(kind) +
                          " refused for this reason so far)");
}

SavedRef RuntimeImpl::refused_ref(RefusedBecause why, const std::string& message) {
  refuse(EventKind::kSave, why, message);
  detail::CellRef cell(new detail::SaveCell(core.runtime_id), /*adopt=*/true);
  cell->fail(message);
  return saved_ref(std::move(cell));
}

}  // namespace detail

namespace {
std::shared_ptr<Store> open_store(const Config& cfg) {
  if (cfg.store) return cfg.store;
  // A database another process holds locked may clear up: retry like a failed batch
  // (application thread, in the constructor: waiting here blocks no worker).
  auto deadline = std::chrono::steady_clock::now() + cfg.store_retry_timeout;
  auto backoff = std::chrono::milliseconds(10);
  auto s = open_sqlite_store(cfg.store_path);
  while (!s && s.code() == StatusCode::kUnavailable && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
    s = open_sqlite_store(cfg.store_path);
  }
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
  // Stop the actors for good (an actor cut short at the shutdown deadline may still have
  // submitted a store request after the writer stopped), then keep what they submitted.
  impl_->dispatcher.reset();
  std::string late = impl_->core.writer.keep_late_submissions();
  if (!late.empty()) impl_->core.report_error("after shutdown: " + late);
  impl_->core.errors.emit_held();
}

SavedRef Runtime::save(Value value, std::string name) {
  detail::RuntimeImpl& d = *impl_;
  detail::ProducerSlot* slot = d.enter();
  if (slot == nullptr)
    return d.refused_ref(RefusedBecause::kShutDown, "save refused: the runtime is shut down");
  struct Leave {
    detail::ProducerSlot* s;
    ~Leave() { detail::RuntimeImpl::leave(s); }
  } leave{slot};
  Refusal why = Refusal::kNone;
  WorkToken token = d.core.tracker.acquire(detail::kEventOverheadBytes + 2 * value.approx_bytes(), &why);
  if (!token)
    return why == Refusal::kTooManyBytes
               ? d.refused_ref(RefusedBecause::kMaxMemory, "save refused: max_memory_bytes reached")
               : d.refused_ref(RefusedBecause::kMaxOutstanding, "save refused: max_outstanding events held");

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
    if (!d.enqueue(slot, Event{SaveEvent{std::move(value), std::move(name), claim.cell}, std::move(token)},
                   EventKind::kSave))
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
  detail::ProducerSlot* slot = d.enter();
  if (slot == nullptr) {
    d.refuse(EventKind::kCallStart, RefusedBecause::kShutDown, "call refused: the runtime is shut down");
    return call;
  }
  struct Leave {
    detail::ProducerSlot* s;
    ~Leave() { detail::RuntimeImpl::leave(s); }
  } leave{slot};
  if (op.kind() != ValueKind::kOp) {
    d.refuse(EventKind::kCallStart, RefusedBecause::kInvalid,
             std::string("call refused: the op must be an Op value (make_op), not a ") + kind_name(op.kind()));
    return call;
  }
  if (inputs.kind() != ValueKind::kDict && !inputs.is_null()) {
    d.refuse(EventKind::kCallStart, RefusedBecause::kInvalid,
             std::string("call refused: inputs must be a dict, not a ") + kind_name(inputs.kind()));
    return call;
  }
  const Call* parent = options.parent;
  if (parent != nullptr && parent->rt_ != this) {
    // Its ids live in another runtime (another store, maybe another project): a child here
    // would get a trace id and a parent_id that dangle.
    d.refuse(EventKind::kCallStart, RefusedBecause::kInvalid,
             parent->rt_ == nullptr ? "call refused: the explicit parent call was not recorded"
                                    : "call refused: the explicit parent is a call of another Runtime");
    return call;
  }
  if (parent == nullptr && !options.root) {
    parent = current_call();
    if (parent != nullptr && parent->rt_ != this) parent = nullptr;  // another runtime's call
  }
  Refusal why = Refusal::kNone;
  WorkToken token = d.core.tracker.acquire(
      detail::kEventOverheadBytes + 2 * (inputs.approx_bytes() + options.attributes.approx_bytes()), &why);
  if (!token) {
    if (why == Refusal::kTooManyBytes)
      d.refuse(EventKind::kCallStart, RefusedBecause::kMaxMemory, "call refused: max_memory_bytes reached");
    else
      d.refuse(EventKind::kCallStart, RefusedBecause::kMaxOutstanding, "call refused: max_outstanding events held");
    return call;
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
  if (!options.attributes.is_null() || !options.display_name.empty())
    ev.extras.reset(new CallStartExtras{std::move(options.attributes), std::move(options.display_name)});
  ev.started_at_us = now;
  if (!d.enqueue(slot, Event{std::move(ev), std::move(token)}, EventKind::kCallStart))
    call.rt_ = nullptr;  // reported
  return call;
}

namespace {
// After a flush that left nothing open: hand freed memory back to the system. glibc keeps
// freed chunks of a burst in its arenas (9.5 GB after a million queued calls drained);
// malloc_trim returns them. Application thread, after the work is done: costs no one else.
//
// Not under a sanitizer: ASan and TSan replace malloc, so glibc's own arena is never set up,
// and two threads trimming it at once both run its lazy initialisation and one reads a null
// arena (a SEGV in mtrim, seen when tests flush from several threads). One trim at a time
// otherwise: a second flush finishing meanwhile has nothing more to hand back, so it skips.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define WEFT_TRIM_MALLOC 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define WEFT_TRIM_MALLOC 0
#endif
#endif
#if !defined(WEFT_TRIM_MALLOC) && defined(__GLIBC__)
#define WEFT_TRIM_MALLOC 1
#endif

void release_idle_memory() {
#if WEFT_TRIM_MALLOC
  static std::atomic<bool> trimming{false};
  if (trimming.exchange(true, std::memory_order_acquire)) return;
  malloc_trim(0);
  trimming.store(false, std::memory_order_release);
#endif
}

FlushResult to_result(const EpochOutcome& o) {
  FlushResult r;
  r.complete = o.drained && o.failed == 0;
  r.written = o.written;
  r.failed = o.failed;
  r.pending = o.pending;
  return r;
}
}  // namespace

FlushResult Runtime::flush(std::chrono::milliseconds timeout) {
  detail::RuntimeImpl& d = *impl_;
  // Out of an idle park, if they are in one: the work being flushed may have arrived
  // while they slept their longest steps.
  d.dispatcher->wake();
  d.core.writer.wake();
  FlushResult r = to_result(d.core.tracker.flush(std::chrono::steady_clock::now() + timeout));
  d.core.errors.emit_held();  // what this work's failures were, before the caller reads r
  if (r.complete && d.core.tracker.outstanding() == 0) release_idle_memory();
  return r;
}

FlushResult Runtime::shutdown(std::chrono::milliseconds timeout) {
  detail::RuntimeImpl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.shutdown_mu);
  if (d.shut_down) return d.shutdown_result;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  // Nothing is accepted from here on; events already past the front door are all queued.
  d.close_front_door();
  EpochOutcome flushed = d.core.tracker.flush(deadline);
  const uint64_t failed_before = d.core.writer.failures();
  std::string cut = d.dispatcher->stop(deadline);
  std::string unwritten = d.core.writer.stop(deadline);  // dead-letters what is left
  // The dispatcher stays (stopped) until the runtime is destroyed: metrics() may still read it.
  if (!cut.empty()) d.core.report_error("shutdown: " + cut);
  if (!unwritten.empty()) d.core.report_error("shutdown: " + unwritten);
  d.core.errors.emit_held();
  FlushResult r = to_result(flushed);
  if (!flushed.drained) {
    // What the flush saw pending was then written or given up by the writer's stop.
    uint64_t given_up = d.core.writer.failures() - failed_before;
    r.failed += given_up;
    r.pending = d.core.tracker.outstanding();
  }
  r.complete = r.complete && unwritten.empty() && cut.empty();
  d.shut_down = true;
  d.shutdown_result = r;
  return r;
}

void Runtime::pause_store() { impl_->core.writer.pause(); }
void Runtime::resume_store() { impl_->core.writer.resume(); }

RuntimeStats Runtime::stats() const {
  const detail::RuntimeImpl& d = *impl_;
  const RefusalCounts& rc = d.core.refused;
  const StoreWriter& w = d.core.writer;
  RuntimeStats s;
  s.events_accepted = d.dispatcher ? d.dispatcher->events_dispatched() : 0;
  s.events_refused = rc.total();
  s.refused_calls = rc.by_kind(EventKind::kCallStart);
  s.refused_ends = rc.by_kind(EventKind::kCallEnd);
  s.refused_saves = rc.by_kind(EventKind::kSave);
  s.refused_shut_down = rc.by_reason(RefusedBecause::kShutDown);
  s.refused_max_outstanding = rc.by_reason(RefusedBecause::kMaxOutstanding);
  s.refused_max_memory = rc.by_reason(RefusedBecause::kMaxMemory);
  s.refused_invalid = rc.by_reason(RefusedBecause::kInvalid);
  s.obj_create = w.written(0);
  s.table_create = w.written(1);
  s.file_create = w.written(2);
  s.call_start = w.written(3);
  s.call_end = w.written(4);
  s.store_failures = w.failures();
  s.dead_lettered = w.dead_lettered();
  s.kept_by_store = w.kept_by_store();
  s.lost = w.lost();
  s.store_retries = w.retries();
  s.store_retrying = w.retrying();
  s.store_batches = w.batches();
  s.store_queue_depth = w.queue_depth();
  s.errors_reported = d.core.errors_reported();
  s.outstanding_work = d.core.tracker.outstanding();
  s.events_held = d.core.tracker.events_held();
  s.bytes_held = d.core.tracker.bytes_held();
  s.store_paused = w.paused();
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
std::string Runtime::dead_letter_path() const { return impl_->core.dead_letter.path(); }
const Config& Runtime::config() const { return impl_->core.config; }
std::string Runtime::entity() const { return impl_->core.entity; }
std::string Runtime::project_name() const { return impl_->core.project; }

}  // namespace weft
