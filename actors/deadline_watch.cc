#include "actors/deadline_watch.h"

#include <concurrentqueue/concurrentqueue.h>

#include <algorithm>

#include "messages/messages.h"
#include "runtime/platform/thread_name.h"

namespace weft {

struct DeadlineWatch::Incoming {
  moodycamel::ConcurrentQueue<Entry> q;
};

namespace {
std::chrono::milliseconds interval_for(std::chrono::milliseconds timeout) {
  // A quarter of the timeout: a wait is reported between 1x and 1.25x the timeout.
  return std::clamp(timeout / 4, std::chrono::milliseconds(1), std::chrono::milliseconds(250));
}
}  // namespace

DeadlineWatch::DeadlineWatch(std::chrono::milliseconds timeout)
    : timeout_ns_(std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count()),
      interval_(interval_for(timeout)),
      idle_sleep_(std::chrono::duration_cast<std::chrono::microseconds>(timeout) / 2),
      incoming_(std::make_unique<Incoming>()) {
  thread_ = std::thread([this] {
    name_this_thread("weft.deadline");
    run();
  });
}

DeadlineWatch::~DeadlineWatch() { stop(); }

void DeadlineWatch::stop() {
  stop_.store(true, std::memory_order_release);
  waker_.wake();
  if (thread_.joinable()) thread_.join();
}

void DeadlineWatch::waiting(const caf::actor& self, InstanceSlot* slot) {
  if (slot == nullptr) return;
  int64_t expected = 0;
  slot->deadline_since_ns.compare_exchange_strong(expected, steady_now_ns(), std::memory_order_relaxed);
  if (!slot->deadline_watched.exchange(true, std::memory_order_acq_rel)) {
    incoming_->q.enqueue(Entry{caf::actor_cast<caf::weak_actor_ptr>(self), slot});
    // Out of a long idle sleep (below): a registration must not wait there, since its weak
    // handle keeps the actor's memory until a sweep drops it. The flag is read-mostly, so
    // this costs a load; the wake-up (a syscall) happens once per quiet spell at most.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (sleeping_long_.load(std::memory_order_relaxed)) waker_.wake();
  }
}

bool DeadlineWatch::expired(const InstanceSlot* slot) const {
  if (slot == nullptr) return true;  // unmetered actor: trust the reminder
  int64_t since = slot->deadline_since_ns.load(std::memory_order_relaxed);
  return since != 0 && steady_now_ns() - since >= timeout_ns_;
}

void DeadlineWatch::run() {
  std::vector<Entry> batch(256);
  while (!stop_.load(std::memory_order_acquire)) {
    // A periodic sweep: this thread exists to notice time passing, so it sleeps between
    // sweeps; stop() pokes it, so stopping is prompt without waking it more often. With
    // nothing watched and nothing registered it sleeps half the timeout (an idle runtime's
    // watch wakes every 30 s, not 4 times a second), and the first registration ends that
    // sleep (waiting(): the flag and the fences make one of the two see the other).
    bool long_sleep = false;
    if (watched_.empty()) {
      sleeping_long_.store(true, std::memory_order_relaxed);
      std::atomic_thread_fence(std::memory_order_seq_cst);
      long_sleep = incoming_->q.size_approx() == 0;
      if (!long_sleep) sleeping_long_.store(false, std::memory_order_relaxed);
    }
    waker_.park_for(long_sleep ? std::max<std::chrono::microseconds>(interval_, idle_sleep_) : interval_);
    if (long_sleep) sleeping_long_.store(false, std::memory_order_relaxed);
    if (stop_.load(std::memory_order_acquire)) break;
    size_t n;
    while ((n = incoming_->q.try_dequeue_bulk(batch.begin(), batch.size())) > 0)
      for (size_t i = 0; i < n; ++i) watched_.push_back(std::move(batch[i]));
    int64_t now = steady_now_ns();
    size_t kept = 0;
    for (auto& e : watched_) {
      int64_t since = e.slot->deadline_since_ns.load(std::memory_order_relaxed);
      bool live = e.slot->live.load(std::memory_order_acquire);
      if (live && since != 0 && now - since < timeout_ns_) {
        watched_[kept++] = std::move(e);  // still waiting, not yet late
        continue;
      }
      if (live && since != 0) {
        if (auto who = caf::actor_cast<caf::actor>(e.who)) caf::anon_send(who, msg::deadline_atom::value);
      }
      // Late, done or gone: stop watching (the actor re-registers if it waits again).
      e.slot->deadline_watched.store(false, std::memory_order_release);
    }
    watched_.resize(kept);
  }
  watched_.clear();
}

}  // namespace weft
