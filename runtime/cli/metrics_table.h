// Text tables of runtime metrics for the terminal: `weft demo`'s closing summary.
#pragma once

#include <string>

#include <weft/metrics.h>

namespace weft::cli {

// "850 ns", "4.2 µs", "12.5 ms", "1.20 s".
std::string format_duration_ns(double ns);

// Per kind: spawned, alive, mailbox depth, high-water, processed, handler p50/p99; then the
// store line and the dependency line. Lines are indented by two spaces.
std::string format_metrics_table(const MetricsSnapshot& m);

}  // namespace weft::cli
