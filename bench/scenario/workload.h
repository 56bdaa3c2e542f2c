// The seed benchmark's workload (weave PR 6740: 1460 ops per step, 30 steps) as weft
// values, and the paused-store scenario's evaluation (predict calls whose outputs are
// scored later). Every design gets values built the same way, fresh per run: weft attaches
// its digest cells to value nodes, so no instance is shared between two runs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <weft/value.h>

namespace weft_bench {

// What every run shares: the ops and the one model Object every call takes as input.
struct SharedValues {
  weft::Value step_op;     // the per-step parent call's op
  weft::Value predict_op;  // the op of every traced call
  weft::Value score_op;    // the paused-store scenario's scoring op
  weft::Value eval_op;     // the paused-store scenario's parent op
  weft::Value model;       // ChatModel with a nested Prompt: the same instance every call
};
SharedValues make_shared_values();

// One traced call's values: inputs {"model": <shared>, "example": <fresh Example>} and
// a response Object (usage, three choices each with a message Object, a list of dicts).
struct OpValues {
  weft::Value inputs;
  weft::Value output;
};

class WorkloadBuilder {
 public:
  explicit WorkloadBuilder(uint64_t seed = 1) : rng_(seed) {}
  weft::Value example(size_t index);
  weft::Value response(size_t index, const weft::Value& example);
  OpValues op(const SharedValues& shared, size_t index);
  weft::Value step_inputs(size_t step, size_t ops);
  weft::Value step_output(size_t step, size_t ops);

 private:
  std::string sentence(size_t words);
  std::mt19937_64 rng_;
};

// Bytes of canonical JSON of one op's output / inputs written inline (children not as
// refs), for the docs: the output is "about 2 KB".
size_t output_json_bytes(const OpValues& v);
size_t inputs_json_bytes(const OpValues& v);
// Objects one op saves (example + response + its nested Objects).
size_t objects_per_op(const OpValues& v);

}  // namespace weft_bench
