// The harness's output: markdown tables, CSV, the gnuplot chart and the summary line.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "bench/scenario/results.h"

namespace weft_bench {

void print_main_table(std::ostream& out, const std::vector<RunResult>& runs);
void print_scenario_table(std::ostream& out, const std::vector<ScenarioResult>& scenarios, const Options& o);
// Returns "" or why the file could not be written.
std::string write_csv(const std::string& path, const std::vector<RunResult>& runs,
                      const std::vector<ScenarioResult>& scenarios);
// Per-op calling-thread latency distributions (one panel per store). Returns a one-line
// note: where the chart went, or why it was skipped (no gnuplot, gnuplot failed).
std::string draw_chart(const std::string& png_path, const std::vector<RunResult>& runs, const std::string& tmp_dir);
// summary: weft_p50_ns=<int> sync_walk_p50_ns=<int> ratio=<float> naive_defer=<..> then_gated=<..>
std::string summary_line(const std::vector<RunResult>& runs, const std::vector<ScenarioResult>& scenarios);

}  // namespace weft_bench
