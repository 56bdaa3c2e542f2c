// A realistic evaluation workload (the demo's, and the tests' and benchmarks'): a dataset
// table with one binary file per row, a model Object with a nested prompt, five ops, and
// per example a predict-and-score call wrapping predict (an LLM-style response Object with
// nested usage, choice and message Objects) and score (which takes predict's output as its
// input, the scenario that starved Weave's thread pool), then a summary call.
#pragma once

#include <cstdint>
#include <vector>

#include <weft/runtime.h>

namespace weft {

struct EvalWorkloadOptions {
  size_t examples = 100;
  uint64_t seed = 1;
};

struct EvalWorkloadResult {
  // Calling-thread time of each start_call + finish pair, in nanoseconds.
  std::vector<int64_t> call_ns;
  size_t calls = 0;
};

// Runs the whole evaluation on the calling thread and returns when every call is finished
// (not when it is stored: flush for that).
EvalWorkloadResult run_eval_workload(Runtime& rt, const EvalWorkloadOptions& options);

}  // namespace weft
