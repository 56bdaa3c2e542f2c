// weft-remote-bench's command line (bench/remote/driver_main.cc has the whole story).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace weft_remote_bench {

struct Options {
  size_t calls = 2000;
  size_t objects_per_call = 2;
  size_t rows = 100;
  size_t repeat = 1;  // each case this many times; the report shows medians
  bool warmup = true;
  // Which cases run (--cases); --no-ts drops ts. For profiling one case alone.
  bool remote = true;
  bool sqlite = true;
  bool ts = true;
  std::vector<size_t> ts_concurrency = {1, 16};
  // "on", "off" or "both": the remote store's durable outbox (the product default is on).
  std::string outbox = "on";
  unsigned max_in_flight = 0;  // RemoteOptions::max_in_flight; 0: the product default (12)
  std::string node = "node";
  std::string ts_modules;  // default: $WEFT_TS_PEER_WORK_DIR/node_modules, else <src>/build/ts_peer/node_modules
  std::string ts_script;   // default: <src>/bench/remote/ts_bench.mjs
  std::string sink;        // default: weft-bench-sink next to this program
  std::string json_path;   // also write the JSON line here
  bool keep = false;       // keep the scratch directory (SQLite file, outbox)
};

// Parses argv; on --help prints the usage and exits 0, on an error prints it and exits 2.
Options parse_options(int argc, char** argv);

}  // namespace weft_remote_bench
