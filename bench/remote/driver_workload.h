// The benchmark's workload on weft's public API (the TS twin is bench/remote/ts_bench.mjs).
//
// One dataset Object holding a Table of R rows, saved first; then N calls of op `predict`
// on the calling thread, each with inputs {"model": <one shared model Object>, "question"}
// and output {"text": ..., "parts": [K fresh Part Objects]}. Ref-free Objects, so weft
// digests them locally and a call never waits for the server; the dataset Object holds a
// ref (its table), so its digest is the server's (a round trip, as for the TS SDK).
#pragma once

#include <cstddef>
#include <string>

#include <weft/config.h>

#include "bench/remote/driver_results.h"

namespace weft_remote_bench {

struct Workload {
  size_t calls = 2000;
  size_t objects_per_call = 2;
  size_t rows = 100;
};

// The objects a run saves: the parts, the model, the dataset Object and the op.
inline size_t expected_objects_of(const Workload& w) { return w.calls * w.objects_per_call + 3; }

// Opens a Runtime with `config`, runs the workload, flushes (at most 10 min) and fills in
// everything but `server` (the caller reads the sink). `calls`/`objects` come from the
// runtime's written counts; a remote caller replaces them with the sink's.
CaseResult run_weft_workload(weft::Config config, const Workload& w, const std::string& name);

}  // namespace weft_remote_bench
