// MODEL of Weave's Python client machinery (see pool_model.h), not part of weft.
#include "bench/scenario/pool_model.h"

#include <pthread.h>

#include <chrono>

namespace weft_bench {

// ---------------------------------------------------------------- DigestFuture

const std::string& DigestFuture::wait_uri(WorkerPool& pool) {
  if (ready()) return uri_;
  // A worker parked on a child's digest: counted, so the watchdog can see starvation.
  pool.blocking_waits_.fetch_add(1, std::memory_order_relaxed);
  pool.blocked_.fetch_add(1, std::memory_order_acq_rel);
  struct Unblock {
    WorkerPool& p;
    ~Unblock() { p.blocked_.fetch_sub(1, std::memory_order_acq_rel); }
  } unblock{pool};
  std::unique_lock<std::mutex> lock(mu_);
  while (!ready_.load(std::memory_order_acquire)) {
    // Timed slices only so that a poisoned pool can release this thread; a resolve
    // wakes it at once.
    if (pool.poisoned()) throw Poisoned{};
    cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
  return uri_;
}

void DigestFuture::on_resolved(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!ready_.load(std::memory_order_relaxed)) {
      callbacks_.push_back(std::move(fn));
      return;
    }
  }
  fn();
}

void DigestFuture::resolve(std::string uri) {
  std::vector<std::function<void()>> callbacks;
  {
    std::lock_guard<std::mutex> lock(mu_);
    uri_ = std::move(uri);
    ready_.store(true, std::memory_order_release);
    callbacks.swap(callbacks_);
  }
  cv_.notify_all();
  for (auto& fn : callbacks) fn();
}

void DigestFuture::drop_callbacks() {
  std::vector<std::function<void()>> dropped;
  std::lock_guard<std::mutex> lock(mu_);
  dropped.swap(callbacks_);
}

// ---------------------------------------------------------------- WorkerPool

WorkerPool::WorkerPool(unsigned threads) {
  workers_.reserve(threads);
  // Named, so that weft-bench's per-thread CPU split counts them as scheduler threads.
  for (unsigned i = 0; i < threads; ++i)
    workers_.emplace_back([this] {
      pthread_setname_np(pthread_self(), "pool.worker");
      run();
    });
}

WorkerPool::~WorkerPool() { stop(); }

void WorkerPool::defer(Task t) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    // A poisoned or stopped pool drops work: nobody will run it.
    if (poisoned() || stopping_) return;
    queue_.push_back(std::move(t));
  }
  cv_.notify_one();
}

void WorkerPool::then(const std::vector<FuturePtr>& pending, Task t) {
  struct Gate {
    std::atomic<size_t> remaining;
    Task task;
  };
  auto gate = std::make_shared<Gate>();
  gate->remaining.store(pending.size() + 1, std::memory_order_relaxed);
  gate->task = std::move(t);
  // The last future to resolve queues the task; the extra count is released below, so a
  // future resolving while we are still registering cannot fire it early.
  auto arrive = [this, gate] {
    if (gate->remaining.fetch_sub(1, std::memory_order_acq_rel) == 1) defer(std::move(gate->task));
  };
  for (const auto& f : pending) f->on_resolved(arrive);
  arrive();
}

void WorkerPool::poison() {
  std::deque<Task> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    poisoned_.store(true, std::memory_order_release);
    dropped.swap(queue_);
  }
  cv_.notify_all();
}

void WorkerPool::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& w : workers_)
    if (w.joinable()) w.join();
}

size_t WorkerPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void WorkerPool::run() {
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and nothing left to run
      task = std::move(queue_.front());
      queue_.pop_front();
    }
    if (poisoned()) continue;
    try {
      task();
    } catch (const Poisoned&) {
      // Released from a deadlock: the task is abandoned.
    }
    tasks_done_.fetch_add(1, std::memory_order_relaxed);
  }
}

// ---------------------------------------------------------------- ModelStore

ModelStore::ModelStore(std::shared_ptr<weft::Store> store, size_t batch_size, std::atomic<int64_t>* outstanding)
    : store_(std::move(store)), batch_size_(batch_size), outstanding_(outstanding) {
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "pool.store");  // a store thread, in the CPU split
    run();
  });
}

ModelStore::~ModelStore() { stop(true); }

void ModelStore::submit(weft::StoreRequest r, FuturePtr done, std::string uri) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(Item{std::move(r), std::move(done), std::move(uri)});
  }
  cv_.notify_one();
}

void ModelStore::pause() {
  std::lock_guard<std::mutex> lock(mu_);
  paused_ = true;
}

void ModelStore::resume() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    paused_ = false;
  }
  cv_.notify_all();
}

bool ModelStore::paused() const {
  std::lock_guard<std::mutex> lock(mu_);
  return paused_;
}

bool ModelStore::idle() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.empty() && !busy_ && !paused_;
}

void ModelStore::stop(bool drop) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!thread_.joinable()) return;
    stopping_ = true;
    drop_ = drop;
    paused_ = false;
  }
  cv_.notify_all();
  thread_.join();
}

void ModelStore::run() {
  std::vector<weft::StoreRequest> requests;
  std::vector<Item> items;
  std::vector<weft::Status> results;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || (!paused_ && !queue_.empty()); });
      if (drop_) {
        outstanding_->fetch_sub(static_cast<int64_t>(queue_.size()), std::memory_order_acq_rel);
        queue_.clear();
      }
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      busy_ = true;
      size_t n = std::min(batch_size_, queue_.size());
      for (size_t i = 0; i < n; ++i) {
        items.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    requests.clear();
    for (auto& it : items) requests.push_back(std::move(it.request));
    store_->write_batch(requests, results);
    // Weave's digest future resolves from the server's answer: only now can a parent that
    // waits on one of these children serialise itself.
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].done) continue;
      bool ok = i < results.size() && results[i].is_ok();
      items[i].done->resolve(ok ? std::move(items[i].uri) : std::string());
    }
    written_.fetch_add(items.size(), std::memory_order_relaxed);
    outstanding_->fetch_sub(static_cast<int64_t>(items.size()), std::memory_order_acq_rel);
    items.clear();
    std::lock_guard<std::mutex> lock(mu_);
    busy_ = false;
  }
}

}  // namespace weft_bench
