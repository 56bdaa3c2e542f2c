// Ids and timestamps are made on the application's calling thread for every traced call,
// so they must stay in the tens of nanoseconds (budget: new_uuid_v7 < 50 ns).
#include <benchmark/benchmark.h>

#include <weft/ids.h>

namespace {

void BM_NewUuidV7(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(weft::new_uuid_v7());
}
BENCHMARK(BM_NewUuidV7);
BENCHMARK(BM_NewUuidV7)->Threads(2);

void BM_NowUnixMicros(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(weft::now_unix_micros());
}
BENCHMARK(BM_NowUnixMicros);

void BM_FormatIso8601(benchmark::State& state) {
  const int64_t t = weft::now_unix_micros();
  for (auto _ : state) benchmark::DoNotOptimize(weft::format_iso8601_micros(t));
}
BENCHMARK(BM_FormatIso8601);

}  // namespace
