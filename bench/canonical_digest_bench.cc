// Canonicalise + digest (object_digest) against the floor: raw SHA-256 of the same
// canonical bytes. Values are LLM-trace-like (nested dicts, prose strings with some
// non-ASCII, floats, ints, lists) at ~200 B, ~2 KB and ~1 MB of canonical JSON.
//
// Budget: at 2 KB, object_digest must cost <= 2.5x the raw SHA-256 (counter x_sha256).
#include <benchmark/benchmark.h>
#include <time.h>

#include <string>
#include <vector>

#include <weft/digest.h>
#include <weft/json.h>
#include <weft/value.h>

namespace {

using weft::Value;

Value str(std::string s) { return Value::string(std::move(s)); }
Value num(double d) { return Value::number(d); }
Value integer(int64_t i) { return Value::integer(i); }

// Deterministic prose: words, punctuation, the odd accented or CJK word and a newline,
// as model output has (non-ASCII is escaped to \uXXXX, which costs the writer most).
std::string prose(size_t bytes, uint32_t seed) {
  static const char* const kWords[] = {
      "the",   "model", "returns", "a",     "summary", "of",       "café",  "results",
      "with",  "score", "0.87",    "and",   "東京",    "context.", "It",    "notes",
      "that",  "each",  "answer",  "cites", "sources", "\"quoted\"", "—",   "briefly;"};
  std::string out;
  uint32_t x = seed * 2654435761u + 1;
  while (out.size() < bytes) {
    x = x * 1664525u + 1013904223u;
    out += kWords[(x >> 8) % (sizeof kWords / sizeof kWords[0])];
    out += ((x >> 20) % 17 == 0) ? "\n" : " ";
  }
  return out;
}

Value request_200b() {
  return Value::dict({
      {"model", str("gpt-4o-mini")},
      {"temperature", num(0.7)},
      {"max_tokens", integer(256)},
      {"messages", Value::list({Value::dict({{"role", str("user")},
                                             {"content", str(prose(60, 1))}})})},
      {"stream", Value::boolean(false)},
  });
}

Value completion_2kb() {
  return Value::dict({
      {"id", str("chatcmpl-9xKq2mZtY7fP3bN8wR1sL0aVhD4eG6uJ")},
      {"object", str("chat.completion")},
      {"created", integer(1732700000)},
      {"model", str("gpt-4o-2024-08-06")},
      {"choices",
       Value::list({Value::dict({
           {"index", integer(0)},
           {"message", Value::dict({{"role", str("assistant")},
                                    {"content", str(prose(1150, 2))},
                                    {"refusal", Value::null()}})},
           {"logprobs", Value::null()},
           {"finish_reason", str("stop")},
       })})},
      {"usage",
       Value::dict({{"prompt_tokens", integer(412)},
                    {"completion_tokens", integer(268)},
                    {"total_tokens", integer(680)},
                    {"prompt_tokens_details", Value::dict({{"cached_tokens", integer(0)}})}})},
      {"scores", Value::dict({{"relevance", num(0.8731)},
                              {"faithfulness", num(0.91)},
                              {"latency_s", num(1.2345678)},
                              {"cost_usd", num(0.00413)}})},
      {"system_fingerprint", str("fp_7f6be3efb0")},
  });
}

Value eval_rows_1mb() {
  std::vector<Value> rows;
  for (int i = 0; rows.size() < 1300; ++i) {
    std::vector<Value> tokens;
    for (int t = 0; t < 12; ++t) tokens.push_back(integer((i * 7919 + t * 104729) % 100000));
    rows.push_back(Value::dict({
        {"id", integer(i)},
        {"input", Value::dict({{"question", str(prose(120, 3 * i))}})},
        {"output", str(prose(260, 3 * i + 1))},
        {"expected", str(prose(40, 3 * i + 2))},
        {"scores", Value::dict({{"exact_match", Value::boolean(i % 3 == 0)},
                                {"f1", num(0.5 + (i % 97) / 200.0)},
                                {"bleu", num((i % 89) / 91.0)}})},
        {"latency_ms", num(350.25 + i * 1.5)},
        {"token_ids", Value::list(std::move(tokens))},
        {"tags", Value::list({str("eval"), str(i % 2 ? "train" : "holdout")})},
    }));
  }
  return Value::dict({{"rows", Value::list(std::move(rows))}, {"version", integer(3)}});
}

const Value& value_for(int64_t which) {
  static const Value kValues[] = {request_200b(), completion_2kb(), eval_rows_1mb()};
  return kValues[which];
}

// This thread's CPU time: the ratio stays meaningful when other processes load the machine.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e9 + static_cast<double>(ts.tv_nsec);
}

// CPU nanoseconds per raw SHA-256 of `bytes`, measured outside the benchmark loop.
double sha256_ns(const std::string& bytes) {
  const int reps = bytes.size() > 100000 ? 50 : 20000;
  const double t0 = thread_cpu_ns();
  for (int i = 0; i < reps; ++i) benchmark::DoNotOptimize(weft::Sha256::of(bytes));
  return (thread_cpu_ns() - t0) / reps;
}

void set_common(benchmark::State& state, size_t canonical_bytes) {
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * canonical_bytes));
  state.counters["canonical_bytes"] = static_cast<double>(canonical_bytes);
}

// canonicalise + SHA-256 + base64: the digest the runtime computes per saved object.
void BM_ObjectDigest(benchmark::State& state) {
  const Value& v = value_for(state.range(0));
  const std::string canonical = weft::canonical_json(v);
  const double floor_ns = sha256_ns(canonical);
  const double t0 = thread_cpu_ns();
  for (auto _ : state) benchmark::DoNotOptimize(weft::object_digest(v));
  const double per_iter = (thread_cpu_ns() - t0) / static_cast<double>(state.iterations());
  set_common(state, canonical.size());
  state.counters["x_sha256"] = per_iter / floor_ns;  // budget at 2 KB: <= 2.5
}
BENCHMARK(BM_ObjectDigest)->Arg(0)->Arg(1)->Arg(2)->ArgName("size");

// Canonical JSON alone (writer cost, no hashing).
void BM_CanonicalJson(benchmark::State& state) {
  const Value& v = value_for(state.range(0));
  std::string out;
  for (auto _ : state) {
    out.clear();
    weft::write_canonical_json(v, out);
    benchmark::DoNotOptimize(out.data());
  }
  set_common(state, out.size());
}
BENCHMARK(BM_CanonicalJson)->Arg(0)->Arg(1)->Arg(2)->ArgName("size");

// The floor: SHA-256 of the canonical bytes, nothing else.
void BM_Sha256Floor(benchmark::State& state) {
  const std::string canonical = weft::canonical_json(value_for(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(weft::Sha256::of(canonical));
  set_common(state, canonical.size());
}
BENCHMARK(BM_Sha256Floor)->Arg(0)->Arg(1)->Arg(2)->ArgName("size");

}  // namespace
