// StoreWriter: the thread that owns the Store. Fed by a lock-free queue; writes in batches,
// one transaction each; never on the actor scheduler (SQLite blocks on disk).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <weft/store.h>

#include "runtime/core/save_cell.h"
#include "runtime/core/work_tracker.h"
#include "runtime/metrics/metrics_registry.h"

namespace weft {

struct StoreItem {
  StoreRequest request;
  WorkToken token;         // released once the request is written (or has failed)
  detail::CellRef cell;    // the cell whose write this is: marked committed afterwards
  bool wake_only = false;  // no request: wakes the writer (resume, stop)
};

class StoreWriter {
 public:
  using ErrorSink = std::function<void(std::string)>;
  static constexpr size_t kKinds = 5;  // StoreRequest alternatives

  // latency (optional) receives one sample per batch written.
  StoreWriter(std::shared_ptr<Store> store, size_t batch_size, ErrorSink report,
              LatencyHistogram* latency = nullptr);
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  void start();
  // Any thread; lock-free.
  void submit(StoreItem&& item);
  void pause();
  void resume();
  bool paused() const { return paused_.load(std::memory_order_acquire); }

  // Writes what is queued, then stops the thread; if the deadline passes first (e.g. the
  // store is paused), stops anyway. Returns a description of what was not written ("" if
  // everything was).
  std::string stop(std::chrono::steady_clock::time_point deadline);

  uint64_t written(size_t kind) const { return written_[kind].load(std::memory_order_relaxed); }
  uint64_t failures() const { return failures_.load(std::memory_order_relaxed); }
  uint64_t batches() const { return batches_.load(std::memory_order_relaxed); }
  uint64_t queue_depth() const;

 private:
  void run();
  void write_backlog();
  void wake();

  std::shared_ptr<Store> store_;
  const size_t batch_size_;
  ErrorSink report_;
  LatencyHistogram* latency_;
  struct Queue;
  std::unique_ptr<Queue> queue_;
  std::vector<StoreItem> backlog_;  // writer thread only
  std::thread thread_;
  std::atomic<bool> paused_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> abandon_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<uint64_t> submitted_{0};
  std::atomic<uint64_t> done_{0};
  std::array<std::atomic<uint64_t>, kKinds> written_{};
  std::atomic<uint64_t> failures_{0};
  std::atomic<uint64_t> batches_{0};
  std::string unwritten_;  // set by the writer thread before it exits
};

}  // namespace weft
