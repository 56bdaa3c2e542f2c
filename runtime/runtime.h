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
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/ids.h"
#include "runtime/metrics.h"
#include "runtime/status.h"
#include "runtime/value.h"

namespace weft {

class Store;
class Runtime;

struct Config {
  // "entity/project": both parts non-empty, no further '/'.
  std::string project = "weft/default";
  // The embedded SQLite store's file. Ignored when `store` is set.
  std::string store_path = "weft.db";
  // A store of the application's (tests, benchmarks: a null store). Takes precedence.
  std::shared_ptr<Store> store;
  // Actor scheduler threads (CAF "sharing" policy). 0 = min(2, hardware threads).
  unsigned scheduler_threads = 0;
  // Events and derived units of work outstanding at once before new events are refused.
  int64_t max_outstanding = 4'000'000;
  // Store requests per SQLite transaction, at most.
  size_t store_batch_size = 2048;
  // A parent whose children have not all reported by then gives up with an error.
  std::chrono::milliseconds dependency_timeout{60'000};
  // How long the destructor flushes before it gives up and reports what was not written.
  std::chrono::milliseconds destructor_flush_timeout{10'000};
  // Serve GET /metrics (Prometheus text) on "host:port", e.g. "127.0.0.1:9464". Off when
  // empty. A bad address or a taken port makes the constructor fail with a clear error.
  std::string metrics_listen;
  // Errors (store failures, refused events, lost dependencies) are reported here, from
  // runtime threads; must be quick and thread-safe. Default: one line on stderr.
  std::function<void(const std::string&)> on_error;
};

// A value being saved. Its digest and ref arrive later; nothing here blocks except wait(),
// which exists for application code only (never call it from a weft callback).
class SavedRef {
 public:
  SavedRef() = default;
  // True once the digest is known (or the save failed: see error()).
  bool ready() const;
  bool ok() const;                // ready() and no error
  std::string uri() const;        // "" until ready
  std::string digest() const;     // "" until ready
  std::string error() const;      // "" unless failed
  // Runs fn once the result is known: at once on this thread if it already is, else on a
  // runtime thread (keep it short and non-blocking).
  void on_ready(std::function<void(const SavedRef&)> fn) const;
  // Application code only: polls until ready or the deadline. Returns ready().
  bool wait(std::chrono::milliseconds timeout) const;

  // Internal: the runtime builds SavedRefs from its state.
  struct State;
  static SavedRef from_state(std::shared_ptr<State> state) {
    SavedRef r;
    r.state_ = std::move(state);
    return r;
  }

 private:
  std::shared_ptr<State> state_;
};

// A started call. Move-only; finishing it twice is an error.
class Call {
 public:
  Call() = default;
  Call(Call&& o) noexcept;
  Call& operator=(Call&& o) noexcept;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Records the output and ends the call. Returns an error for a call that was refused
  // at start, or already finished.
  Status finish(Value output);
  // Ends the call with an exception: Weave's {"type", "message", "traceback"}.
  Status fail(std::string type, std::string message, Value output = Value());

  bool recorded() const { return rt_ != nullptr; }  // false if refused at start
  bool finished() const { return finished_; }
  const Uuid& id() const { return id_; }
  const Uuid& trace_id() const { return trace_id_; }

 private:
  friend class Runtime;
  friend class CallScope;
  Runtime* rt_ = nullptr;
  Uuid id_;
  Uuid trace_id_;
  bool finished_ = false;
};

struct CallOptions {
  std::string display_name;
  Value attributes;                // a dict, or null
  const Call* parent = nullptr;    // explicit parent (any thread); default: the current call
  bool root = false;               // ignore the current call: start a new trace

  // Shorthands (designated initializers that skip fields trip -Wextra in GCC 12).
  static CallOptions child_of(const Call& p) {
    CallOptions o;
    o.parent = &p;
    return o;
  }
  static CallOptions new_trace(std::string display_name = {}) {
    CallOptions o;
    o.root = true;
    o.display_name = std::move(display_name);
    return o;
  }
};

// RAII: starts a call and makes it the current call of this thread (nested calls started
// here become its children). If the scope is left without finish()/fail(), the call ends
// as failed: with the in-flight exception if one is unwinding ("type": "Exception", the
// message naming the op), else as "not finished". Use run_traced() to record the
// exception's own type and message.
class CallScope {
 public:
  CallScope(Runtime& rt, const Value& op, Value inputs, CallOptions options = {});
  ~CallScope();
  CallScope(const CallScope&) = delete;
  CallScope& operator=(const CallScope&) = delete;

  Status finish(Value output) { return call_.finish(std::move(output)); }
  Status fail(std::string type, std::string message) {
    return call_.fail(std::move(type), std::move(message));
  }
  Call& call() { return call_; }

 private:
  Call call_;
  int uncaught_at_start_;
  bool pushed_ = false;
};

// Counters, readable from any thread at any time (relaxed atomics underneath).
struct RuntimeStats {
  uint64_t events_accepted = 0;
  uint64_t events_refused = 0;
  uint64_t obj_create = 0;       // requests written to the store, by kind
  uint64_t table_create = 0;
  uint64_t file_create = 0;
  uint64_t call_start = 0;
  uint64_t call_end = 0;
  uint64_t store_failures = 0;   // requests the store rejected (each reported once)
  uint64_t store_batches = 0;
  uint64_t store_queue_depth = 0;  // requests waiting for the store writer
  uint64_t errors_reported = 0;
  int64_t outstanding_work = 0;  // units of work not yet done (flush waits for these)
  bool store_paused = false;
};

class Runtime {
 public:
  // Starts the runtime: opens the store, the actor system, the dispatcher and store
  // writer threads. Throws std::runtime_error with a clear message if it cannot (bad
  // project, unwritable store). Use open() for an error value instead.
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

  // True once every event accepted before this call (and all work derived from it) is in
  // the store; false at the deadline.
  bool flush(std::chrono::milliseconds timeout);
  // Flushes until the deadline, stops accepting events, stops the actors and threads.
  // Returns false and reports what was not written if the deadline passed first.
  bool shutdown(std::chrono::milliseconds timeout);
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
  const Config& config() const;
  // Unique per runtime in this process, never reused (which runtime saved a value instance).
  uint64_t instance_id() const;
  std::string entity() const;
  std::string project_name() const;

  struct Impl;

 private:
  friend class Call;
  friend class MetricsServer;
  friend class CallScope;
  std::unique_ptr<Impl> impl_;
};

// Runs fn inside a CallScope and records an exception escaping it with its own type name
// and what(), then rethrows. fn returns the call's output Value.
template <class Fn>
Value run_traced(Runtime& rt, const Value& op, Value inputs, Fn&& fn, CallOptions options = {});

// The current call of this thread (innermost CallScope), or nullptr.
const Call* current_call();

}  // namespace weft

#include "runtime/run_traced_inl.h"
