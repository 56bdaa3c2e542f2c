#include "runtime/core/store_writer.h"

#include <concurrentqueue/concurrentqueue.h>

#include <algorithm>
#include <cstdio>
#include <map>

#include "runtime/core/idle_backoff.h"
#include "runtime/platform/thread_name.h"

namespace weft {

struct StoreWriter::Queue {
  // Polled, not blocking: see runtime/core/idle_backoff.h.
  moodycamel::ConcurrentQueue<StoreItem> q;
};

bool is_transient(StatusCode code) {
  return code == StatusCode::kUnavailable || code == StatusCode::kResourceExhausted ||
         code == StatusCode::kDeadlineExceeded;
}

namespace {
std::string seconds(std::chrono::steady_clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}
}  // namespace

StoreWriter::StoreWriter(std::shared_ptr<Store> store, StoreWriterOptions options,
                         WorkTracker& tracker, ErrorSink report, LatencyHistogram* latency)
    : store_(std::move(store)),
      options_([&] {
        if (options.batch_size == 0) options.batch_size = 1;
        return options;
      }()),
      tracker_(tracker),
      report_(std::move(report)),
      latency_(latency),
      queue_(std::make_unique<Queue>()) {
  async_ = dynamic_cast<AsyncStore*>(store_.get());
  if (async_) async_->set_reporter(report_);
}

StoreWriter::~StoreWriter() {
  if (thread_.joinable()) stop(std::chrono::steady_clock::now());
}

void StoreWriter::start() { thread_ = std::thread([this] {
    name_this_thread("weft.store");
    run();
  }); }

void StoreWriter::submit(StoreItem&& item) {
  submitted_.fetch_add(1, std::memory_order_relaxed);
  queue_->q.enqueue(std::move(item));
}

void StoreWriter::wake() {
  StoreItem item;
  item.wake_only = true;
  queue_->q.enqueue(std::move(item));
  waker_.wake();
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

bool StoreWriter::drain_queue(size_t max) {
  StoreItem buf[64];
  size_t total = 0;
  while (total < max) {
    size_t n = queue_->q.try_dequeue_bulk(buf, std::min<size_t>(64, max - total));
    if (n == 0) break;
    for (size_t i = 0; i < n; ++i) {
      if (!buf[i].wake_only) backlog_.push_back(std::move(buf[i]));
      buf[i] = StoreItem{};
    }
    total += n;
  }
  return total > 0;
}

void StoreWriter::run() {
  // Up to 1 s asleep when nothing comes: the dispatcher pokes the writer when work starts
  // again, and flush, resume and stop wake it.
  IdleBackoff idle(&waker_, std::chrono::seconds(1));
  for (;;) {
    if (abandon_.load(std::memory_order_acquire)) break;
    // While paused (or backing off) the queue is still drained into the backlog, so its
    // depth is known and the queue's blocks are recycled; nothing upstream waits.
    bool got = drain_queue(options_.batch_size);
    if (async_ && collect_async()) got = true;
    bool paused = paused_.load(std::memory_order_acquire);
    bool have_work = !batch_items_.empty() || !backlog_.empty();
    bool due = batch_items_.empty() || std::chrono::steady_clock::now() >= next_attempt_;
    if (!paused && have_work && due) {
      idle.reset();
      if (batch_items_.empty()) {
        // Drain what else is ready so one transaction carries as much as it can.
        if (backlog_.size() < options_.batch_size) drain_queue(options_.batch_size - backlog_.size());
        size_t n = std::min(backlog_.size(), options_.batch_size);
        for (size_t i = 0; i < n; ++i) {
          batch_requests_.push_back(std::move(backlog_.front().request));
          batch_items_.push_back(std::move(backlog_.front()));
          backlog_.pop_front();
        }
        if (backlog_.empty()) backlog_.shrink_to_fit();  // a drained burst gives its memory back
      }
      write_batch();
      continue;
    }
    if (stopping_.load(std::memory_order_acquire) && !have_work && queue_->q.size_approx() == 0 &&
        in_flight_.empty())
      break;
    if (!got) idle.wait(sleep_limit());  // nothing to do, paused, or backing off: poll again later
  }
  if (async_) {
    // Stopped with answers outstanding (the deadline passed): the store ends them now.
    collect_async();
    async_results_.clear();
    async_->abandon(async_results_);
    for (auto& r : async_results_) complete(r);
    async_results_.clear();
  }
  unwritten_ = keep_leftovers();
  stopped_.store(true, std::memory_order_release);
}

std::chrono::microseconds StoreWriter::sleep_limit() const {
  // Answers awaited from an asynchronous store arrive on its own threads, which do not poke:
  // poll for them every 2 ms, as the writer always did.
  if (async_ && (!in_flight_.empty() || async_->pending() > 0)) return std::chrono::milliseconds(2);
  // A failed batch backing off: wake when its next attempt falls due.
  if (!batch_items_.empty() && !paused_.load(std::memory_order_relaxed)) {
    auto left = next_attempt_ - std::chrono::steady_clock::now();
    return std::max(std::chrono::microseconds(1),
                    std::chrono::duration_cast<std::chrono::microseconds>(left));
  }
  return std::chrono::microseconds::max();
}

std::string StoreWriter::keep_leftovers() {
  // Whatever is left was not written: keep it (dead letter) and say exactly what.
  StoreItem item;
  while (queue_->q.try_dequeue(item))
    if (!item.wake_only) backlog_.push_back(std::move(item));
  if (batch_items_.empty() && backlog_.empty()) return {};
  std::map<std::string, uint64_t> by_kind;
  for (const auto& r : batch_requests_) ++by_kind[request_kind_name(r)];
  for (const auto& it : backlog_) ++by_kind[request_kind_name(it.request)];
  uint64_t n = batch_items_.size() + backlog_.size();
  std::string text = std::to_string(n) + " store requests not written before the writer stopped (";
  bool first = true;
  for (const auto& [k, c] : by_kind) {
    text += (first ? "" : ", ") + k + ": " + std::to_string(c);
    first = false;
  }
  uint64_t kept_before = dead_lettered_.load(std::memory_order_relaxed);
  give_up_all(Status::deadline_exceeded("not written before the store writer stopped"));
  uint64_t kept = dead_lettered_.load(std::memory_order_relaxed) - kept_before;
  return text + "); " + std::to_string(kept) + " kept in the dead-letter file";
}

std::string StoreWriter::keep_late_submissions() {
  // The writer thread is gone: this thread is the only one touching the writer's state.
  if (thread_.joinable() || !stopped_.load(std::memory_order_acquire)) return {};
  return keep_leftovers();
}

void StoreWriter::hand_over() {
  async_items_.clear();
  for (auto& r : batch_requests_) async_items_.push_back(AsyncItem{next_ticket_++, std::move(r)});
  async_->send(async_items_, results_);
  for (size_t i = 0; i < async_items_.size(); ++i)
    if (i >= results_.size() || !results_[i].is_ok())
      batch_requests_[i] = std::move(async_items_[i].request);  // refused: left in place
}

bool StoreWriter::collect_async() {
  async_results_.clear();
  if (async_->poll(async_results_) == 0) return false;
  for (auto& r : async_results_) complete(r);
  async_results_.clear();
  return true;
}

void StoreWriter::complete(AsyncResult& r) {
  auto it = in_flight_.find(r.ticket);
  if (it == in_flight_.end()) {
    // Not ours: the store's replay of what an earlier process left in its outbox. Nobody
    // waits for it, but what failed for good is kept here like any failure.
    if (!r.status.is_ok() && !r.kept && r.request) {
      StoreItem orphan;
      orphan.request = *r.request;
      give_up(orphan, *r.request, r.status, 0, false);
      done_.fetch_sub(1, std::memory_order_relaxed);  // it was never submitted here
    }
    return;
  }
  StoreItem item = std::move(it->second);
  in_flight_.erase(it);
  in_flight_count_.fetch_sub(1, std::memory_order_relaxed);
  const size_t kind = item.request.index();  // moved from, but still that alternative
  if (r.status.is_ok()) {
    if (!item.resolve_prefix.empty() && item.cell && !item.cell->resolved()) {
      store_digests_.fetch_add(1, std::memory_order_relaxed);
      item.cell->resolve(item.resolve_prefix + r.digest, r.digest);
    }
    mark_written(item, kind);
    return;
  }
  give_up(item, r.request ? *r.request : item.request, r.status, 0, r.kept);
}

void StoreWriter::mark_written(StoreItem& item, size_t kind) {
  written_[kind].fetch_add(1, std::memory_order_relaxed);
  tracker_.record_written(item.token.epoch());
  if (item.cell) item.cell->mark_committed();
  item.token.reset();
  done_.fetch_add(1, std::memory_order_relaxed);
}

void StoreWriter::write_batch() {
  results_.clear();
  int64_t t0 = steady_now_ns();
  if (async_) {
    hand_over();
  } else {
    store_->write_batch(batch_requests_, results_);
    if (latency_ != nullptr) latency_->record(static_cast<uint64_t>(steady_now_ns() - t0));
  }
  batches_.fetch_add(1, std::memory_order_relaxed);

  // Written and permanently failed requests are done; transient failures stay for a retry.
  size_t kept = 0;
  Status transient;
  for (size_t i = 0; i < batch_items_.size(); ++i) {
    Status r = i < results_.size() ? results_[i] : Status::internal("store returned no result");
    if (r.is_ok() && async_) {
      in_flight_.emplace(async_items_[i].ticket, std::move(batch_items_[i]));
      in_flight_count_.fetch_add(1, std::memory_order_relaxed);
    } else if (r.is_ok()) {
      mark_written(batch_items_[i], batch_requests_[i].index());
    } else if (is_transient(r.code())) {
      if (transient.is_ok()) transient = r;
      if (kept != i) {
        batch_items_[kept] = std::move(batch_items_[i]);
        batch_requests_[kept] = std::move(batch_requests_[i]);
      }
      ++kept;
    } else {
      give_up(i, r, attempts_ + 1);
    }
  }
  batch_items_.resize(kept);
  batch_requests_.resize(kept);
  if (kept == 0) {
    finish_batch();
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (attempts_ == 0) first_failure_ = now;
  ++attempts_;
  retries_.fetch_add(1, std::memory_order_relaxed);
  retrying_.store(true, std::memory_order_relaxed);
  const std::string cause = std::string("store retry ") + status_code_name(transient.code());
  if (now - first_failure_ >= options_.retry_timeout) {
    give_up_all(transient.with_context("gave up after " + std::to_string(attempts_) +
                                       " attempts over " + seconds(now - first_failure_)));
    return;
  }
  report_(cause, "store " + store_->describe() + ": a batch of " + std::to_string(kept) +
                     " requests failed (" + transient.message() + "); retrying (attempt " +
                     std::to_string(attempts_) + ")");
  // Exponential back-off with jitter in [b/2, b]: writers sharing a file do not retry in step.
  auto backoff = std::min<std::chrono::steady_clock::duration>(
      options_.first_backoff * (int64_t{1} << std::min<uint32_t>(attempts_ - 1, 20)), options_.max_backoff);
  auto half = backoff / 2;
  std::uniform_int_distribution<int64_t> pick(0, half.count());
  next_attempt_ = now + half + std::chrono::steady_clock::duration(pick(jitter_));
}

void StoreWriter::finish_batch() {
  batch_items_.clear();
  batch_requests_.clear();
  attempts_ = 0;
  retrying_.store(false, std::memory_order_relaxed);
}

void StoreWriter::give_up(size_t i, const Status& reason, uint32_t attempts) {
  give_up(batch_items_[i], batch_requests_[i], reason, attempts, false);
}

void StoreWriter::give_up(StoreItem& item, const StoreRequest& req, const Status& reason,
                          uint32_t attempts, bool kept_by_store) {
  const size_t kind = req.index();
  failures_.fetch_add(1, std::memory_order_relaxed);
  failed_[kind].fetch_add(1, std::memory_order_relaxed);
  if (item.token) tracker_.record_failed(item.token.epoch());  // none: an earlier process's
  const std::string what = std::string(request_kind_name(req)) + " " + status_code_name(reason.code());
  if (kept_by_store) {
    // Still durable where the store keeps it: dead-lettering it too would deliver it twice.
    kept_by_store_.fetch_add(1, std::memory_order_relaxed);
    report_("store kept " + what, "store " + store_->describe() + ": " + request_kind_name(req) +
                                      " not delivered yet (kept for a later delivery): " + reason.message());
  } else {
    Status kept = dead_letter_ ? dead_letter_(req, reason, attempts)
                               : Status::failed_precondition("no dead-letter file");
    if (kept.is_ok()) {
      dead_lettered_.fetch_add(1, std::memory_order_relaxed);
      report_("store failed " + what, "store " + store_->describe() + ": " + request_kind_name(req) +
                                          " not written (kept in the dead-letter file): " + reason.message());
    } else {
      lost_.fetch_add(1, std::memory_order_relaxed);
      report_("store lost " + what, "store " + store_->describe() + ": " + request_kind_name(req) +
                                        " not written and LOST (dead-letter file: " + kept.message() +
                                        "): " + reason.message());
    }
  }
  // A value waiting for the store's digest will not get one: its parents must hear now.
  if (!item.resolve_prefix.empty() && item.cell && !item.cell->resolved())
    item.cell->fail(std::string(request_kind_name(req)) + " failed: " + reason.message());
  // Failed for good: pins on the cell are released, and flush counts the request as failed.
  if (item.cell) item.cell->mark_committed();
  item.token.reset();
  done_.fetch_add(1, std::memory_order_relaxed);
}

void StoreWriter::give_up_all(const Status& reason) {
  for (size_t i = 0; i < batch_items_.size(); ++i) give_up(i, reason, attempts_);
  finish_batch();
  for (auto& it : backlog_) {
    batch_requests_.push_back(std::move(it.request));
    batch_items_.push_back(std::move(it));
  }
  backlog_.clear();
  for (size_t i = 0; i < batch_items_.size(); ++i) give_up(i, reason, 0);  // never attempted
  finish_batch();
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
