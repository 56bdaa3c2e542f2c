// Metrics: serve GET /metrics (Prometheus text) while tracing, and read the same figures
// in-process with metrics(). docs/METRICS.md describes every metric.
//
//   build/examples/metrics [store path]
//
// The endpoint listens on an ephemeral port of 127.0.0.1 here; a service would give a fixed
// "host:port" and point Prometheus (or `weft top --url host:port`) at it.
#include <weft/weft.h>

#include <chrono>
#include <cstdio>
#include <string>

int main(int argc, char** argv) {
  weft::Config cfg;
  cfg.project = "acme/metrics";
  cfg.store_path = argc > 1 ? argv[1] : "metrics.db";
  cfg.metrics_listen = "127.0.0.1:0";
  weft::Runtime rt(cfg);
  std::printf("serving http://127.0.0.1:%d/metrics\n", rt.metrics_port());

  auto square = weft::op(rt, "square", {"x"}, [](int x) { return x * x; });
  long total = 0;
  for (int i = 0; i < 1000; ++i) total += square(i);
  if (!rt.flush(std::chrono::seconds(10))) {
    std::fprintf(stderr, "metrics: not everything reached the store in 10 s\n");
    return 1;
  }

  weft::MetricsSnapshot m = rt.metrics();
  weft::RuntimeStats s = rt.stats();
  std::printf("sum of squares %ld; %llu calls ended, %llu store batches, %llu errors\n", total,
              static_cast<unsigned long long>(s.call_end),
              static_cast<unsigned long long>(s.store_batches),
              static_cast<unsigned long long>(s.errors_reported));
  std::string text = rt.metrics_text();  // what GET /metrics serves
  std::printf("%zu bytes of Prometheus text, %zu actor kinds metered\n", text.size(),
              m.kinds.size());
  return s.call_end == 1000 ? 0 : 1;
}
