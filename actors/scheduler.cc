// weft's CAF scheduler module (actors/scheduler.h).
//
// Why: in CAF 0.17 every actor's cleanup calls clock().cancel_timeouts(self), even for an
// actor that never set a timer. thread_safe_actor_clock turns each call into a heap event
// pushed under a mutex into a 64-slot ring with a condition-variable notify, and the pusher
// blocks while the ring is full: a scheduler thread waiting on CAF's clock thread, ~5 µs
// of futex time and ~13 context switches per traced op in weft's profile (issue 11). No
// config key or spawn option avoids it. weft sets no CAF timer on its hot path (deadlines
// are the DeadlineWatch thread's), so the clock here forwards every timer to CAF's clock
// and drops cancellations until some timer was ever set in this actor system: then there
// is nothing to cancel. Once one is set (the deadline fallback for an actor without a
// metrics slot), every cancellation is forwarded again, as CAF does.
//
// Second, the scheduler itself (issue 11): CAF's `sharing` policy takes a mutex and
// signals a condition variable on every job enqueue, its idle workers wait on that
// condition variable, and worker<Policy>::run() does a dynamic_cast per resume for a
// logging hook that is compiled out (6 % of instructions). weft's coordinator runs its
// own workers on a lock-free JobQueue (actors/job_queue.h) whose idle workers spin
// briefly and park on a futex, woken only when parked. CAF's sharing coordinator stays
// available (Config::Scheduler::caf_sharing), with the same clock, for comparison.
//
// The CAF internals this relies on (0.17.6), named so an upgrade knows where to look:
// - caf::scheduler::abstract_coordinator: subclassed; its pure virtuals enqueue() (a job
//   from a thread that is not one of our workers) and clock(), its start() (spawns the
//   utility actors, detached, so stop() may join the workers first), its protected
//   stop_actors(), max_throughput() and num_workers() (from "scheduler.max-threads" and
//   "scheduler.max-throughput" in init()), and cleanup_and_release() for jobs left at stop;
// - caf::execution_unit: our worker; exec_later() is how a running actor schedules another
//   (or itself) on the worker that runs it;
// - caf::resumable::resume() and its resume_result, handled as worker<Policy>::run() does;
//   actor_system::thread_started()/thread_terminates() around each worker thread;
// - caf::scheduler::coordinator<Policy> for the caf_sharing variant: its protected clock()
//   (the thread_safe_actor_clock its caf.clock thread runs) is the clock we forward to;
// - caf::detail::thread_safe_actor_clock: our clock's base (coordinator<Policy>::clock()
//   returns one) and, in weft's coordinator, the clock we run on a caf.clock thread;
// - the module factory signature T::make(actor_system&, detail::type_list<>) that the
//   public actor_system_config::load<T>() calls; a loaded scheduler module replaces the
//   one that "scheduler.policy" would create.
#include "actors/scheduler.h"

#include <caf/all.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "actors/job_queue.h"
#include "runtime/platform/thread_name.h"

namespace weft {

namespace {

std::atomic<uint64_t> g_pushes{0};
std::atomic<uint64_t> g_skipped{0};
std::atomic<uint64_t> g_parks{0};  // JobQueueCounts of the coordinators that have stopped
std::atomic<uint64_t> g_wakes{0};
std::atomic<uint64_t> g_park_timeouts{0};

// A thread_safe_actor_clock only because coordinator<Policy>::clock() returns one (an
// override may not widen the type); its own ring and loop stay unused.
class ForwardingClock final : public caf::detail::thread_safe_actor_clock {
 public:
  explicit ForwardingClock(caf::actor_clock& caf_clock) : to_(caf_clock) {}

  time_point now() const noexcept override { return to_.now(); }

  void set_ordinary_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                            uint64_t id) override {
    arm();
    to_.set_ordinary_timeout(t, self, type, id);
  }
  void set_multi_timeout(time_point t, caf::abstract_actor* self, caf::atom_value type,
                         uint64_t id) override {
    arm();
    to_.set_multi_timeout(t, self, type, id);
  }
  void set_request_timeout(time_point t, caf::abstract_actor* self, caf::message_id id) override {
    arm();
    to_.set_request_timeout(t, self, id);
  }
  void schedule_message(time_point t, caf::strong_actor_ptr receiver,
                        caf::mailbox_element_ptr content) override {
    arm();
    to_.schedule_message(t, std::move(receiver), std::move(content));
  }
  void schedule_message(time_point t, caf::group target, caf::strong_actor_ptr sender,
                        caf::message content) override {
    arm();
    to_.schedule_message(t, std::move(target), std::move(sender), std::move(content));
  }

  void cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) override {
    if (armed()) to_.cancel_ordinary_timeout(self, type);
  }
  void cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) override {
    if (armed()) to_.cancel_request_timeout(self, id);
  }
  void cancel_timeouts(caf::abstract_actor* self) override {
    if (armed()) to_.cancel_timeouts(self);
  }
  void cancel_all() override { to_.cancel_all(); }

 private:
  void arm() {
    g_pushes.fetch_add(1, std::memory_order_relaxed);
    // Release: an actor that later sees armed_ also sees that a timer may exist. The
    // actor that set the timer sees its own store (program order) at its cleanup.
    if (!armed_.load(std::memory_order_relaxed)) armed_.store(true, std::memory_order_release);
  }
  bool armed() {
    if (armed_.load(std::memory_order_acquire)) {
      g_pushes.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    g_skipped.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  caf::actor_clock& to_;
  std::atomic<bool> armed_{false};
};

// CAF's sharing coordinator with weft's clock (Config::Scheduler::caf_sharing).
class SharingCoordinator final : public caf::scheduler::coordinator<caf::policy::work_sharing> {
 public:
  using super = caf::scheduler::coordinator<caf::policy::work_sharing>;
  explicit SharingCoordinator(caf::actor_system& sys) : super(sys), clock_(super::clock()) {}

  static caf::actor_system::module* make(caf::actor_system& sys, caf::detail::type_list<>) {
    return new SharingCoordinator(sys);
  }

 protected:
  caf::detail::thread_safe_actor_clock& clock() noexcept override { return clock_; }

 private:
  ForwardingClock clock_;
};

thread_local bool t_on_worker = false;

#if defined(__SANITIZE_THREAD__)
extern "C" void __tsan_acquire(void* addr);
#endif

// For ThreadSanitizer only: CAF orders an actor's resumes through its mailbox's atomics,
// inside libcaf_core.so, which TSan does not see. The TSan build's preload
// (tests/support/tsan_caf_sync.cc) releases on the actor after each handled message and
// after its activation; this acquires before each resume. (CAF's sharing queue gave TSan
// that order by accident: its mutex. A lock-free run queue does not.)
inline void tsan_resume_begins([[maybe_unused]] caf::resumable* job) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(job);
#endif
}

class WeftCoordinator;

// One scheduler thread.
class Worker final : public caf::execution_unit {
 public:
  Worker(caf::actor_system& sys, JobQueue<caf::resumable>& jobs, JobQueue<caf::resumable>::Worker& slot,
         size_t max_throughput)
      : caf::execution_unit(&sys), jobs_(jobs), slot_(slot), max_throughput_(max_throughput) {}

  void exec_later(caf::resumable* job) override { jobs_.push(slot_, job); }

  void start() {
    thread_ = std::thread([this] {
      name_this_thread("weft.sched");
      t_on_worker = true;
      system().thread_started();
      run();
      system().thread_terminates();
    });
  }
  void join() { thread_.join(); }

 private:
  // worker<Policy>::run() without the logging hook.
  void run() {
    while (caf::resumable* job = jobs_.pop(slot_)) {
      tsan_resume_begins(job);
      switch (job->resume(this, max_throughput_)) {
        case caf::resumable::resume_later:
          jobs_.push(slot_, job);  // keeps its reference: it stays in the loop
          break;
        case caf::resumable::done:
        case caf::resumable::awaiting_message:
          caf::intrusive_ptr_release(job);  // it is enqueued again, with a reference, when a message comes
          break;
        case caf::resumable::shutdown_execution_unit:
          return;  // CAF's own shutdown job; weft's coordinator never enqueues one
      }
    }
  }

  JobQueue<caf::resumable>& jobs_;
  JobQueue<caf::resumable>::Worker& slot_;
  size_t max_throughput_;
  std::thread thread_;
};

class WeftCoordinator final : public caf::scheduler::abstract_coordinator {
 public:
  explicit WeftCoordinator(caf::actor_system& sys) : abstract_coordinator(sys), clock_(caf_clock_) {}

  static caf::actor_system::module* make(caf::actor_system& sys, caf::detail::type_list<>) {
    return new WeftCoordinator(sys);
  }

  void enqueue(caf::resumable* job) override { jobs_->push(job); }
  caf::actor_clock& clock() noexcept override { return clock_; }

 protected:
  void start() override {
    const size_t n = num_workers();
    jobs_ = std::make_unique<JobQueue<caf::resumable>>(n);
    workers_.reserve(n);
    for (size_t i = 0; i < n; ++i)
      workers_.push_back(std::make_unique<Worker>(system(), *jobs_, jobs_->worker(i), max_throughput()));
    for (auto& w : workers_) w->start();
    // CAF's clock still runs timers that someone sets (the deadline fallback, CAF's own
    // request timeouts): on its own thread, which waits on its condition variable, not a
    // scheduler thread.
    clock_thread_ = std::thread([this] {
      name_this_thread("caf.clock");
      system().thread_started();
      caf_clock_.run_dispatch_loop();
      system().thread_terminates();
    });
    abstract_coordinator::start();  // the utility actors (detached)
  }

  void stop() override {
    // As coordinator<Policy>::stop(): the workers first (each runs what is queued, then
    // returns), the utility actors, then whatever was enqueued after the workers left.
    jobs_->stop();
    for (auto& w : workers_) w->join();
    stop_actors();
    jobs_->drain(&abstract_coordinator::cleanup_and_release);
    caf_clock_.cancel_dispatch_loop();
    clock_thread_.join();
    const JobQueueCounts c = jobs_->counts();
    g_parks.fetch_add(c.parks, std::memory_order_relaxed);
    g_wakes.fetch_add(c.wakes, std::memory_order_relaxed);
    g_park_timeouts.fetch_add(c.timeouts, std::memory_order_relaxed);
  }

 private:
  caf::detail::thread_safe_actor_clock caf_clock_;
  ForwardingClock clock_;
  std::unique_ptr<JobQueue<caf::resumable>> jobs_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::thread clock_thread_;
};

}  // namespace

void use_weft_scheduler(caf::actor_system_config& cfg, SchedulerKind kind) {
  if (kind == SchedulerKind::caf_sharing) {
    cfg.load<SharingCoordinator>();
  } else {
    cfg.load<WeftCoordinator>();
  }
}

bool on_scheduler_thread() { return t_on_worker; }

SchedulerCounts stopped_scheduler_counts() {
  return SchedulerCounts{g_parks.load(std::memory_order_relaxed), g_wakes.load(std::memory_order_relaxed),
                        g_park_timeouts.load(std::memory_order_relaxed)};
}

ClockCounts clock_counts() {
  return ClockCounts{g_pushes.load(std::memory_order_relaxed), g_skipped.load(std::memory_order_relaxed)};
}

}  // namespace weft
