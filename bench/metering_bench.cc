// What mailbox metering (actors/metered.h) costs per message (issue 4: at most 100 ns).
//
// The same one-way flood, from this thread with anon_send, to a plain stateful actor and to
// a Metered one, on CAF's "sharing" scheduler with one worker (as the runtime configures
// CAF, docs/CAF_NOTES.md#scheduler). Each batch ends with a `done` message whose handler publishes the
// count, so a batch's time covers sending and handling all of it.
//
// BM_Flood/plain and BM_Flood/metered time each kind alone; BM_FloodPaired alternates the
// two batch by batch in one run, so machine noise on the 2 shared cores hits both alike,
// and reports plain_ns, metered_ns and their difference per message. BM_MeteringBookkeeping
// is the metering work alone, on one thread. Command and figures:
// docs/BENCH.md, "Metering cost (issue 4)".
#include <benchmark/benchmark.h>
#include <caf/all.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>

#include "actors/metered.h"
#include "runtime/metrics/metrics_registry.h"

namespace {

using done_atom = caf::atom_constant<caf::atom("done")>;
using Clock = std::chrono::steady_clock;

constexpr int64_t kBatch = 10'000;

struct SinkState {
  uint64_t count = 0;
  std::atomic<uint64_t>* done = nullptr;
  static inline const char* name = "bench.sink";
};

template <class Base>
caf::behavior sink(caf::stateful_actor<SinkState, Base>* self, std::atomic<uint64_t>* done) {
  self->state.done = done;
  return {
      [=](int32_t x) { self->state.count += static_cast<uint64_t>(x); },
      [=](done_atom) { self->state.done->store(self->state.count, std::memory_order_release); },
  };
}

using PlainBase = caf::event_based_actor;
using MeteredBase = weft::Metered<caf::event_based_actor, weft::ActorKind::kObject>;

// One actor system for the whole run; the metrics outlive it (declared first).
struct Fixture {
  weft::Metrics metrics;
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  Fixture() {
    cfg.set("scheduler.policy", caf::atom("sharing"));
    cfg.set("scheduler.max-threads", static_cast<size_t>(1));
    cfg.set("scheduler.max-throughput", static_cast<size_t>(100));
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

// Created on first use, destroyed by main() before exit: CAF 0.17's actor_system crashes
// (ref_counted::deref on freed state) when destroyed from static destructors.
std::unique_ptr<Fixture> g_fixture;
Fixture& fixture() {
  if (!g_fixture) g_fixture = std::make_unique<Fixture>();
  return *g_fixture;
}

// A sink and the counter its `done` handler publishes to.
struct Sink {
  std::atomic<uint64_t> done{0};
  uint64_t sent = 0;
  caf::actor actor;

  template <class Base>
  static std::unique_ptr<Sink> spawn() {
    auto s = std::make_unique<Sink>();
    weft::SpawningWith metered(&fixture().metrics);  // read by Metered's constructor only
    s->actor = fixture().sys->spawn(sink<Base>, &s->done);
    return s;
  }
  ~Sink() { caf::anon_send_exit(actor, caf::exit_reason::user_shutdown); }

  // Sends a batch, then waits (spinning: the worker needs the other core) until handled.
  void flood() {
    for (int64_t i = 0; i < kBatch; ++i) caf::anon_send(actor, int32_t{1});
    sent += static_cast<uint64_t>(kBatch);
    caf::anon_send(actor, done_atom::value);
    while (done.load(std::memory_order_acquire) != sent) std::this_thread::yield();
  }
};

template <class Base>
void BM_Flood(benchmark::State& state) {
  auto sink = Sink::spawn<Base>();
  sink->flood();  // warm up: the mailbox's first blocks
  auto t0 = Clock::now();
  for (auto _ : state) sink->flood();
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  state.SetItemsProcessed(state.iterations() * kBatch);
  state.counters["ns_per_msg"] = seconds / static_cast<double>(state.iterations() * kBatch) * 1e9;
}
BENCHMARK_TEMPLATE(BM_Flood, PlainBase)->Name("BM_Flood/plain")->UseRealTime()->MinTime(0.5);
BENCHMARK_TEMPLATE(BM_Flood, MeteredBase)->Name("BM_Flood/metered")->UseRealTime()->MinTime(0.5);

void BM_FloodPaired(benchmark::State& state) {
  auto plain = Sink::spawn<PlainBase>();
  auto metered = Sink::spawn<MeteredBase>();
  plain->flood();
  metered->flood();
  double plain_s = 0, metered_s = 0;
  bool plain_first = true;
  for (auto _ : state) {
    // Alternate which goes first, so neither always follows the other's cache state.
    for (int k = 0; k < 2; ++k) {
      bool run_plain = (k == 0) == plain_first;
      auto t0 = Clock::now();
      (run_plain ? plain : metered)->flood();
      double s = std::chrono::duration<double>(Clock::now() - t0).count();
      (run_plain ? plain_s : metered_s) += s;
    }
    plain_first = !plain_first;
  }
  double messages = static_cast<double>(state.iterations() * kBatch);
  state.counters["plain_ns"] = plain_s / messages * 1e9;
  state.counters["metered_ns"] = metered_s / messages * 1e9;
  state.counters["diff_ns"] = (metered_s - plain_s) / messages * 1e9;
}
BENCHMARK(BM_FloodPaired)->UseRealTime()->MinTime(1.0);

// The bookkeeping Metered adds per message, on one thread with no actor and no
// contention: what enqueue() and consume() do besides CAF's own work. A floor for the
// flood's difference, which also pays for the counters' cache lines moving between the
// sending thread and the worker.
void BM_MeteringBookkeeping(benchmark::State& state) {
  weft::Metrics& m = fixture().metrics;
  weft::KindStats& kind = m.of(weft::ActorKind::kCall);
  weft::InstanceSlot* slot = m.instances.acquire();
  for (auto _ : state) {
    kind.on_enqueue();  // enqueue(), on the sender's thread
    slot->enqueued.fetch_add(1, std::memory_order_relaxed);
    int64_t t0 = weft::steady_now_ns();  // consume(), on the actor's thread
    benchmark::ClobberMemory();           // (the handler would run here)
    kind.processed.fetch_add(1, std::memory_order_relaxed);
    slot->processed.fetch_add(1, std::memory_order_relaxed);
    kind.handler.record(static_cast<uint64_t>(weft::steady_now_ns() - t0));
  }
  m.instances.release(slot);
}
BENCHMARK(BM_MeteringBookkeeping);

}  // namespace

// Our own main (the static benchmark_main archive member is then not linked in), so the
// actor system is shut down while the process is still whole.
int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  g_fixture.reset();
  return 0;
}
