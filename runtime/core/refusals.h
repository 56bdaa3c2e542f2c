// RefusalCounts: every event the front door turned away, by what it was and why. Relaxed
// atomics: written by application threads, read by stats() and metrics() from anywhere.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace weft {

enum class EventKind : uint8_t { kCallStart, kCallEnd, kSave };
enum class RefusedBecause : uint8_t {
  kShutDown,        // the runtime was shut down (or is shutting down)
  kMaxOutstanding,  // Config::max_outstanding events were already held
  kMaxMemory,       // the event's bytes would pass Config::max_memory_bytes
  kInvalid,         // not an op, inputs not a dict, a parent of another runtime
  kNoMemory,        // the hand-off queue could not allocate
};
inline constexpr size_t kEventKinds = 3;
inline constexpr size_t kRefusalReasons = 5;

inline const char* event_kind_name(EventKind k) {
  switch (k) {
    case EventKind::kCallStart: return "call_start";
    case EventKind::kCallEnd: return "call_end";
    case EventKind::kSave: return "save";
  }
  return "?";
}

inline const char* refused_because_name(RefusedBecause r) {
  switch (r) {
    case RefusedBecause::kShutDown: return "shut_down";
    case RefusedBecause::kMaxOutstanding: return "max_outstanding";
    case RefusedBecause::kMaxMemory: return "max_memory";
    case RefusedBecause::kInvalid: return "invalid";
    case RefusedBecause::kNoMemory: return "no_memory";
  }
  return "?";
}

class RefusalCounts {
 public:
  // Returns the count for (kind, why) before this one.
  uint64_t add(EventKind k, RefusedBecause why) {
    return n_[static_cast<size_t>(k)][static_cast<size_t>(why)].fetch_add(1, std::memory_order_relaxed);
  }
  uint64_t get(EventKind k, RefusedBecause why) const {
    return n_[static_cast<size_t>(k)][static_cast<size_t>(why)].load(std::memory_order_relaxed);
  }
  uint64_t by_kind(EventKind k) const {
    uint64_t s = 0;
    for (size_t r = 0; r < kRefusalReasons; ++r) s += get(k, static_cast<RefusedBecause>(r));
    return s;
  }
  uint64_t by_reason(RefusedBecause why) const {
    uint64_t s = 0;
    for (size_t k = 0; k < kEventKinds; ++k) s += get(static_cast<EventKind>(k), why);
    return s;
  }
  uint64_t total() const {
    uint64_t s = 0;
    for (size_t k = 0; k < kEventKinds; ++k) s += by_kind(static_cast<EventKind>(k));
    return s;
  }

 private:
  std::array<std::array<std::atomic<uint64_t>, kRefusalReasons>, kEventKinds> n_{};
};

}  // namespace weft
