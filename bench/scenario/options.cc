#include "bench/scenario/options.h"

#include <cerrno>
#include <cstdlib>
#include <set>
#include <sstream>

namespace weft_bench {

const char* usage_text() {
  return R"(usage: weft-bench [flags]

Reproduces weave PR 6740's experiment in C++: S steps x N traced calls, each under a
per-step parent call, through weft and through three reference models of Weave's Python
client (a thread pool with digest futures), on a null store and on SQLite; then the PR's
paused-store scenario, where the naive deferral starves its pool.

  --steps N          steps (default 30; --quick: 3)
  --ops N            calls per step (default 1460; --quick: 300)
  --threads N        weft scheduler threads in the main runs (default 2)
  --pool N           worker threads of the reference models (default 4)
  --scenario-ops N   predict calls in the paused-store scenario, each scored later
                     (default 64; --quick: 32)
  --stores LIST      comma-separated: null, sqlite (default null,sqlite)
  --designs LIST     comma-separated: weft, pool-sync-walk, pool-naive-defer,
                     pool-then-gated (default all), or weft-caf-sharing (weft on CAF's
                     own sharing scheduler, Config::Scheduler::caf_sharing: not in the
                     default list)
  --quick            a reduced workload that runs in under a minute on 2 cores
  --csv PATH         also write the figures as CSV
  --png PATH         also draw the per-op latency distributions (needs gnuplot)
  --tmp-dir DIR      where each run's fresh SQLite file goes (default /tmp)
  --keep-db          keep those files (their paths are printed) instead of removing them
  --deadlock-confirm S  how long a starved pool must stay starved (default 0.3)
  --stall-timeout S  no progress for this long with work pending = deadlock (default 20)
  --drain-limit S    longest wait for a drain (default 600; --quick: 40)
  --help             this text

The last line printed is:
  summary: weft_p50_ns=<int> sync_walk_p50_ns=<int> ratio=<float> naive_defer=<DEADLOCK|ok> then_gated=<ok|DEADLOCK> cpu_per_object_ratio=<float|n/a>
where cpu_per_object_ratio is weft's process CPU per saved object over pool-then-gated's,
on the same store and in the same run (n/a unless both ran).
)";
}

namespace {

bool parse_size(const std::string& s, size_t min, size_t& out) {
  if (s.empty() || s[0] == '-') return false;
  errno = 0;
  char* end = nullptr;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > 100'000'000ull) return false;
  out = static_cast<size_t>(v);
  return true;
}

bool parse_seconds(const std::string& s, double& out) {
  errno = 0;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || s.empty() || *end != '\0' || !(v > 0) || v > 86400) return false;
  out = v;
  return true;
}

bool parse_list(const std::string& s, const std::set<std::string>& allowed, std::vector<std::string>& out) {
  out.clear();
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!allowed.count(item)) return false;
    bool dup = false;
    for (const auto& o : out) dup |= o == item;
    if (!dup) out.push_back(item);
  }
  return !out.empty();
}

}  // namespace

std::optional<Options> parse_options(int argc, char** argv, std::string& error, bool& help) {
  Options o;
  help = false;
  std::set<std::string> given;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    std::string value;
    bool has_value = false;
    if (auto eq = flag.find('='); flag.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = flag.substr(eq + 1);
      flag = flag.substr(0, eq);
      has_value = true;
    }
    auto need = [&](std::string& v) {
      if (has_value) {
        v = value;
        return true;
      }
      if (i + 1 >= argc) {
        error = "flag " + flag + " needs a value (try --help)";
        return false;
      }
      v = argv[++i];
      return true;
    };
    auto bad = [&](const std::string& v, const char* what) {
      error = "bad value '" + v + "' for " + flag + ": " + what + " (try --help)";
      return std::nullopt;
    };
    if (flag == "--help" || flag == "-h") {
      help = true;
      return std::nullopt;
    }
    if (flag == "--quick" || flag == "--keep-db") {
      if (has_value) return bad(value, "takes no value");
      (flag == "--quick" ? o.quick : o.keep_db) = true;
      continue;
    }
    std::string v;
    size_t n = 0;
    if (flag == "--steps" || flag == "--ops" || flag == "--threads" || flag == "--pool" ||
        flag == "--scenario-ops") {
      if (!need(v)) return std::nullopt;
      if (!parse_size(v, 1, n)) return bad(v, "expected a positive integer");
      if (flag == "--steps") o.steps = n;
      else if (flag == "--ops") o.ops = n;
      else if (flag == "--scenario-ops") o.scenario_ops = n;
      else if (n > 256) return bad(v, "at most 256 threads");
      else if (flag == "--threads") o.threads = static_cast<unsigned>(n);
      else o.pool = static_cast<unsigned>(n);
    } else if (flag == "--stores") {
      if (!need(v)) return std::nullopt;
      if (!parse_list(v, {"null", "sqlite"}, o.stores)) return bad(v, "expected null and/or sqlite");
    } else if (flag == "--designs") {
      if (!need(v)) return std::nullopt;
      if (!parse_list(v, {"weft", "weft-caf-sharing", "pool-sync-walk", "pool-naive-defer", "pool-then-gated"},
                      o.designs))
        return bad(v, "expected weft, weft-caf-sharing, pool-sync-walk, pool-naive-defer, pool-then-gated");
    } else if (flag == "--csv" || flag == "--png" || flag == "--tmp-dir") {
      if (!need(v)) return std::nullopt;
      if (v.empty()) return bad(v, "expected a path");
      (flag == "--csv" ? o.csv_path : flag == "--png" ? o.png_path : o.tmp_dir) = v;
    } else if (flag == "--deadlock-confirm" || flag == "--stall-timeout" || flag == "--drain-limit") {
      if (!need(v)) return std::nullopt;
      double s = 0;
      if (!parse_seconds(v, s)) return bad(v, "expected a positive number of seconds");
      (flag == "--deadlock-confirm" ? o.deadlock_confirm_s
                                    : flag == "--stall-timeout" ? o.stall_timeout_s : o.drain_limit_s) = s;
    } else {
      error = "unknown flag '" + flag + "' (try --help)";
      return std::nullopt;
    }
    given.insert(flag);
  }
  // --quick shrinks what was not set explicitly, so `--quick --steps 2 --ops 50` works.
  if (o.quick) {
    if (!given.count("--steps")) o.steps = 3;
    if (!given.count("--ops")) o.ops = 300;
    if (!given.count("--scenario-ops")) o.scenario_ops = 32;
    if (!given.count("--stall-timeout")) o.stall_timeout_s = 10;
    if (!given.count("--drain-limit")) o.drain_limit_s = 40;
  }
  return o;
}

}  // namespace weft_bench
