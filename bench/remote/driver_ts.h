// The TypeScript side: runs bench/remote/ts_bench.mjs with node against a sink and turns
// its JSON line into a CaseResult (the caller adds the sink's counts).
#pragma once

#include <string>

#include "bench/remote/driver_options.h"
#include "bench/remote/driver_results.h"
#include "bench/remote/driver_workload.h"

namespace weft_remote_bench {

// Checks that node runs and the SDK is installed where the options say; an empty string
// when so, else what is missing and how to get it.
std::string check_ts_setup(const Options& o);

CaseResult run_ts_workload(const Options& o, const Workload& w, size_t concurrency, const std::string& sink_url,
                           const std::string& api_key, const std::string& scratch_dir);

}  // namespace weft_remote_bench
