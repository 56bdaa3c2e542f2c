// The harness's output: markdown tables, CSV, the gnuplot chart and the summary line.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "bench/scenario/results.h"

namespace weft_bench {

void print_main_table(std::ostream& out, const std::vector<RunResult>& runs);
// CPU per saved object, total and per thread kind, context switches per op, and the ratio
// of CPU per object against pool-then-gated's on the same store.
void print_cpu_table(std::ostream& out, const std::vector<RunResult>& runs);
void print_scenario_table(std::ostream& out, const std::vector<ScenarioResult>& scenarios, const Options& o);
// Returns "" or why the file could not be written.
std::string write_csv(const std::string& path, const std::vector<RunResult>& runs,
                      const std::vector<ScenarioResult>& scenarios);
// Per-op calling-thread latency distributions (one panel per store). Returns a one-line
// note: where the chart went, or why it was skipped (no gnuplot, gnuplot failed).
std::string draw_chart(const std::string& png_path, const std::vector<RunResult>& runs, const std::string& tmp_dir);
// summary: weft_p50_ns=<int> sync_walk_p50_ns=<int> ratio=<float> naive_defer=<..> then_gated=<..>
//          cpu_per_object_ratio=<float|n/a> (weft's CPU per object ÷ pool-then-gated's, same store)
std::string summary_line(const std::vector<RunResult>& runs, const std::vector<ScenarioResult>& scenarios);

}  // namespace weft_bench
