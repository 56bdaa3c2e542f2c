// JobQueue: the scheduler's run queue (actors/scheduler.cc): lock-free, with workers that
// spin briefly when it runs dry and then park on a futex, and a wake-up only when a worker
// is parked.
//
// Why not CAF's `sharing` policy: it takes a mutex and signals a condition variable on
// every enqueue, and its workers wait on that condition variable: a scheduler thread
// waiting on a lock other weft threads take, and a futex syscall for ~1.9 enqueues per
// saved object in weft's profile (issue 11). Here an enqueue is one lock-free enqueue, a
// fence and a load while every worker is busy; the syscall is paid only to wake a parked
// worker, and by at most one enqueuer at a time (`waking_`).
//
// The hand-off that must not lose a wake-up (a job enqueued just as the last worker
// parks): the enqueuer pushes, fences, then reads the workers' states; the worker marks
// itself parked, fences, then looks at the queue. The fences order the two, so one of
// them sees the other: the worker finds the job, or the enqueuer finds the worker parked,
// claims it (one CAS: no two enqueuers wake the same worker) and wakes its futex word, so
// its wait returns at once or is woken. A parked worker also wakes every `kParkTimeout`
// on its own: a safety net that costs an idle runtime a few wake-ups a second, counted in
// `timeouts`.
#pragma once

#include <concurrentqueue/concurrentqueue.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include "runtime/platform/futex.h"

namespace weft {

struct JobQueueCounts {
  uint64_t parks = 0;     // a worker went to sleep
  uint64_t wakes = 0;     // an enqueuer woke one (a futex syscall)
  uint64_t timeouts = 0;  // a parked worker woke on its own (the safety net)
};

template <class Job>
class JobQueue {
 public:
  // Spins (a poll and a pause each) before a worker parks: a few µs on the 2-vCPU VM,
  // about what a park and a wake cost, so a worker that would be woken at once stays up.
  static constexpr int kSpins = 64;
  static constexpr std::chrono::microseconds kParkTimeout{500'000};

  // One per worker thread: its place in the queue as a consumer and as a producer, and the
  // word it parks on.
  class Worker {
   public:
    explicit Worker(JobQueue& q) : consumer_(q.queue_), producer_(q.queue_) {}

   private:
    friend class JobQueue;
    enum : uint32_t { kRunning = 0, kParked = 1, kClaimed = 2 };
    moodycamel::ConsumerToken consumer_;
    moodycamel::ProducerToken producer_;
    alignas(64) std::atomic<uint32_t> state_{kRunning};
  };

  // `park_timeout`: the safety net's period (tests make it long, so that a lost wake-up
  // hangs instead of being rescued).
  explicit JobQueue(size_t workers, std::chrono::microseconds park_timeout = kParkTimeout)
      : park_timeout_(park_timeout) {
    workers_.reserve(workers);
    for (size_t i = 0; i < workers; ++i) workers_.push_back(std::make_unique<Worker>(*this));
  }
  Worker& worker(size_t i) { return *workers_[i]; }

  // From any thread.
  void push(Job* job) {
    queue_.enqueue(job);
    wake_one_if_parked();
  }
  // From worker `w`'s own thread (a job it runs re-enqueues itself or another).
  void push(Worker& w, Job* job) {
    queue_.enqueue(w.producer_, job);
    wake_one_if_parked();
  }

  // The next job for worker `w` (on its own thread); parks while there is none. nullptr
  // once stop() was called and the queue looks empty.
  Job* pop(Worker& w) {
    Job* job = nullptr;
    for (;;) {
      for (int i = 0; i < kSpins; ++i) {
        if (queue_.try_dequeue(w.consumer_, job)) return job;
        if (stopping_.load(std::memory_order_acquire)) return nullptr;
        cpu_relax();
      }
      park(w);
    }
  }

  // Makes every pop() return nullptr once the queue is empty, and wakes parked workers.
  void stop() {
    stopping_.store(true, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with park()'s
    for (auto& w : workers_) claim_and_wake(*w);
  }

  // After every worker has returned: hands each job left to `f`.
  template <class F>
  void drain(F&& f) {
    Job* job = nullptr;
    while (queue_.try_dequeue(job)) f(job);
  }

  JobQueueCounts counts() const {
    return JobQueueCounts{parks_.load(std::memory_order_relaxed), wakes_.load(std::memory_order_relaxed),
                          timeouts_.load(std::memory_order_relaxed)};
  }

 private:
  static void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield");
#endif
  }

  void wake_one_if_parked() {
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with park()'s
    if (parked_.load(std::memory_order_relaxed) == 0) return;  // the busy case: no syscall
    for (auto& w : workers_) {
      if (claim_and_wake(*w)) return;
    }
  }

  // Wakes `w` if it is parked and no one else has claimed it.
  bool claim_and_wake(Worker& w) {
    uint32_t parked = Worker::kParked;
    if (!w.state_.compare_exchange_strong(parked, Worker::kClaimed, std::memory_order_acq_rel)) return false;
    wakes_.fetch_add(1, std::memory_order_relaxed);
    futex_wake(w.state_, 1);
    return true;
  }

  void park(Worker& w) {
    w.state_.store(Worker::kParked, std::memory_order_seq_cst);
    parked_.fetch_add(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);  // pairs with wake_one_if_parked()'s
    // size_approx(), not another try_dequeue(): a dequeue can miss a job another consumer
    // is racing for, the producers' counts cannot.
    if (queue_.size_approx() == 0 && !stopping_.load(std::memory_order_seq_cst)) {
      parks_.fetch_add(1, std::memory_order_relaxed);
      futex_wait(w.state_, Worker::kParked, park_timeout_);
    }
    parked_.fetch_sub(1, std::memory_order_relaxed);
    if (w.state_.exchange(Worker::kRunning, std::memory_order_seq_cst) == Worker::kParked &&
        queue_.size_approx() == 0 && !stopping_.load(std::memory_order_relaxed)) {
      timeouts_.fetch_add(1, std::memory_order_relaxed);  // (or spurious) nobody woke it
    }
    // An enqueuer that saw this worker claimed or running and so woke no one: its job is
    // visible to the polls that follow (the exchange above is ordered after its read).
    std::atomic_thread_fence(std::memory_order_seq_cst);
  }

  moodycamel::ConcurrentQueue<Job*> queue_;
  const std::chrono::microseconds park_timeout_;
  std::vector<std::unique_ptr<Worker>> workers_;
  alignas(64) std::atomic<uint32_t> parked_{0};
  std::atomic<bool> stopping_{false};
  alignas(64) std::atomic<uint64_t> parks_{0};
  std::atomic<uint64_t> wakes_{0};
  std::atomic<uint64_t> timeouts_{0};
};

}  // namespace weft
