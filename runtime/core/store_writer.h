// StoreWriter: the thread that owns the Store. Fed by a lock-free queue; writes in batches,
// one transaction each; never on the actor scheduler (SQLite blocks on disk).
//
// Delivery: a batch that fails transiently (the store says unavailable, resource exhausted
// or deadline exceeded: a locked database, a full disk, an I/O error) is kept whole and
// retried with exponential back-off and jitter until store_retry_timeout (then it, and
// everything queued behind it, is given up: the store has been failing that long); meanwhile
// the queue keeps draining into the backlog, so nobody upstream waits. A request that
// cannot be written (refused as invalid, still failing after its retries, or unwritten
// when the writer is stopped) goes to the dead-letter sink with its reason, and is counted
// as failed against its flush epoch. Every request ends as exactly one of written or failed.
//
// With an AsyncStore (the remote store) a batch is handed over rather than written: what the
// store accepts waits in in_flight_ under a ticket until the store reports its end (polled
// on this thread), and only then is it written or failed; the store retries on its own.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <unordered_map>

#include <weft/store.h>

#include "runtime/core/idle_backoff.h"
#include "runtime/core/save_cell.h"
#include "runtime/stores/async_store.h"
#include "runtime/core/work_tracker.h"
#include "runtime/metrics/metrics_registry.h"

namespace weft {

struct StoreItem {
  StoreRequest request;
  WorkToken token;         // released once the request is written (or has failed)
  detail::CellRef cell;    // the cell whose write this is: marked committed afterwards
  // Non-empty: the store assigns this value's digest (an AsyncStore whose server rewrites
  // refs before hashing), and the writer resolves `cell` with ref URI resolve_prefix +
  // digest when the answer arrives (or fails it). Empty: the actor resolved the cell.
  std::string resolve_prefix = {};
  bool wake_only = false;  // no request: wakes the writer (resume, stop)
};

// True for failures that may clear up by themselves (retry); false for the request's own.
bool is_transient(StatusCode code);

struct StoreWriterOptions {
  size_t batch_size = 2048;
  std::chrono::milliseconds retry_timeout{60'000};
  std::chrono::milliseconds first_backoff{10};
  std::chrono::milliseconds max_backoff{2'000};
};

class StoreWriter {
 public:
  // report(cause, message): an error to aggregate (runtime/core/error_reporter.h).
  using ErrorSink = std::function<void(const std::string& cause, std::string message)>;
  // Keeps a request that could not be written; returns whether it was kept.
  using DeadLetterSink =
      std::function<Status(const StoreRequest& request, const Status& reason, uint32_t attempts)>;
  static constexpr size_t kKinds = 5;  // StoreRequest alternatives

  // latency (optional) receives one sample per batch written.
  StoreWriter(std::shared_ptr<Store> store, StoreWriterOptions options, WorkTracker& tracker,
              ErrorSink report, LatencyHistogram* latency = nullptr);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Before start(): where failed requests go (none: they are counted and reported as lost).
  void set_dead_letter(DeadLetterSink sink) { dead_letter_ = std::move(sink); }
  void start();
  // Any thread; lock-free.
  void submit(StoreItem&& item);
  void pause();
  // Gets the writer polling again at once, also out of an idle park (runtime/core/
  // idle_backoff.h): resume, stop and flush call it, never a hot path.
  void wake();
  // Ends the writer's idle sleep, if it sleeps (else its next sleep returns at once): the
  // dispatcher's poke when a quiet spell ends. A syscall only while the writer sleeps.
  void poke() { waker_.wake(); }
  void resume();
  bool paused() const { return paused_.load(std::memory_order_acquire); }

  // Writes what is queued (retrying as usual), then stops the thread; at the deadline it
  // stops anyway and dead-letters what is left. Returns a description of what was not
  // written ("" if everything was).
  std::string stop(std::chrono::steady_clock::time_point deadline);
  // After stop() and once nothing can submit any more (the actors are gone): dead-letters
  // what was submitted after the writer stopped. Returns what it kept ("" if nothing).
  std::string keep_late_submissions();

  uint64_t written(size_t kind) const { return written_[kind].load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  uint64_t failures(size_t kind) const { return failed_[kind].load(std::memory_order_relaxed); }
  uint64_t dead_lettered() const { return dead_lettered_.load(std::memory_order_relaxed); }
  uint64_t lost() const { return lost_.load(std::memory_order_relaxed); }
  uint64_t retries() const { return retries_.load(std::memory_order_relaxed); }
  bool retrying() const { return retrying_.load(std::memory_order_relaxed); }
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  uint64_t queue_depth() const;
  const Store& store() const { return *store_; }
  // Handed to an asynchronous store and not yet acknowledged.
  uint64_t in_flight() const { return in_flight_count_.load(std::memory_order_relaxed); }
  // Values whose digest the store assigned (a round trip waited on).
  uint64_t store_digests() const { return store_digests_.load(std::memory_order_relaxed); }
  // Failed here but still held by the store for a later delivery (the remote outbox).
  uint64_t kept_by_store() const { return kept_by_store_.load(std::memory_order_relaxed); }

 private:
  void run();
  std::chrono::microseconds sleep_limit() const;  // the longest the next idle sleep may be
  bool drain_queue(size_t max);  // queue -> backlog; false if nothing came
  void write_batch();            // one batch (new, or the one being retried)
  void give_up(size_t i, const Status& reason, uint32_t attempts);
  void give_up(StoreItem& item, const StoreRequest& req, const Status& reason, uint32_t attempts,
               bool kept_by_store);
  void mark_written(StoreItem& item, size_t kind);
  void hand_over();             // write_batch()'s store call, for an AsyncStore
  bool collect_async();         // the AsyncStore's ends; false if none came
  void complete(AsyncResult& r);
  void finish_batch();
  void give_up_all(const Status& reason);
  std::string keep_leftovers();  // writer thread, or any one thread once it has stopped

  std::shared_ptr<Store> store_;
  AsyncStore* async_ = nullptr;  // store_, when it is asynchronous
  const StoreWriterOptions options_;
  WorkTracker& tracker_;
  ErrorSink report_;
  DeadLetterSink dead_letter_;
  LatencyHistogram* latency_;
  struct Queue;
  std::unique_ptr<Queue> queue_;
  // Writer thread only:
  std::deque<StoreItem> backlog_;
  std::vector<StoreItem> batch_items_;       // the batch being written / retried
  std::vector<StoreRequest> batch_requests_;  // their requests, contiguous for Store
  std::vector<Status> results_;
  uint32_t attempts_ = 0;
  std::unordered_map<uint64_t, StoreItem> in_flight_;  // ticket -> item (request: the store's)
  uint64_t next_ticket_ = 1;
  std::vector<AsyncItem> async_items_;
  std::vector<AsyncResult> async_results_;
  std::chrono::steady_clock::time_point first_failure_, next_attempt_;
  std::minstd_rand jitter_{0x5eed};
  std::thread thread_;
  std::atomic<bool> paused_{false};
  IdleWaker waker_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> abandon_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<bool> retrying_{false};
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> done_{0};
  std::array<std::atomic<uint64_t>, kKinds> written_{};
  std::array<std::atomic<uint64_t>, kKinds> failed_{};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> dead_lettered_{0};
  std::atomic<uint64_t> lost_{0};
  std::atomic<uint64_t> retries_{0};
  std::atomic<uint64_t> batches_{0};
  std::atomic<uint64_t> in_flight_count_{0};
  std::atomic<uint64_t> store_digests_{0};
  std::atomic<uint64_t> kept_by_store_{0};
  std::string unwritten_;  // set by the writer thread before it exits
};

}  // namespace weft
