// weft-remote-bench's output: the cases side by side (one column each), the goals, and one
// JSON line with every figure.
#pragma once

#include <string>
#include <vector>

#include "bench/remote/driver_options.h"
#include "bench/remote/driver_results.h"
#include "bench/remote/driver_workload.h"

namespace weft_remote_bench {

// One case's repeats folded into one: each timing the median over the runs, the counts
// those of the run with the median wall time; ok only if every run was.
CaseResult median_of(const std::vector<CaseResult>& runs);

// The table on stdout (and the errors of cases that failed), then the goals.
void print_report(const std::vector<CaseResult>& cases, const Workload& w, const Options& o);

// {"bench": "weft-remote-bench", "workload": {...}, "cases": [...], "ratios": {...}}
std::string report_json(const std::vector<CaseResult>& cases, const Workload& w, const Options& o);

}  // namespace weft_remote_bench
