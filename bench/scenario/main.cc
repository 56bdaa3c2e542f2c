// weft-bench: the seed benchmark (issue 5). weave PR 6740's experiment reproduced in C++:
// weft against reference models of the thread-pool designs it replaces, same workload,
// same values, same canonical JSON and digests, same stores, one process, run one after
// another. Progress goes to stderr; the tables and the summary line (always last) to stdout.
#include <algorithm>
#include <cstdio>
#include <exception>
#include <iostream>

#include "bench/scenario/metrics.h"
#include "bench/scenario/options.h"
#include "bench/scenario/report.h"
#include "bench/scenario/results.h"
#include "bench/scenario/workload.h"

namespace weft_bench {

RunResult run_main(const std::string& design, const std::string& store, const Options& o) {
  if (design == "weft") return run_main_weft(store, o);
  if (design == "weft-caf-sharing") return run_main_weft_caf_sharing(store, o);
  if (design == "pool-sync-walk") return run_main_pool_sync_walk(store, o);
  if (design == "pool-naive-defer") return run_main_pool_naive_defer(store, o);
  return run_main_pool_then_gated(store, o);
}

ScenarioResult run_paused(const std::string& design, const Options& o) {
  if (design == "weft") return run_paused_weft(o);
  if (design == "weft-caf-sharing") return run_paused_weft_caf_sharing(o);
  if (design == "pool-sync-walk") return run_paused_pool_sync_walk(o);
  if (design == "pool-naive-defer") return run_paused_pool_naive_defer(o);
  return run_paused_pool_then_gated(o);
}

}  // namespace weft_bench

int main(int argc, char** argv) {
  using namespace weft_bench;
  std::string error;
  bool help = false;
  std::optional<Options> parsed = parse_options(argc, argv, error, help);
  if (help) {
    std::cout << usage_text();
    return 0;
  }
  if (!parsed) {
    std::cerr << "weft-bench: " << error << "\n";
    return 2;
  }
  const Options& o = *parsed;

  OpValues probe = WorkloadBuilder(1).op(make_shared_values(), 0);
  std::cout << "# weft-bench: seed benchmark (weave PR 6740)\n\n"
            << "machine: " << machine_description() << "; load average at start " << load_average() << "\n"
            << "workload: " << o.steps << " steps x " << o.ops << " ops, each a call under its step's parent call; "
            << objects_per_op(probe) << " Objects per op; the output is " << output_json_bytes(probe)
            << " bytes of canonical JSON written inline (the inputs " << inputs_json_bytes(probe) << ")\n"
            << "weft: " << o.threads << " scheduler threads; reference models: " << o.pool
            << " pool workers + 1 store thread\n"
            << "timer: steady_clock, " << timer_overhead_ns() << " ns per read (included once in each per-op figure)\n\n";

  // Warm-up, discarded: the first run in a process would otherwise also pay for the
  // process's first page faults, thread-local set-ups and lazily loaded code.
  {
    Options warm = o;
    warm.steps = 1;
    warm.ops = std::min<size_t>(o.ops, 200);
    std::cerr << "weft-bench: warming up ..." << std::flush;
    for (const auto& design : o.designs) {
      try {
        (void)run_main(design, "null", warm);
      } catch (const std::exception&) {
        // reported by the measured run
      }
    }
    std::cerr << " done\n";
  }

  std::vector<RunResult> runs;
  for (const auto& store : o.stores) {
    for (const auto& design : o.designs) {
      std::cerr << "weft-bench: " << design << " on the " << store << " store ..." << std::flush;
      try {
        runs.push_back(run_main(design, store, o));
      } catch (const std::exception& e) {
        RunResult r;
        r.design = design;
        r.store = store;
        r.status = "ERROR";
        r.detail = e.what();
        runs.push_back(std::move(r));
      }
      const RunResult& r = runs.back();
      std::cerr << " " << r.status << " (" << r.steps_run << " steps, drain " << static_cast<int64_t>(r.drain_ms)
                << " ms" << (r.detail.empty() ? "" : "; " + r.detail) << ")\n";
    }
  }
  std::vector<ScenarioResult> scenarios;
  for (const auto& design : o.designs) {
    std::cerr << "weft-bench: paused-store scenario, " << design << " ..." << std::flush;
    try {
      scenarios.push_back(run_paused(design, o));
    } catch (const std::exception& e) {
      ScenarioResult s;
      s.design = design;
      s.status = "ERROR";
      s.detail = e.what();
      scenarios.push_back(std::move(s));
    }
    std::cerr << " " << scenarios.back().status << "\n";
  }

  std::cout << "load average at the end: " << load_average() << "\n\n";
  print_main_table(std::cout, runs);
  std::cout << "\n";
  print_cpu_table(std::cout, runs);
  std::cout << "\n";
  print_scenario_table(std::cout, scenarios, o);
  if (!runs.empty() && !runs.front().rss_reset_ok)
    std::cout << "\nnote: /proc/self/clear_refs refused; RSS peaks are process-wide maxima so far\n";
  if (!o.csv_path.empty()) {
    std::string err = write_csv(o.csv_path, runs, scenarios);
    std::cout << "\n" << (err.empty() ? "csv: " + o.csv_path : err) << "\n";
  }
  if (!o.png_path.empty()) std::cout << "\n" << draw_chart(o.png_path, runs, o.tmp_dir) << "\n";
  std::cout << "\n" << summary_line(runs, scenarios) << std::endl;
  return 0;
}
