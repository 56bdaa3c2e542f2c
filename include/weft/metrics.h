// Metrics: a snapshot of what the running runtime is doing, readable from any thread.
//
// Taking a snapshot reads relaxed atomics and seqlock-guarded slots; it never takes a lock
// an actor, the dispatcher or the store writer needs, and never stops any of them. Values
// read at slightly different instants, so sums may disagree by a message or two while work
// is in flight; at rest they are exact.
//
// Per actor kind ("object", "table", "call", and the two threads "dispatcher" and
// "store_writer"): spawned / alive / finished, mailbox depth now and its high-water mark,
// messages processed, handler time. Docs: docs/METRICS.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace weft {

// Handler-time histogram bucket bounds (nanoseconds, inclusive upper bounds), Prometheus
// style: cumulative counts are exported with le = bound / 1e9 seconds.
inline constexpr std::array<uint64_t, 16> kLatencyBucketsNs = {
    1'000,      2'500,      5'000,       10'000,      25'000,      50'000,      100'000,    250'000,
    500'000,    1'000'000,  2'500'000,   5'000'000,   10'000'000,  100'000'000, 1'000'000'000, 10'000'000'000};

struct LatencySummary {
  uint64_t count = 0;
  uint64_t sum_ns = 0;
  uint64_t max_ns = 0;
  double mean_ns = 0;
  double p50_ns = 0;  // estimated from the histogram (linear within a bucket)
  double p99_ns = 0;
  // Per-bucket (not cumulative) counts for kLatencyBucketsNs, plus one overflow bucket.
  std::array<uint64_t, kLatencyBucketsNs.size() + 1> buckets{};
};

struct KindMetrics {
  std::string kind;
  uint64_t spawned = 0;
  uint64_t alive = 0;
  uint64_t finished = 0;
  uint64_t mailbox_depth = 0;       // messages enqueued, not yet processed (all instances)
  uint64_t mailbox_high_water = 0;  // the largest depth seen
  uint64_t processed = 0;
  // Sampled: 1 message in 8 per thread and kind is timed (count is the number timed); for
  // store_writer, every batch.
  LatencySummary handler;
  // Little's-law style estimate of how long a message arriving now waits: the depth ahead
  // of it times the mean handler time, spread over the scheduler threads.
  double queueing_delay_estimate_ns = 0;
};

struct InstanceMetrics {
  uint64_t id = 0;       // the actor's id
  std::string kind;
  std::string label;     // "Object 'ChatCompletion'", "call predict 01a2...", ...
  uint64_t mailbox_depth = 0;
  double waiting_seconds = 0;  // 0 when not waiting
  std::string waiting_for;     // "3 children", "2 child summaries", "the call's end", ""
};

struct StoreMetrics {
  uint64_t queue_depth = 0;
  uint64_t batches = 0;
  uint64_t rows_written = 0;  // requests written, all kinds
  uint64_t obj_create = 0, table_create = 0, file_create = 0, call_start = 0, call_end = 0;
  uint64_t errors = 0;          // requests given up (dead-lettered or lost)
  uint64_t dead_lettered = 0;   // of those, kept in the dead-letter file
  uint64_t lost = 0;            // of those, not even the dead-letter file took
  uint64_t retries = 0;         // batch attempts that failed transiently
  bool retrying = false;        // a batch waits for its next attempt
  bool paused = false;
  LatencySummary write_latency;  // one sample per batch
};

// The remote store (include/weft/remote.h), when the runtime traces to a server.
struct RemoteMetrics {
  bool enabled = false;
  std::string url;
  uint64_t in_flight = 0;      // HTTP requests sent and not yet answered
  uint64_t handed_over = 0;    // store requests the remote store holds, not yet acknowledged
  uint64_t bytes_sent = 0;     // request bodies, retries included
  struct Answers {
    std::string route;   // "/obj/create", "/table/create", "/table/create_from_digests",
                         // "/files/create", "/call/upsert_batch",
                         // "/v2/{entity}/{project}/calls/complete", ".../call/start", ".../call/end"
    std::string status;  // "2xx", "4xx", "5xx", "error" (no answer: refused, dropped, timed out)
    uint64_t count = 0;
  };
  std::vector<Answers> answers;  // only the non-zero ones
  // Requests sent again, by cause: "429", "5xx", "timeout", "connection".
  std::vector<std::pair<std::string, uint64_t>> retries;
  uint64_t splits = 0;           // batches split in halves (413, or refused as a whole)
  uint64_t conflicts_409 = 0;    // expected_digest refused: resent, the server's digest used
  uint64_t auth_failures = 0;    // 401/403 answers
  uint64_t rejected = 0;         // requests the server refused (dead-lettered)
  uint64_t kept = 0;             // requests given up here and left in the outbox
  uint64_t replayed = 0;         // requests an earlier process left in the outbox
  uint64_t replay_delivered = 0;
  uint64_t call_batches = 0;     // /call/upsert_batch and /v2/.../calls/complete requests
  std::string calls_route;       // "upsert_batch" or "complete" (RemoteOptions::calls_route)
  uint64_t route_switches = 0;   // times the server made the store change calls_route
  uint64_t outbox_depth = 0;
  uint64_t outbox_bytes = 0;
  uint64_t digest_round_trips = 0;  // values whose digest the server assigned (waited on)
  LatencySummary latency;           // per answered request
};

struct MetricsSnapshot {
  std::vector<KindMetrics> kinds;
  uint64_t handoff_queue_depth = 0;  // events queued for the dispatcher
  uint64_t events_accepted = 0;      // dispatched + queued
  uint64_t events_refused = 0;
  // Refusals by reason: shut_down, max_outstanding, max_memory, invalid, no_memory; and by
  // kind: call_start, call_end, save.
  std::vector<std::pair<std::string, uint64_t>> refused_by_reason;
  std::vector<std::pair<std::string, uint64_t>> refused_by_kind;
  uint64_t events_held = 0;       // accepted events not yet written
  uint64_t max_events = 0;        // Config::max_outstanding
  uint64_t bytes_held = 0;        // their charged bytes
  uint64_t max_bytes = 0;         // Config::max_memory_bytes (0: no limit)
  uint64_t pending_dependencies = 0;  // child digests awaited, over all parents
  uint64_t parents_waiting = 0;       // actors waiting for at least one child
  uint64_t open_calls = 0;            // started, not finished
  int64_t outstanding_work = 0;       // units flush() waits for
  uint64_t errors_reported = 0;
  uint64_t scheduler_threads = 0;
  StoreMetrics store;
  RemoteMetrics remote;
  std::vector<InstanceMetrics> deepest;  // live actors with the deepest mailboxes
  std::vector<InstanceMetrics> oldest;   // live actors waiting the longest

  const KindMetrics* kind(const std::string& name) const {
    for (const auto& k : kinds)
      if (k.kind == name) return &k;
    return nullptr;
  }
};

// The Prometheus text exposition format (version 0.0.4) of a snapshot: weft_ names, HELP
// and TYPE lines, a "kind" label, handler times as histograms.
std::string render_prometheus(const MetricsSnapshot& s);

}  // namespace weft
