// weft-bench's command line.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace weft_bench {

struct Options {
  size_t steps = 30;          // --steps
  size_t ops = 1460;          // --ops: calls per step, each under the step's parent call
  unsigned threads = 2;       // --threads: weft's scheduler threads in the main runs
  unsigned pool = 4;          // --pool: worker threads of the reference models
  size_t scenario_ops = 64;   // --scenario-ops: predict calls (and as many score calls)
                              // in the paused-store scenario
  bool quick = false;         // --quick
  std::vector<std::string> stores{"null", "sqlite"};  // --stores null,sqlite
  std::vector<std::string> designs{"weft", "pool-sync-walk", "pool-naive-defer", "pool-then-gated"};
  std::string csv_path;       // --csv
  std::string png_path;       // --png
  std::string tmp_dir = "/tmp";  // --tmp-dir: where the SQLite files of each run go
  bool keep_db = false;          // --keep-db: leave the SQLite files for inspection
  // A pool whose every worker is blocked on a digest while the store is idle is
  // deadlocked; the watchdog confirms that state for this long before saying so.
  double deadlock_confirm_s = 0.3;  // --deadlock-confirm
  // Fallback: no progress at all for this long with work pending is reported as a
  // deadlock too (a hang the exact check does not recognise).
  double stall_timeout_s = 20;      // --stall-timeout
  double drain_limit_s = 600;       // --drain-limit: a drain never waits longer
};

// Parses argv. On a bad flag returns nullopt and sets `error` to one line; on --help
// returns nullopt with `error` empty and `help` true.
std::optional<Options> parse_options(int argc, char** argv, std::string& error, bool& help);
const char* usage_text();

}  // namespace weft_bench
