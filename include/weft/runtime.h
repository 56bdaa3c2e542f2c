// weft::Runtime: the tracing runtime an application embeds.
//
// Application threads start and finish calls and save values. Each such call costs the
// calling thread O(1): an id, a timestamp, one atomic increment, and a move of the
// (immutable) value into a lock-free queue. Everything else (walking values, canonical
// JSON, hashing, waiting for child digests, writing the store) happens on the runtime's
// actors and threads, and none of those ever blocks on another's result.
//
//   weft::Config cfg;
//   cfg.project = "acme/evals";
//   weft::Runtime rt(cfg);
//   weft::Value predict = weft::make_op("predict", "def predict(x): ...");
//   {
//     weft::CallScope call(rt, predict, inputs);      // start; nested calls see it as parent
//     call.finish(output);                            // or an exception unwinding fails it
//   }
//   weft::SavedRef model = rt.save(model_value, "my-model");
//   rt.flush(std::chrono::seconds(10));                // wait until it is all in the store
//
// No CAF type appears here: application code never sees an actor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <weft/call.h>
#include <weft/config.h>
#include <weft/metrics.h>
#include <weft/saved_ref.h>
#include <weft/status.h>
#include <weft/value.h>

namespace weft {

namespace detail {
struct RuntimeImpl;
}  // namespace detail

// How a flush (or shutdown) ended. Converts to bool: complete.
struct FlushResult {
  // Everything accepted before the call is durably in the store, and nothing of it failed.
  bool complete = false;
  uint64_t written = 0;  // store requests of that work written (since the last flush drained)
  // Store requests of that work given up (refused as invalid, still failing after
  // store_retry_timeout, or unwritten at shutdown: in the dead-letter file unless it could
  // not be written either), and values that could not be saved.
  uint64_t failed = 0;
  // Units of that work still open at the deadline: events not yet turned into store
  // requests, requests queued, being written or being retried.
  int64_t pending = 0;

  operator bool() const { return complete; }  // NOLINT: implicit, so `if (rt.flush(t))` reads
};

// Counters, readable from any thread at any time (relaxed atomics underneath).
struct RuntimeStats {
  uint64_t events_accepted = 0;
  uint64_t events_refused = 0;   // all refusals; by kind and by reason below
  uint64_t refused_calls = 0;    // start_call refused
  uint64_t refused_ends = 0;     // finish / fail after shutdown
  uint64_t refused_saves = 0;    // save refused
  uint64_t refused_shut_down = 0;
  uint64_t refused_max_outstanding = 0;
  uint64_t refused_max_memory = 0;
  uint64_t refused_invalid = 0;  // not an op, inputs not a dict, a parent of another runtime
  uint64_t obj_create = 0;       // requests written to the store, by kind
  uint64_t table_create = 0;
  uint64_t file_create = 0;
  uint64_t call_start = 0;
  uint64_t call_end = 0;
  uint64_t store_failures = 0;   // requests given up (dead-lettered, kept by the store, or lost)
  uint64_t dead_lettered = 0;    // of those, kept in the dead-letter file
  uint64_t kept_by_store = 0;    // of those, still in the remote store's outbox (replayable)
  uint64_t lost = 0;             // of those, kept nowhere
  uint64_t store_retries = 0;    // batch attempts that failed transiently and were retried
  bool store_retrying = false;   // a batch is waiting for its next attempt
  uint64_t store_batches = 0;
  uint64_t store_queue_depth = 0;  // requests waiting for the store writer
  uint64_t errors_reported = 0;
  int64_t outstanding_work = 0;  // units of work not yet done (flush waits for these)
  uint64_t events_held = 0;      // accepted events not yet written (max_outstanding bounds it)
  uint64_t bytes_held = 0;       // their charged bytes (max_memory_bytes bounds it)
  bool store_paused = false;
};

class Runtime {
 public:
  // Starts the runtime: opens the store, the actor system, the dispatcher and store
  // writer threads. Throws weft::StatusError (a std::runtime_error carrying the Status: a
  // code and a clear message) if it cannot: a bad project, an unwritable store, a taken
  // metrics port. Use open() for an error value instead.
  explicit Runtime(Config config = {});
  static Result<std::unique_ptr<Runtime>> open(Config config);
  // Flushes for config.destructor_flush_timeout, reports what could not be written, stops.
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // ---- application API: O(1) on the calling thread, lock-free, never blocks ----

  // Starts a call of `op` (an Op value: make it once, reuse it) with `inputs` (a dict;
  // nested Objects, Tables, Ops and Blobs are saved and appear as refs). Refused (the
  // returned call's recorded() is false, and an error is reported) past max_outstanding
  // or after shutdown.
  Call start_call(const Value& op, Value inputs, CallOptions options = {});
  // Saves a value under a name: Objects, Tables, Ops, plain JSON values. A Table is
  // referred to by digest and ignores the name; an Object with an empty name argument uses
  // its own name, else its class name.
  SavedRef save(Value value, std::string name = {});

  // ---- control (application threads) ----

  // Waits until every event accepted before this call (and all work derived from it) is
  // written or given up, or the deadline. complete only if all of it is in the store.
  FlushResult flush(std::chrono::milliseconds timeout);
  // Stops accepting events (from then on every call is refused and counted), flushes until
  // the deadline, stops the actors and threads; what the store did not take by then goes
  // to the dead-letter file. Safe from any thread, any number of times, while others trace.
  FlushResult shutdown(std::chrono::milliseconds timeout);
  // Holds store writes (they queue up) until resume(): Weave's paused-server test fixture.
  void pause_store();
  void resume_store();

  RuntimeStats stats() const;
  // A metrics snapshot (docs/METRICS.md), from any thread, without stopping or blocking
  // any actor. top_n: how many of the deepest / longest-waiting actors to list.
  MetricsSnapshot metrics(size_t top_n = 10) const;
  // The same in the Prometheus text exposition format.
  std::string metrics_text() const;
  // The port GET /metrics is served on (0 if metrics_listen is empty).
  int metrics_port() const;
  // The most recent errors reported (at most 100), oldest first.
  std::vector<std::string> recent_errors() const;
  // Where store requests that could not be written are kept (Config::dead_letter_path, or
  // its default); the file exists only once something failed. `weft replay` writes it.
  std::string dead_letter_path() const;
  const Config& config() const;
  // Unique per runtime in this process, never reused (which runtime saved a value instance).
  uint64_t instance_id() const;
  std::string entity() const;
  std::string project_name() const;


 private:
  friend class Call;  // a call ends through its runtime's hand-off queue
  std::unique_ptr<detail::RuntimeImpl> impl_;
};

}  // namespace weft
