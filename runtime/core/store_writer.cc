#include "runtime/core/store_writer.h"

#include <concurrentqueue/concurrentqueue.h>

#include <map>

#include "runtime/core/idle_backoff.h"

namespace weft {

struct StoreWriter::Queue {
  // Polled, not blocking: see runtime/idle_backoff.h.
  moodycamel::ConcurrentQueue<StoreItem> q;
};

namespace {
bool is_wake(const StoreItem& item) { return item.wake_only; }
}  // namespace

StoreWriter::StoreWriter(std::shared_ptr<Store> store, size_t batch_size, ErrorSink report,
                         LatencyHistogram* latency)
    : store_(std::move(store)),
      batch_size_(batch_size == 0 ? 1 : batch_size),
      report_(std::move(report)),
      latency_(latency),
      queue_(std::make_unique<Queue>()) {}

StoreWriter::~StoreWriter() {
  if (thread_.joinable()) stop(std::chrono::steady_clock::now());
}

void StoreWriter::start() { thread_ = std::thread([this] { run(); }); }

void StoreWriter::submit(StoreItem&& item) {
  submitted_.fetch_add(1, std::memory_order_relaxed);
  queue_->q.enqueue(std::move(item));
}

void StoreWriter::wake() {
  StoreItem item;
  item.wake_only = true;
  queue_->q.enqueue(std::move(item));
}

void StoreWriter::pause() { paused_.store(true, std::memory_order_release); }

void StoreWriter::resume() {
  paused_.store(false, std::memory_order_release);
  wake();
}

uint64_t StoreWriter::queue_depth() const {
  uint64_t s = submitted_.load(std::memory_order_relaxed);
  uint64_t d = done_.load(std::memory_order_relaxed);
  return s > d ? s - d : 0;
}

void StoreWriter::run() {
  std::vector<StoreItem> buf(batch_size_);
  IdleBackoff idle(std::chrono::microseconds(2000));
  for (;;) {
    if (abandon_.load(std::memory_order_acquire)) break;
    // While paused the queue is still drained into the backlog (so its depth is known and
    // the queue's blocks are recycled), but nothing is written.
    size_t n = queue_->q.try_dequeue_bulk(buf.begin(), buf.size());
    for (size_t i = 0; i < n; ++i)
      if (!is_wake(buf[i])) backlog_.push_back(std::move(buf[i]));
    for (size_t i = 0; i < n; ++i) buf[i] = StoreItem{};
    bool paused = paused_.load(std::memory_order_acquire);
    if (!paused && !backlog_.empty()) {
      idle.reset();
      // Drain what else is ready so one transaction carries as much as it can.
      while (backlog_.size() < batch_size_) {
        size_t more = queue_->q.try_dequeue_bulk(buf.begin(), batch_size_ - backlog_.size());
        if (more == 0) break;
        for (size_t i = 0; i < more; ++i)
          if (!is_wake(buf[i])) backlog_.push_back(std::move(buf[i]));
        for (size_t i = 0; i < more; ++i) buf[i] = StoreItem{};
      }
      write_backlog();
      continue;
    }
    if (stopping_.load(std::memory_order_acquire) && backlog_.empty() && queue_->q.size_approx() == 0)
      break;
    if (n == 0) idle.wait();  // nothing to do (or paused): poll again a little later
  }
  // Whatever is left was not written: say exactly what.
  StoreItem item;
  while (queue_->q.try_dequeue(item))
    if (!is_wake(item)) backlog_.push_back(std::move(item));
  if (!backlog_.empty()) {
    std::map<std::string, uint64_t> by_kind;
    for (const auto& it : backlog_) ++by_kind[request_kind_name(it.request)];
    std::string text = std::to_string(backlog_.size()) + " store requests not written (";
    bool first = true;
    for (const auto& [k, c] : by_kind) {
      text += (first ? "" : ", ") + k + ": " + std::to_string(c);
      first = false;
    }
    unwritten_ = text + ")";
    done_.fetch_add(backlog_.size(), std::memory_order_relaxed);
    backlog_.clear();  // releases their tokens: flush must not wait for them forever
  }
  stopped_.store(true, std::memory_order_release);
}

void StoreWriter::write_backlog() {
  std::vector<StoreRequest> requests;
  std::vector<Status> results;
  size_t start = 0;
  while (start < backlog_.size()) {
    size_t end = std::min(backlog_.size(), start + batch_size_);
    requests.clear();
    for (size_t i = start; i < end; ++i) requests.push_back(std::move(backlog_[i].request));
    results.clear();
    int64_t t0 = steady_now_ns();
    store_->write_batch(requests, results);
    if (latency_ != nullptr) latency_->record(static_cast<uint64_t>(steady_now_ns() - t0));
    batches_.fetch_add(1, std::memory_order_relaxed);
    for (size_t i = start; i < end; ++i) {
      const Status& r = (i - start) < results.size() ? results[i - start]
                                                     : Status::internal("store returned no result");
      if (r.is_ok()) {
        written_[requests[i - start].index()].fetch_add(1, std::memory_order_relaxed);
      } else {
        failures_.fetch_add(1, std::memory_order_relaxed);
        report_(std::string("store ") + store_->describe() + ": " +
                request_kind_name(requests[i - start]) + " failed: " + r.message());
      }
      if (backlog_[i].cell) backlog_[i].cell->mark_committed();
      backlog_[i].token.reset();
    }
    done_.fetch_add(end - start, std::memory_order_relaxed);
    start = end;
  }
  backlog_.clear();
}

std::string StoreWriter::stop(std::chrono::steady_clock::time_point deadline) {
  if (!thread_.joinable()) return unwritten_;
  stopping_.store(true, std::memory_order_release);
  wake();
  // Application-side wait for the writer to drain; polls so the writer signals nothing.
  auto pause_for = std::chrono::microseconds(50);
  while (!stopped_.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(pause_for);
    pause_for = std::min(pause_for * 2, std::chrono::microseconds(5000));
  }
  abandon_.store(true, std::memory_order_release);
  wake();
  thread_.join();
  return unwritten_;
}

}  // namespace weft
