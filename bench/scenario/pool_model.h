// MODEL, not weft: the machinery of W&B Weave's Python client, rebuilt in C++ so the seed
// benchmark can run Weave's designs on weft's values, canonical JSON, digests and stores.
// Only the scheduling differs from weft.
//
//   DigestFuture  Weave's ref digest future (a Future[str]), resolved when the store has
//                 written the object: Weave chains it from the server's obj_create answer,
//                 so a worker that needs a child's digest waits for the child's round trip.
//   WorkerPool    Weave's FutureExecutor over a fixed ThreadPoolExecutor
//                 (client_parallelism workers, one FIFO queue): defer() and then().
//   ModelStore    the trace server: one thread owns the Store (it is single-threaded) and
//                 writes what it is given in batches, as weft's store writer does; after
//                 each batch it resolves the digest futures of the objects written.
//
// A worker that blocks on a future is counted, so a watchdog can prove starvation: every
// worker blocked on a digest while the store has nothing to write means no digest can
// ever resolve. Deadlock recovery is a poison flag: blocked waits wake and abandon their
// task, queued tasks are dropped, and the threads can be joined.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <weft/store.h>

namespace weft_bench {

class WorkerPool;

// Thrown out of a blocked wait when the pool is poisoned; the worker drops the task.
struct Poisoned {};

class DigestFuture {
 public:
  bool ready() const { return ready_.load(std::memory_order_acquire); }
  // REQUIRES ready().
  const std::string& uri() const { return uri_; }
  // Weave's ref.uri() -> digest_future.result(): blocks the calling pool worker until the
  // digest is known. Throws Poisoned if the pool is poisoned meanwhile.
  const std::string& wait_uri(WorkerPool& pool);
  // Runs fn once resolved: now, on this thread, if it already is; else on the resolving
  // thread (the store thread). Weave's add_done_callback.
  void on_resolved(std::function<void()> fn);
  // Store thread: publishes the result and runs the callbacks.
  void resolve(std::string uri);
  // Teardown after a deadlock: callbacks that will never run hold tasks that hold futures.
  void drop_callbacks();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::atomic<bool> ready_{false};
  std::string uri_;
  std::vector<std::function<void()>> callbacks_;
};
using FuturePtr = std::shared_ptr<DigestFuture>;

class WorkerPool {
 public:
  using Task = std::function<void()>;
  explicit WorkerPool(unsigned threads);
  ~WorkerPool();  // stops; REQUIRES no worker blocked for ever (poison() first if so)
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Weave's FutureExecutor.defer: queue t behind everything already queued.
  void defer(Task t);
  // Weave's FutureExecutor.then: queue t once every future in `pending` is resolved.
  // The thread that registers it does not wait.
  void then(const std::vector<FuturePtr>& pending, Task t);

  // Deadlock recovery: blocked waits throw Poisoned, queued and later tasks are dropped.
  void poison();
  bool poisoned() const { return poisoned_.load(std::memory_order_acquire); }
  void stop();  // joins the workers (after the queue is empty, or at once if poisoned)

  unsigned size() const { return static_cast<unsigned>(workers_.size()); }
  unsigned blocked() const { return blocked_.load(std::memory_order_acquire); }
  size_t queued() const;
  uint64_t tasks_done() const { return tasks_done_.load(std::memory_order_relaxed); }
  uint64_t blocking_waits() const { return blocking_waits_.load(std::memory_order_relaxed); }

 private:
  friend class DigestFuture;
  void run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Task> queue_;
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  std::atomic<bool> poisoned_{false};
  std::atomic<unsigned> blocked_{0};
  std::atomic<uint64_t> tasks_done_{0};
  std::atomic<uint64_t> blocking_waits_{0};
};

class ModelStore {
 public:
  // `outstanding` counts promised requests; each one written (or failed) decrements it.
  ModelStore(std::shared_ptr<weft::Store> store, size_t batch_size, std::atomic<int64_t>* outstanding);
  ~ModelStore();
  ModelStore(const ModelStore&) = delete;
  ModelStore& operator=(const ModelStore&) = delete;

  // Any thread. `done` (may be null) is resolved with `uri` once the request is written.
  void submit(weft::StoreRequest r, FuturePtr done = nullptr, std::string uri = {});
  void pause();
  void resume();
  bool paused() const;
  // Nothing queued, nothing being written, not paused: no future can resolve from here.
  bool idle() const;
  uint64_t written() const { return written_.load(std::memory_order_relaxed); }
  // Writes what is queued (unless `drop`), then joins the thread.
  void stop(bool drop);

 private:
  struct Item {
    weft::StoreRequest request;
    FuturePtr done;
    std::string uri;
  };
  void run();

  std::shared_ptr<weft::Store> store_;
  const size_t batch_size_;
  std::atomic<int64_t>* outstanding_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Item> queue_;
  bool paused_ = false;
  bool busy_ = false;
  bool stopping_ = false;
  bool drop_ = false;
  std::atomic<uint64_t> written_{0};
  std::thread thread_;
};

}  // namespace weft_bench
