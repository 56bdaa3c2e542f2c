// The Prometheus text exposition format (0.0.4) of a metrics snapshot.
#include <charconv>
#include <cmath>
#include <string>
#include <system_error>

#include <weft/metrics.h>

namespace weft {

namespace {

class Exposition {
 public:
  // Starts a metric family: HELP and TYPE lines, once.
  void family(const char* name, const char* type, const char* help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    out_ += help;
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }
  void sample(const std::string& name, const std::string& labels, double v) {
    out_ += name;
    if (!labels.empty()) out_ += "{" + labels + "}";
    out_ += ' ';
    out_ += number(v);
    out_ += '\n';
  }
  void histogram(const char* name, const std::string& labels, const LatencySummary& h) {
    uint64_t cumulative = 0;
    std::string prefix = labels.empty() ? "" : labels + ",";
    for (size_t i = 0; i < kLatencyBucketsNs.size(); ++i) {
      cumulative += h.buckets[i];
      sample(std::string(name) + "_bucket", prefix + "le=\"" + number(static_cast<double>(kLatencyBucketsNs[i]) / 1e9) + "\"",
             static_cast<double>(cumulative));
    }
    cumulative += h.buckets.back();
    sample(std::string(name) + "_bucket", prefix + "le=\"+Inf\"", static_cast<double>(cumulative));
    sample(std::string(name) + "_sum", labels, static_cast<double>(h.sum_ns) / 1e9);
    sample(std::string(name) + "_count", labels, static_cast<double>(cumulative));
  }
  // The shortest text that parses back to v ("1e-06", "0.0025", "1208"): exact, and the
  // le labels read as the bucket bounds they are.
  static std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";  // Prometheus spelling, not "inf"
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return ec == std::errc() ? std::string(buf, end) : std::string("NaN");
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

std::string kind_label(const KindMetrics& k) { return "kind=\"" + k.kind + "\""; }

}  // namespace

// The remote store's families (docs/METRICS.md#remote): only when the runtime has one.
static void render_remote(Exposition& e, const RemoteMetrics& r) {
  const std::pair<const char*, std::pair<const char*, uint64_t>> scalars[] = {
      {"weft_remote_in_flight", {"HTTP requests sent to the server and not yet answered.", r.in_flight}},
      {"weft_remote_handed_over", {"Store requests the remote store holds, not yet acknowledged.", r.handed_over}},
      {"weft_remote_bytes_sent_total", {"Request body bytes sent, retries included.", r.bytes_sent}},
      {"weft_remote_splits_total", {"Batches split in halves (413, or refused as a whole).", r.splits}},
      {"weft_remote_conflicts_total", {"expected_digest refused (409): resent without it.", r.conflicts_409}},
      {"weft_remote_auth_failures_total", {"401/403 answers (the API key was refused).", r.auth_failures}},
      {"weft_remote_rejected_total", {"Requests the server refused (dead-lettered).", r.rejected}},
      {"weft_remote_kept_total", {"Requests given up here and left in the outbox.", r.kept}},
      {"weft_remote_replayed_total", {"Requests an earlier process left in the outbox.", r.replayed}},
      {"weft_remote_replay_delivered_total", {"Of those, delivered.", r.replay_delivered}},
      {"weft_remote_call_batches_total", {"Call batches sent (upsert_batch or calls/complete).", r.call_batches}},
      {"weft_remote_calls_complete_mode", {"1 while calls go to /v2/.../calls/complete, else 0.",
                                           r.calls_route == "complete" ? 1u : 0u}},
      {"weft_remote_route_switches_total", {"Times the server made the store change its calls route.",
                                            r.route_switches}},
      {"weft_remote_outbox_depth", {"Requests in the outbox.", r.outbox_depth}},
      {"weft_remote_outbox_bytes", {"Bytes of the requests in the outbox.", r.outbox_bytes}},
      {"weft_remote_digest_round_trips_total", {"Values whose digest the server assigned (a round trip waited on).",
                                                r.digest_round_trips}},
  };
  for (const auto& [name, x] : scalars) {
    const bool counter = std::string_view(name).ends_with("_total");
    e.family(name, counter ? "counter" : "gauge", x.first);
    e.sample(name, "", static_cast<double>(x.second));
  }
  e.family("weft_remote_answers_total", "counter", "HTTP answers, by route and status class (error: none came).");
  for (const auto& a : r.answers)
    e.sample("weft_remote_answers_total", "route=\"" + a.route + "\",status=\"" + a.status + "\"",
             static_cast<double>(a.count));
  e.family("weft_remote_retries_total", "counter", "Requests sent again, by cause.");
  for (const auto& [cause, n] : r.retries)
    e.sample("weft_remote_retries_total", "cause=\"" + cause + "\"", static_cast<double>(n));
  e.family("weft_remote_request_seconds", "histogram", "Time from sending a request to its answer.");
  e.histogram("weft_remote_request_seconds", "", r.latency);
}

std::string render_prometheus(const MetricsSnapshot& s) {
  Exposition e;
  struct PerKind {
    const char* name;
    const char* type;
    const char* help;
    double (*get)(const KindMetrics&);
  };
  const PerKind per_kind[] = {
      {"weft_actors_spawned_total", "counter", "Actors (or threads) of this kind started.",
       [](const KindMetrics& k) { return static_cast<double>(k.spawned); }},
      {"weft_actors_alive", "gauge", "Actors of this kind alive now.",
       [](const KindMetrics& k) { return static_cast<double>(k.alive); }},
      {"weft_actors_finished_total", "counter", "Actors of this kind that finished.",
       [](const KindMetrics& k) { return static_cast<double>(k.finished); }},
      {"weft_mailbox_depth", "gauge", "Messages enqueued and not yet processed, over all instances of the kind.",
       [](const KindMetrics& k) { return static_cast<double>(k.mailbox_depth); }},
      {"weft_mailbox_high_water", "gauge", "The largest mailbox depth seen for the kind.",
       [](const KindMetrics& k) { return static_cast<double>(k.mailbox_high_water); }},
      {"weft_messages_processed_total", "counter", "Messages (events, store requests) processed by the kind.",
       [](const KindMetrics& k) { return static_cast<double>(k.processed); }},
      {"weft_queueing_delay_estimate_seconds", "gauge",
       "Estimated wait of a message arriving now: depth times mean handler time over the threads.",
       [](const KindMetrics& k) { return k.queueing_delay_estimate_ns / 1e9; }},
  };
  for (const auto& f : per_kind) {
    e.family(f.name, f.type, f.help);
    for (const auto& k : s.kinds) e.sample(f.name, kind_label(k), f.get(k));
  }
  e.family("weft_handler_seconds", "histogram",
           "Time to handle one message, sampled: 1 in 8 per thread and kind (store_writer: every batch; dispatcher: one event).");
  for (const auto& k : s.kinds) e.histogram("weft_handler_seconds", kind_label(k), k.handler);

  struct Scalar {
    const char* name;
    const char* type;
    const char* help;
    double value;
  };
  const Scalar scalars[] = {
      {"weft_handoff_queue_depth", "gauge", "Events handed off by application threads, not yet dispatched.",
       static_cast<double>(s.handoff_queue_depth)},
      {"weft_events_accepted_total", "counter", "Events accepted from application threads.",
       static_cast<double>(s.events_accepted)},
      {"weft_events_refused_total", "counter", "Events refused, all reasons (by reason: weft_events_refused_by_reason_total).",
       static_cast<double>(s.events_refused)},
      {"weft_events_held", "gauge", "Accepted events not yet written (bounded by max_outstanding).",
       static_cast<double>(s.events_held)},
      {"weft_events_held_limit", "gauge", "Config::max_outstanding.", static_cast<double>(s.max_events)},
      {"weft_memory_held_bytes", "gauge", "Bytes charged for accepted, unwritten events (bounded by max_memory_bytes).",
       static_cast<double>(s.bytes_held)},
      {"weft_memory_limit_bytes", "gauge", "Config::max_memory_bytes (0: no limit).", static_cast<double>(s.max_bytes)},
      {"weft_pending_dependencies", "gauge", "Child digests that parents are waiting for.",
       static_cast<double>(s.pending_dependencies)},
      {"weft_parents_waiting", "gauge", "Actors waiting for at least one child digest.",
       static_cast<double>(s.parents_waiting)},
      // Per-instance detail (ids, labels) is served as JSON at /metrics/instances, not
      // here: one series per actor id would churn Prometheus's index. These two maxima
      // keep the signal at a fixed cardinality.
      {"weft_oldest_wait_seconds", "gauge",
       "How long the longest-waiting live actor has waited for children or its call's end (0: none waits).",
       s.oldest.empty() ? 0.0 : s.oldest.front().waiting_seconds},
      {"weft_deepest_mailbox_depth", "gauge", "The deepest mailbox of any one live actor.",
       s.deepest.empty() ? 0.0 : static_cast<double>(s.deepest.front().mailbox_depth)},
      {"weft_open_calls", "gauge", "Calls started and not yet finished.", static_cast<double>(s.open_calls)},
      {"weft_outstanding_work", "gauge", "Units of work flush() would wait for.",
       static_cast<double>(s.outstanding_work)},
      {"weft_errors_reported_total", "counter", "Errors reported (store failures, refusals, lost dependencies).",
       static_cast<double>(s.errors_reported)},
      {"weft_scheduler_threads", "gauge", "Actor scheduler threads.", static_cast<double>(s.scheduler_threads)},
      {"weft_store_queue_depth", "gauge", "Store requests waiting for the store writer.",
       static_cast<double>(s.store.queue_depth)},
      {"weft_store_batches_total", "counter", "Store batches (transactions) written.",
       static_cast<double>(s.store.batches)},
      {"weft_store_errors_total", "counter", "Store requests given up (dead-lettered or lost).",
       static_cast<double>(s.store.errors)},
      {"weft_store_dead_lettered_total", "counter", "Store requests kept in the dead-letter file.",
       static_cast<double>(s.store.dead_lettered)},
      {"weft_store_lost_total", "counter", "Store requests neither written nor kept in the dead-letter file.",
       static_cast<double>(s.store.lost)},
      {"weft_store_retries_total", "counter", "Batch attempts that failed transiently and were retried.",
       static_cast<double>(s.store.retries)},
      {"weft_store_retrying", "gauge", "1 while a batch waits for its next attempt.", s.store.retrying ? 1.0 : 0.0},
      {"weft_store_paused", "gauge", "1 while store writes are paused.", s.store.paused ? 1.0 : 0.0},
  };
  for (const auto& x : scalars) {
    e.family(x.name, x.type, x.help);
    e.sample(x.name, "", x.value);
  }
  e.family("weft_store_requests_written_total", "counter", "Store requests written, by request kind.");
  const std::pair<const char*, uint64_t> written[] = {{"obj_create", s.store.obj_create},
                                                      {"table_create", s.store.table_create},
                                                      {"file_create", s.store.file_create},
                                                      {"call_start", s.store.call_start},
                                                      {"call_end", s.store.call_end}};
  for (const auto& [kind, n] : written)
    e.sample("weft_store_requests_written_total", std::string("request=\"") + kind + "\"", static_cast<double>(n));
  if (s.remote.enabled) render_remote(e, s.remote);
  e.family("weft_events_refused_by_reason_total", "counter", "Events refused, by reason.");
  for (const auto& [why, n] : s.refused_by_reason)
    e.sample("weft_events_refused_by_reason_total", "reason=\"" + why + "\"", static_cast<double>(n));
  e.family("weft_events_refused_by_kind_total", "counter", "Events refused, by event kind.");
  for (const auto& [kind, n] : s.refused_by_kind)
    e.sample("weft_events_refused_by_kind_total", "kind=\"" + kind + "\"", static_cast<double>(n));
  return e.take();
}

}  // namespace weft
