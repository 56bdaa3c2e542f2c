#include "runtime/core/metrics_snapshot.h"

#include <algorithm>

#include "runtime/core/runtime_core.h"
#include "runtime/stores/remote/remote_store.h"

namespace weft {

namespace {

uint64_t load(const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); }

KindMetrics kind_metrics(const char* name, const KindStats& k, uint64_t threads) {
  KindMetrics m;
  m.kind = name;
  m.spawned = load(k.spawned);
  m.finished = load(k.finished);
  m.alive = m.spawned > m.finished ? m.spawned - m.finished : 0;
  // processed first: a sender may enqueue between the two loads, never un-enqueue.
  m.processed = load(k.processed);
  uint64_t enqueued = load(k.enqueued);
  m.mailbox_depth = enqueued > m.processed ? enqueued - m.processed : 0;
  m.mailbox_high_water = load(k.high_water);
  m.handler = k.handler.summary();
  m.queueing_delay_estimate_ns =
      static_cast<double>(m.mailbox_depth) * m.handler.mean_ns / static_cast<double>(std::max<uint64_t>(1, threads));
  return m;
}

void fill_remote(RemoteMetrics& m, const RemoteCounters& c, const StoreWriter& w) {
  m.enabled = true;
  std::string d = w.store().describe();
  m.url = d.rfind("remote:", 0) == 0 ? d.substr(7) : d;
  m.in_flight = load(c.in_flight);
  m.handed_over = w.in_flight();
  m.bytes_sent = load(c.bytes_sent);
  for (size_t r = 0; r < kRemoteRoutes; ++r)
    for (size_t a = 0; a < kAnswerClasses; ++a)
      if (uint64_t n = load(c.answers[r][a]))
        m.answers.push_back({remote_route_path(static_cast<RemoteRoute>(r)),
                             answer_class_name(static_cast<AnswerClass>(a)), n});
  for (size_t r = 0; r < kRetryCauses; ++r)
    m.retries.emplace_back(retry_cause_name(static_cast<RetryCause>(r)), load(c.retries[r]));
  m.splits = load(c.splits_413);
  m.conflicts_409 = load(c.conflicts_409);
  m.auth_failures = load(c.auth_failures);
  m.rejected = load(c.rejected);
  m.kept = load(c.kept);
  m.replayed = load(c.replayed);
  m.replay_delivered = load(c.replay_delivered);
  m.call_batches = load(c.call_batches);
  m.calls_route = c.complete_mode.load(std::memory_order_relaxed) ? "complete" : "upsert_batch";
  m.route_switches = load(c.route_switches);
  m.outbox_depth = load(c.outbox_depth);
  m.outbox_bytes = load(c.outbox_bytes);
  m.digest_round_trips = w.store_digests();
  m.latency = c.latency.summary();
}

}  // namespace

MetricsSnapshot take_snapshot(const RuntimeCore& core, const HostFigures& host, size_t top_n) {
  const Metrics& mt = core.metrics;
  MetricsSnapshot s;
  s.scheduler_threads = host.scheduler_threads;
  for (size_t i = 0; i < mt.kinds.size(); ++i)
    s.kinds.push_back(kind_metrics(actor_kind_name(static_cast<ActorKind>(i)), mt.kinds[i], host.scheduler_threads));

  // The two threads, shown as kinds too: their "mailbox" is their queue.
  KindMetrics d;
  d.kind = "dispatcher";
  d.spawned = d.alive = 1;
  d.processed = host.dispatched;
  d.mailbox_depth = host.handoff_queue_depth;
  d.handler = mt.dispatch.summary();
  d.queueing_delay_estimate_ns = static_cast<double>(d.mailbox_depth) * d.handler.mean_ns;
  s.kinds.push_back(d);

  const StoreWriter& w = core.writer;
  s.store.queue_depth = w.queue_depth();
  s.store.batches = w.batches();
  s.store.obj_create = w.written(0);
  s.store.table_create = w.written(1);
  s.store.file_create = w.written(2);
  s.store.call_start = w.written(3);
  s.store.call_end = w.written(4);
  s.store.rows_written = s.store.obj_create + s.store.table_create + s.store.file_create +
                         s.store.call_start + s.store.call_end;
  s.store.errors = w.failures();
  s.store.dead_lettered = w.dead_lettered();
  s.store.lost = w.lost();
  s.store.retries = w.retries();
  s.store.retrying = w.retrying();
  s.store.paused = w.paused();
  s.store.write_latency = mt.store_write.summary();
  KindMetrics sw;
  sw.kind = "store_writer";
  sw.spawned = sw.alive = 1;
  sw.processed = s.store.rows_written + s.store.errors;
  sw.mailbox_depth = s.store.queue_depth;
  sw.handler = s.store.write_latency;  // per batch
  double per_request = s.store.write_latency.count == 0 || sw.processed == 0
                           ? 0.0
                           : static_cast<double>(s.store.write_latency.sum_ns) / static_cast<double>(sw.processed);
  sw.queueing_delay_estimate_ns = static_cast<double>(sw.mailbox_depth) * per_request;
  s.kinds.push_back(sw);

  if (const RemoteCounters* rc = remote_counters(w.store())) fill_remote(s.remote, *rc, w);

  s.handoff_queue_depth = host.handoff_queue_depth;
  s.events_accepted = host.dispatched + host.handoff_queue_depth;
  s.events_refused = core.refused.total();
  for (size_t r = 0; r < kRefusalReasons; ++r) {
    auto why = static_cast<RefusedBecause>(r);
    s.refused_by_reason.emplace_back(refused_because_name(why), core.refused.by_reason(why));
  }
  for (size_t k = 0; k < kEventKinds; ++k) {
    auto kind = static_cast<EventKind>(k);
    s.refused_by_kind.emplace_back(event_kind_name(kind), core.refused.by_kind(kind));
  }
  s.events_held = core.tracker.events_held();
  s.max_events = core.tracker.max_events();
  s.bytes_held = core.tracker.bytes_held();
  s.max_bytes = core.config.max_memory_bytes;
  s.pending_dependencies = static_cast<uint64_t>(std::max<int64_t>(0, mt.pending_dependencies.load(std::memory_order_relaxed)));
  s.parents_waiting = static_cast<uint64_t>(std::max<int64_t>(0, mt.parents_waiting.load(std::memory_order_relaxed)));
  s.open_calls = host.open_calls;
  s.outstanding_work = core.tracker.outstanding();
  s.errors_reported = core.errors_reported();

  if (top_n > 0) {
    std::vector<InstanceMetrics> all;
    mt.instances.scan([&](const InstanceMetrics& m, const InstanceSlot&) { all.push_back(m); });
    auto take = [&](auto better, auto keep) {
      std::vector<InstanceMetrics> v;
      for (const auto& m : all)
        if (keep(m)) v.push_back(m);
      size_t n = std::min(top_n, v.size());
      std::partial_sort(v.begin(), v.begin() + static_cast<ptrdiff_t>(n), v.end(), better);
      v.resize(n);
      return v;
    };
    s.deepest = take([](const auto& a, const auto& b) { return a.mailbox_depth > b.mailbox_depth; },
                     [](const auto& m) { return m.mailbox_depth > 0; });
    s.oldest = take([](const auto& a, const auto& b) { return a.waiting_seconds > b.waiting_seconds; },
                    [](const auto& m) { return m.waiting_seconds > 0; });
  }
  return s;
}

}  // namespace weft
