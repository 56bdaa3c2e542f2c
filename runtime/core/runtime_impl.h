// RuntimeImpl: the state behind a weft::Runtime handle. Internal to runtime/core: the
// facade (runtime.cc), calls (call.cc) and saved refs (saved_ref.cc) share it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <weft/runtime.h>

#include "runtime/core/dispatcher.h"
#include "runtime/core/event_queue.h"
#include "runtime/core/runtime_core.h"
#include "runtime/metrics/metrics_server.h"

namespace weft {

namespace detail {

// One application thread's way in: its producer token for the hand-off queue, and the
// flag that tells shutdown it is between the accepting check and its enqueue.
struct ProducerSlot {
  explicit ProducerSlot(EventQueue& q) : token(q.q) {}
  moodycamel::ProducerToken token;
  alignas(64) std::atomic<uint32_t> active{0};
};

struct RuntimeImpl {
  explicit RuntimeImpl(Config cfg, std::shared_ptr<Store> store)
      : core(std::move(cfg), std::move(store)) {}

  // The front door. enter() marks this thread active and then checks that the runtime
  // still accepts (both seq_cst: with shutdown's store-then-scan, either the producer sees
  // shutdown and backs out, or shutdown sees the producer and waits for its enqueue), so an
  // event is accepted whole or refused whole, never half. nullptr: refused (shut down).
  ProducerSlot* enter();
  static void leave(ProducerSlot* slot) { slot->active.store(0, std::memory_order_release); }
  // Shutdown: stop accepting, then wait out producers already past the check.
  void close_front_door();

  bool enqueue(ProducerSlot* slot, Event&& e, EventKind kind);
  // Counts a refusal and reports it (aggregated: the first, then every 4096th per cause).
  void refuse(EventKind kind, RefusedBecause why, const std::string& message);
  SavedRef refused_ref(RefusedBecause why, const std::string& message);
  // A SavedRef on `cell` (SavedRef's constructor is private to the runtime).
  static SavedRef saved_ref(detail::CellRef cell);

  RuntimeCore core;
  EventQueue queue;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<MetricsServer> metrics_server;  // last to start, first to stop
  std::atomic<bool> accepting{true};
  std::mutex slots_mu;  // taken once per application thread, when it first traces here
  std::vector<std::unique_ptr<ProducerSlot>> slots;
  std::mutex shutdown_mu;  // serialises shutdown() callers (application threads, the destructor)
  bool shut_down = false;
  FlushResult shutdown_result;
};

// The fixed part of an event's charge against max_memory_bytes: the event in the queue, its
// actor and state, the store request's own fields. Calibrated so the charge is not below
// what it costs: a call into a paused store (start + end, small values) measured 6.1 KiB of
// RSS per call (RuntimeMemoryCap.RssStaysUnderTheCapAndReturnsAfterFlush), i.e. about 3 KiB
// per event. Values count twice (2 * approx_bytes): the value, and its JSON in the request.
inline constexpr uint64_t kEventOverheadBytes = 3072;

}  // namespace detail
}  // namespace weft
