// The actor system and the dispatcher: the implementation of runtime/core/dispatcher.h.
//
// The dispatcher is one thread, not an actor: it drains the hand-off queue in bulk (polling
// with an idle back-off, runtime/core/idle_backoff.h, so producers never pay for a wake-up)
// and routes each event: a save spawns the
// value's actor, a call start spawns a call actor, a call end is forwarded to its actor
// with what the actor needs to roll up its summary. It keeps the only table of open calls;
// being one thread, it needs no lock for it. Application threads never touch CAF.
#include "runtime/core/dispatcher.h"

#include <caf/all.hpp>

#include <atomic>
#include <cstring>
#include <thread>
#include <unordered_map>
#include <vector>

#include "actors/call_actor.h"
#include "actors/deadline_watch.h"
#include "actors/scheduler.h"
#include "actors/spawn.h"
#include "messages/messages.h"
#include "runtime/core/event_queue.h"
#include "runtime/core/idle_backoff.h"
#include "runtime/core/runtime_core.h"
#include "runtime/platform/thread_name.h"

namespace weft {

namespace {

struct UuidHash {
  size_t operator()(const Uuid& u) const noexcept {
    // UUIDv7: the last 8 bytes are random; the head is the clock (similar for ids made
    // together), so the tail alone is already a good hash.
    uint64_t tail;
    std::memcpy(&tail, u.bytes.data() + 8, sizeof tail);
    return static_cast<size_t>(tail);
  }
};

struct OpenCall {
  caf::actor actor;
  Uuid parent_id;
  uint32_t ended_children = 0;  // children whose end was dispatched before ours
};

unsigned scheduler_threads_for(const Config& c) {
  if (c.scheduler_threads != 0) return c.scheduler_threads;
  return std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
}

caf::actor_system_config make_config(const Config& c) {
  caf::actor_system_config cfg;
  unsigned threads = scheduler_threads_for(c);
  // The module loaded below replaces CAF's scheduler; the key still names the policy CAF's
  // own is closest to. Work stealing is pathological on 2 shared cores
  // (docs/CAF_NOTES.md#scheduler). The policy must be an atom: a string is rejected.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  cfg.set("scheduler.max-threads", static_cast<size_t>(threads));
  // The default (unbounded) lets one busy actor starve the others on its worker.
  cfg.set("scheduler.max-throughput", static_cast<size_t>(100));
  // weft's coordinator (or CAF's sharing one), with a clock that skips a push per actor.
  use_weft_scheduler(cfg, c.scheduler == Config::Scheduler::caf_sharing ? SchedulerKind::caf_sharing
                                                                         : SchedulerKind::weft);
  return cfg;
}

class ActorDispatcher final : public Dispatcher {
 public:
  ActorDispatcher(RuntimeCore& c, EventQueue& q)
      : core(c),
        queue(q),
        threads(scheduler_threads_for(c.config)),
        cfg(make_config(c.config)),
        deadlines(c.dependency_timeout),
        sys(cfg) {
    core.deadlines = &deadlines;
    thread = std::thread([this] {
      name_this_thread("weft.dispatch");
      run();
    });
  }
  ~ActorDispatcher() override {
    stop(std::chrono::steady_clock::now());
    // Actors still running (a deadline passed) may call the watch until the system's
    // destructor has stopped the workers: the watch stops sweeping now, but is destroyed
    // after the system (it is declared before it).
    deadlines.stop();
  }
  ActorDispatcher(const ActorDispatcher&) = delete;
  ActorDispatcher& operator=(const ActorDispatcher&) = delete;

  std::string stop(std::chrono::steady_clock::time_point deadline) override;
  void wake() override { waker.wake(); }
  uint64_t events_dispatched() const override { return dispatched.load(std::memory_order_relaxed); }
  size_t open_calls() const override { return open_count.load(std::memory_order_relaxed); }
  size_t scheduler_threads() const override { return threads; }

 private:
  void run();
  void dispatch(Event&& e);
  void on_start(CallStartEvent&& ev, WorkToken&& token);
  void on_end(CallEndEvent&& ev, WorkToken&& token);

  RuntimeCore& core;
  EventQueue& queue;
  size_t threads;
  caf::actor_system_config cfg;
  DeadlineWatch deadlines;  // before sys: outlives every actor (it holds weak handles only)
  caf::actor_system sys;
  std::thread thread;
  std::atomic<bool> stopping{false};
  IdleWaker waker;
  std::atomic<uint64_t> dispatched{0};
  std::atomic<size_t> open_count{0};
  // Dispatcher thread only:
  std::unordered_map<Uuid, OpenCall, UuidHash> open;
  // Ends that arrived before their start (another application thread finished the call
  // and the queue has no order across producers): applied when the start arrives.
  std::unordered_map<Uuid, Event, UuidHash> early_ends;
};

void ActorDispatcher::run() {
  std::vector<Event> buf(256);
  moodycamel::ConsumerToken consumer(queue.q);
  IdleBackoff idle(&waker, std::chrono::milliseconds(100));
  for (;;) {
    size_t n = queue.q.try_dequeue_bulk(consumer, buf.begin(), buf.size());
    if (n == 0) {
      if (stopping.load(std::memory_order_acquire) && queue.q.size_approx() == 0) break;
      idle.wait();
      continue;
    }
    // A quiet spell ends: the store writer is likely in a long sleep too, and work is coming
    // its way (a syscall only if it sleeps; never on a busy path: only after a 1 ms sleep).
    if (idle.last_sleep() >= std::chrono::milliseconds(1)) core.writer.poke();
    idle.reset();
    for (size_t i = 0; i < n; ++i) {
      const bool timed = time_this_message(kDispatcherSampleIndex);  // sampled, like the actors'
      const int64_t t0 = timed ? steady_now_ns() : 0;
      dispatch(std::move(buf[i]));
      buf[i] = Event{};
      if (timed) core.metrics.dispatch.record(static_cast<uint64_t>(steady_now_ns() - t0));
    }
    dispatched.fetch_add(n, std::memory_order_relaxed);
  }
}

void ActorDispatcher::dispatch(Event&& e) {
  if (auto* save = std::get_if<SaveEvent>(&e.body)) {
    auto job = std::make_shared<ValueSave>(
        ValueSave{std::move(save->value), std::move(save->name), std::move(save->cell), std::move(e.token)});
    spawn_value_actor(sys, &core, std::move(job));
  } else if (auto* start = std::get_if<CallStartEvent>(&e.body)) {
    on_start(std::move(*start), std::move(e.token));
  } else {
    on_end(std::move(std::get<CallEndEvent>(e.body)), std::move(e.token));
  }
}

void ActorDispatcher::on_start(CallStartEvent&& ev, WorkToken&& token) {
  Uuid id = ev.id;
  Uuid parent = ev.parent_id;
  auto job = std::make_shared<CallStartJob>(CallStartJob{std::move(ev), std::move(token)});
  open[id] = OpenCall{spawn_call_actor(sys, &core, std::move(job)), parent, 0};
  open_count.store(open.size(), std::memory_order_relaxed);
  auto early = early_ends.find(id);
  if (early != early_ends.end()) {
    Event end = std::move(early->second);
    early_ends.erase(early);
    on_end(std::move(std::get<CallEndEvent>(end.body)), std::move(end.token));
  }
}

void ActorDispatcher::on_end(CallEndEvent&& ev, WorkToken&& token) {
  auto it = open.find(ev.id);
  if (it == open.end()) {
    Uuid id = ev.id;
    early_ends.emplace(id, Event{std::move(ev), std::move(token)});
    return;
  }
  auto end = std::make_shared<msg::FinishCall>();
  if (!it->second.parent_id.empty()) {
    auto parent = open.find(it->second.parent_id);
    if (parent != open.end()) {
      end->report_to = parent->second.actor;
      ++parent->second.ended_children;
    }
  }
  end->expected_child_summaries = it->second.ended_children;
  end->event = std::move(ev);
  end->token = std::move(token);
  caf::anon_send(it->second.actor, msg::end_atom::value, msg::FinishCallPtr(std::move(end)));
  open.erase(it);
  open_count.store(open.size(), std::memory_order_relaxed);
}

std::string ActorDispatcher::stop(std::chrono::steady_clock::time_point deadline) {
  ActorDispatcher& d = *this;
  if (!d.thread.joinable()) return {};
  d.stopping.store(true, std::memory_order_release);
  d.waker.wake();
  d.thread.join();  // the dispatcher drains the queue first: nothing accepted is dropped
  std::string cut;
  if (!d.open.empty()) {
    cut += std::to_string(d.open.size()) + " calls were never finished (call_start written, no call_end)";
    for (auto& [id, call] : d.open) caf::anon_send_exit(call.actor, caf::exit_reason::user_shutdown);
    d.open.clear();
    d.open_count.store(0);
  }
  if (!d.early_ends.empty()) {
    if (!cut.empty()) cut += "; ";
    cut += std::to_string(d.early_ends.size()) + " call ends had no matching start";
    d.early_ends.clear();
  }
  // The remaining actors are saving values: they finish without help. Give them until the
  // deadline (polling the metrics' live count: the actors are hidden from CAF's registry,
  // and no CAF blocking call can take a deadline).
  auto pause_for = std::chrono::microseconds(50);
  while (d.core.metrics.live_actors() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(pause_for);
    pause_for = std::min(pause_for * 2, std::chrono::microseconds(5000));
  }
  if (uint64_t left = d.core.metrics.live_actors(); left > 0) {
    if (!cut.empty()) cut += "; ";
    cut += std::to_string(left) + " actors still running at the deadline were stopped";
    d.sys.await_actors_before_shutdown(false);
  }
  return cut;
}

}  // namespace

std::unique_ptr<Dispatcher> start_dispatcher(RuntimeCore& core, EventQueue& queue) {
  return std::make_unique<ActorDispatcher>(core, queue);
}

}  // namespace weft
