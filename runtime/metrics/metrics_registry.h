// The counters behind runtime metrics (runtime/metrics.h). Internal.
//
// Writers (actors, the dispatcher, the store writer) only do relaxed atomic adds and CAS
// maxima; the snapshot reader only loads. Per-instance slots live in a lock-free pool so a
// snapshot can list the deepest and oldest live actors without any lock: a slot's text is
// guarded by a sequence number (seqlock), and a reader that sees it change skips the slot.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <weft/metrics.h>

namespace weft {

enum class ActorKind : uint8_t { kObject, kTable, kCall, kCount };
const char* actor_kind_name(ActorKind k);

class LatencyHistogram {
 public:
  void record(uint64_t ns);
  LatencySummary summary() const;

 private:
  std::array<std::atomic<uint64_t>, kLatencyBucketsNs.size() + 1> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> max_{0};
};

void atomic_max(std::atomic<uint64_t>& a, uint64_t v);

// One kind of actor, all instances together.
struct KindStats {
  std::atomic<uint64_t> spawned{0};
  std::atomic<uint64_t> finished{0};
  alignas(64) std::atomic<uint64_t> enqueued{0};   // written by senders
  alignas(64) std::atomic<uint64_t> processed{0};  // written by the actors
  std::atomic<uint64_t> high_water{0};
  LatencyHistogram handler;

  void on_enqueue() {
    uint64_t e = enqueued.fetch_add(1, std::memory_order_relaxed) + 1;
    uint64_t p = processed.load(std::memory_order_relaxed);
    if (e > p) atomic_max(high_water, e - p);
  }
};

// One live actor. Fields other than the counters are written once, under `seq`.
struct InstanceSlot {
  std::atomic<uint32_t> seq{0};  // odd while the describing fields are being written
  std::atomic<bool> live{false};
  std::atomic<uint8_t> kind{0};
  std::atomic<uint64_t> id{0};
  std::array<std::atomic<uint64_t>, 8> label{};  // up to 64 bytes of text, NUL padded
  std::atomic<uint64_t> enqueued{0};
  std::atomic<uint64_t> processed{0};
  std::atomic<int64_t> waiting_since_ns{0};  // steady clock; 0 = not waiting
  std::atomic<uint32_t> waiting_children{0};
  std::atomic<uint32_t> waiting_summaries{0};
  std::atomic<bool> waiting_end{false};
  // Deadlines (actors/deadline_watch.h): when the current dependency wait began (0: none),
  // and whether the watch holds this actor.
  std::atomic<int64_t> deadline_since_ns{0};
  std::atomic<bool> deadline_watched{false};
  std::atomic<uint32_t> next_free{0};  // free-list link (index + 1)
  std::atomic<uint32_t> index{0};      // this slot's index in the registry

  void describe(ActorKind k, uint64_t actor_id, std::string_view text);
  void set_waiting(uint32_t children, uint32_t summaries, bool end);
};

class InstanceRegistry {
 public:
  InstanceRegistry();
  ~InstanceRegistry();
  InstanceSlot* acquire();
  void release(InstanceSlot* s);
  // Slots ever created: the most that were held at once (freed slots are reused first).
  uint32_t slots_created() const { return next_index_.load(std::memory_order_relaxed); }
  // Calls fn for every live slot with a consistent description.
  void scan(const std::function<void(const InstanceMetrics&, const InstanceSlot&)>& fn) const;

 private:
  static constexpr uint32_t kChunk = 4096;
  static constexpr uint32_t kMaxChunks = 4096;  // 16M slots
  InstanceSlot* slot(uint32_t index) const;
  std::array<std::atomic<InstanceSlot*>, kMaxChunks> chunks_{};
  std::atomic<uint32_t> next_index_{0};
  std::atomic<uint64_t> free_head_{0};  // (tag << 32) | (index + 1); 0 = empty
};

class Metrics {
 public:
  std::array<KindStats, static_cast<size_t>(ActorKind::kCount)> kinds;
  InstanceRegistry instances;
  // Dependencies: child digests awaited, and actors awaiting at least one.
  std::atomic<int64_t> pending_dependencies{0};
  std::atomic<int64_t> parents_waiting{0};
  // The dispatcher: one handler sample per event.
  std::atomic<uint64_t> dispatched{0};
  LatencyHistogram dispatch;
  // The store writer: one sample per batch.
  LatencyHistogram store_write;

  KindStats& of(ActorKind k) { return kinds[static_cast<size_t>(k)]; }

  // Actors spawned and not yet cleaned up, every kind. weft's actors are spawned hidden
  // from CAF's registry (actors/spawn.h says why), so this is the runtime's count of them.
  uint64_t live_actors() const {
    uint64_t live = 0;
    for (const auto& k : kinds) {
      const uint64_t finished = k.finished.load(std::memory_order_acquire);  // before spawned: never negative
      live += k.spawned.load(std::memory_order_acquire) - finished;
    }
    return live;
  }
};

// Handler times are sampled: of the messages one thread handles for one kind of actor,
// the 1st, 9th, 17th, ... are timed (two clock reads and a histogram update each), the rest
// only counted. The histogram's count is the number timed; its mean and quantiles estimate
// every message's. Measured: timing every message cost ~40 ns of clock reads alone.
inline constexpr uint32_t kHandlerSampleEvery = 8;
inline thread_local std::array<uint32_t, static_cast<size_t>(ActorKind::kCount) + 1> t_handler_samples{};
// Whether this thread times the next message of kind `k` (the last index: the dispatcher).
inline bool time_this_message(size_t k) { return t_handler_samples[k]++ % kHandlerSampleEvery == 0; }
inline constexpr size_t kDispatcherSampleIndex = static_cast<size_t>(ActorKind::kCount);

// The metrics of the runtime whose dispatcher or actor is spawning on this thread: set
// around spawn() so the new actor's constructor (run by spawn, on this thread) finds them.
extern thread_local Metrics* t_spawning_metrics;

int64_t steady_now_ns();

}  // namespace weft
