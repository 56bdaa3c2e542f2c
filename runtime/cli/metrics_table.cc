#include "runtime/cli/metrics_table.h"

#include <cstdio>

namespace weft::cli {

std::string format_duration_ns(double ns) {
  char buf[32];
  if (ns < 1e3) std::snprintf(buf, sizeof buf, "%.0f ns", ns);
  else if (ns < 1e6) std::snprintf(buf, sizeof buf, "%.1f µs", ns / 1e3);
  else if (ns < 1e9) std::snprintf(buf, sizeof buf, "%.1f ms", ns / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2f s", ns / 1e9);
  return buf;
}

std::string format_metrics_table(const MetricsSnapshot& m) {
  std::string out;
  char line[256];
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  std::snprintf(line, sizeof line, "  %-13s %9s %7s %7s %10s %11s %12s %12s\n", "kind", "spawned", "alive", "depth",
                "high-water", "processed", "handler p50", "handler p99");
  out += line;
  for (const KindMetrics& k : m.kinds) {
    // The two threads have no spawn count or high-water of their own: shown as "-".
    bool thread = k.kind == "dispatcher" || k.kind == "store_writer";
    std::string hw = thread ? "-" : std::to_string(k.mailbox_high_water);
    std::string p50 = k.handler.count == 0 ? "-" : format_duration_ns(k.handler.p50_ns);
    std::string p99 = k.handler.count == 0 ? "-" : format_duration_ns(k.handler.p99_ns);
    std::snprintf(line, sizeof line, "  %-13s %9llu %7llu %7llu %10s %11llu %12s %12s\n", k.kind.c_str(), u(k.spawned),
                  u(k.alive), u(k.mailbox_depth), hw.c_str(), u(k.processed), p50.c_str(), p99.c_str());
    out += line;
  }
  const StoreMetrics& s = m.store;
  std::snprintf(line, sizeof line,
                "  store         queue %llu, %llu batches, %llu requests written, %llu errors%s"
                " (store_writer's handler time is per batch)\n",
                u(s.queue_depth), u(s.batches), u(s.rows_written), u(s.errors), s.paused ? ", PAUSED" : "");
  out += line;
  std::snprintf(line, sizeof line,
                "  pending       %llu dependencies (%llu parents waiting), %llu open calls, hand-off queue %llu\n",
                u(m.pending_dependencies), u(m.parents_waiting), u(m.open_calls), u(m.handoff_queue_depth));
  out += line;
  return out;
}

}  // namespace weft::cli
