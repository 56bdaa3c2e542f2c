#include "bench/remote/driver_options.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace weft_remote_bench {

namespace {

constexpr const char* kUsage = R"(usage: weft-remote-bench [options]

weft (remote store, and SQLite store) and the official Weave TypeScript SDK deliver the same
workload to weft-bench-sink, a fast loopback trace server started as a separate process;
prints both side by side (a table, then one JSON line). Not run by CI; docs/BENCH.md.

Workload: one dataset table of R rows, then N calls of op `predict`, each taking one shared
model Object as input and returning {"text", "parts": [K fresh Objects]} (saved as refs).

  --calls N              calls (default 2000)
  --objects-per-call K   fresh Objects in each call's output (default 2)
  --rows R               rows of the dataset table (default 100)
  --repeat R             run every case R times and report medians (default 1)
  --no-warmup            skip the discarded short weft runs made first
  --outbox on|off|both   the remote store's durable outbox (default on, the product default)
  --max-in-flight N      the remote store's HTTP requests in flight (default: RemoteOptions' 12)
  --ts / --no-ts         run the TypeScript SDK too (default: --ts)
  --cases LIST           which cases run, of remote,sqlite,ts (default: all three)
  --ts-concurrency LIST  TS calls in flight, a run per entry (default 1,16; 1 = each awaited)
  --node PATH            Node.js (default: node on PATH)
  --ts-modules DIR       node_modules holding `weave` (default: $WEFT_TS_PEER_WORK_DIR/node_modules,
                         else build/ts_peer/node_modules in the source tree, where
                         tests/support/ts_peer_test.py installs it with npm ci)
  --ts-script PATH       the TS program (default: bench/remote/ts_bench.mjs in the source tree)
  --sink PATH            the sink (default: weft-bench-sink next to this program)
  --json PATH            also write the JSON line to PATH
  --keep                 keep the scratch directory (SQLite file, outbox)
  --help                 this text
)";

[[noreturn]] void fail(const std::string& why) {
  std::fprintf(stderr, "weft-remote-bench: %s\n\n%s", why.c_str(), kUsage);
  std::exit(2);
}

size_t number(const std::string& opt, const char* v, size_t min) {
  char* end = nullptr;
  unsigned long long n = std::strtoull(v, &end, 10);
  if (!*v || *end || n < min) fail(opt + " takes a number >= " + std::to_string(min) + ", not '" + v + "'");
  return static_cast<size_t>(n);
}

std::string self_dir() {
  std::error_code ec;
  auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string(".") : p.parent_path().string();
}

}  // namespace

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) fail(a + " needs a value");
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--calls") {
      o.calls = number(a, value(), 1);
    } else if (a == "--objects-per-call") {
      o.objects_per_call = number(a, value(), 0);
    } else if (a == "--rows") {
      o.rows = number(a, value(), 1);
    } else if (a == "--repeat") {
      o.repeat = number(a, value(), 1);
    } else if (a == "--no-warmup") {
      o.warmup = false;
    } else if (a == "--outbox") {
      o.outbox = value();
      if (o.outbox != "on" && o.outbox != "off" && o.outbox != "both") fail("--outbox takes on, off or both");
    } else if (a == "--max-in-flight") {
      o.max_in_flight = static_cast<unsigned>(number(a, value(), 1));
    } else if (a == "--ts") {
      o.ts = true;
    } else if (a == "--no-ts") {
      o.ts = false;
    } else if (a == "--cases") {
      const std::string list = "," + std::string(value()) + ",";
      o.remote = list.find(",remote,") != std::string::npos;
      o.sqlite = list.find(",sqlite,") != std::string::npos;
      o.ts = list.find(",ts,") != std::string::npos;
      if (!o.remote && !o.sqlite && !o.ts) fail("--cases takes a list of remote, sqlite, ts");
    } else if (a == "--ts-concurrency") {
      o.ts_concurrency.clear();
      std::string list = value();
      size_t pos = 0;
      while (pos <= list.size()) {
        size_t comma = list.find(',', pos);
        if (comma == std::string::npos) comma = list.size();
        o.ts_concurrency.push_back(number(a, list.substr(pos, comma - pos).c_str(), 1));
        pos = comma + 1;
      }
    } else if (a == "--node") {
      o.node = value();
    } else if (a == "--ts-modules") {
      o.ts_modules = value();
    } else if (a == "--ts-script") {
      o.ts_script = value();
    } else if (a == "--sink") {
      o.sink = value();
    } else if (a == "--json") {
      o.json_path = value();
    } else if (a == "--keep") {
      o.keep = true;
    } else {
      fail("unknown option '" + a + "'");
    }
  }
  const std::string src = WEFT_SOURCE_DIR;
  if (o.ts_modules.empty()) {
    const char* work = std::getenv("WEFT_TS_PEER_WORK_DIR");
    o.ts_modules = (work && *work ? std::string(work) : src + "/build/ts_peer") + "/node_modules";
  }
  if (o.ts_script.empty()) o.ts_script = src + "/bench/remote/ts_bench.mjs";
  if (o.sink.empty()) o.sink = self_dir() + "/weft-bench-sink";
  return o;
}

}  // namespace weft_remote_bench
