// Building a MetricsSnapshot from the runtime's counters. Internal.
#pragma once

#include <cstddef>
#include <cstdint>

#include <weft/metrics.h>

namespace weft {

class RuntimeCore;

struct HostFigures {
  uint64_t handoff_queue_depth = 0;
  uint64_t dispatched = 0;
  uint64_t open_calls = 0;
  uint64_t scheduler_threads = 0;
};

MetricsSnapshot take_snapshot(const RuntimeCore& core, const HostFigures& host, size_t top_n);

}  // namespace weft
