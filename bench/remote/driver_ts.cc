#include "bench/remote/driver_ts.h"

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <vector>

#include <weft/json.h>

#include "bench/remote/driver_process.h"

namespace weft_remote_bench {

namespace {

double number(const weft::Value& v, const char* key) {
  const weft::Value* x = v.find(key);
  if (!x) return 0;
  if (x->kind() == weft::ValueKind::kFloat) return x->as_double();
  if (x->kind() == weft::ValueKind::kInt) return static_cast<double>(x->as_int());
  return 0;
}

std::string last_json_line(const std::string& out) {
  std::istringstream in(out);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') last = line;
  return last;
}

}  // namespace

std::string check_ts_setup(const Options& o) {
  namespace fs = std::filesystem;
  const std::string hint =
      " (python3 tests/support/ts_peer_test.py installs the SDK with npm ci into build/ts_peer; "
      "or pass --ts-modules DIR, or --no-ts)";
  if (!fs::exists(fs::path(o.ts_modules) / "weave" / "package.json"))
    return "the Weave TypeScript SDK is not installed in " + o.ts_modules + hint;
  if (!fs::exists(o.ts_script)) return "the TS program " + o.ts_script + " is missing";
  std::string out, error;
  double cpu = 0;
  if (!run_captured({o.node, "--version"}, child_environment({}), "", out, cpu, error))
    return "Node.js does not run (" + error + "); pass --node PATH, or --no-ts";
  return {};
}

CaseResult run_ts_workload(const Options& o, const Workload& w, size_t concurrency, const std::string& sink_url,
                           const std::string& api_key, const std::string& scratch_dir) {
  CaseResult r;
  r.name = concurrency == 1 ? "ts await" : "ts x" + std::to_string(concurrency);
  r.note = concurrency == 1 ? "each call awaited" : std::to_string(concurrency) + " calls in flight";
  // HOME and the working directory are scratch: no netrc or wandb settings of the
  // machine are read, and the SDK's weaveErrors.log lands there.
  const std::string home = scratch_dir + "/ts-home";
  std::filesystem::create_directories(home);
  const std::vector<std::string> env = child_environment({
      "HOME=" + home,
      "NODE_PATH=" + o.ts_modules,
      "WF_TRACE_SERVER_URL=" + sink_url,
      "WANDB_BASE_URL=" + sink_url,
      "WANDB_API_KEY=" + api_key,
      "WEFT_BENCH_PROJECT=weft-bench/ts",
      "WEAVE_PRINT_CALL_LINK=false",
  });
  std::string out, error;
  double child_cpu = 0;
  const bool ran = run_captured({o.node, o.ts_script, "--calls", std::to_string(w.calls), "--objects-per-call",
                                 std::to_string(w.objects_per_call), "--rows", std::to_string(w.rows),
                                 "--concurrency", std::to_string(concurrency)},
                                env, home, out, child_cpu, error);
  const std::string line = last_json_line(out);
  if (!ran) {
    r.error = error + (out.empty() ? std::string() : "; its output: " + out.substr(0, 2000));
    return r;
  }
  weft::Result<weft::Value> v = weft::parse_json(line);
  if (line.empty() || !v || v->kind() != weft::ValueKind::kDict) {
    r.error = "ts_bench.mjs printed no JSON line; its output: " + out.substr(0, 2000);
    return r;
  }
  r.wall_s = number(*v, "wall_ms") / 1e3;
  r.calls_s = (number(*v, "dataset_ms") + number(*v, "calls_ms")) / 1e3;
  r.drain_s = number(*v, "drain_ms") / 1e3;
  // process.cpuUsage over the measured window (node's start-up and module loading are
  // outside it, as weft's Runtime start is).
  r.cpu_s = (number(*v, "cpu_user_ms") + number(*v, "cpu_system_ms")) / 1e3;
  const double n = static_cast<double>(std::max<size_t>(1, w.calls));
  r.app_ns_per_call = concurrency == 1 ? number(*v, "call_await_ms") * 1e6 / n : number(*v, "calls_ms") * 1e6 / n;
  if (const weft::Value* sdk = v->find("sdk"); sdk && sdk->kind() == weft::ValueKind::kString)
    r.note += ", " + std::string(sdk->as_string());
  r.ok = true;
  return r;
}

}  // namespace weft_remote_bench
