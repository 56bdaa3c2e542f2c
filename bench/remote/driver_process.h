// Child processes of weft-remote-bench: the sink and node. Separate processes, so that the
// client's CPU (getrusage of the benchmark, process.cpuUsage of node) is the client's
// alone, and the sink's is read from its own rusage.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "bench/remote/driver_results.h"

namespace weft_remote_bench {

// The environment children get: this process's, without proxies and without W&B / Weave
// settings (WANDB_*, WF_*, WEAVE_*), plus `extra` ("NAME=value"). With no proxy variable
// set, nothing is routed through another host.
std::vector<std::string> child_environment(const std::vector<std::string>& extra);

// Removes the proxy variables from this process's own environment (libcurl honours them).
void drop_proxy_environment();

// One weft-bench-sink process, started fresh for each case (so no state or counter of an
// earlier case is seen), stopped with SIGTERM.
class SinkProcess {
 public:
  SinkProcess() = default;
  ~SinkProcess();
  SinkProcess(const SinkProcess&) = delete;
  SinkProcess& operator=(const SinkProcess&) = delete;

  // Starts `path` on a free loopback port (written to a port file in `scratch_dir`); false
  // with `error` set if it did not come up within 10 s.
  bool start(const std::string& path, const std::string& api_key, const std::string& scratch_dir,
             std::string& error);
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // GET /__stats, parsed.
  SinkCounts stats() const;
  // SIGTERM, then wait; returns the sink's CPU seconds over its life (its rusage).
  double stop();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

// Runs argv[0] (searched on PATH) with `env` in `cwd`, its stdout captured, stderr passed
// through; waits for it. Returns false if it could not start or exited non-zero (`error`
// says which). `cpu_s`: the child's CPU (user + system) from its rusage.
bool run_captured(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd,
                  std::string& out, double& cpu_s, std::string& error);

}  // namespace weft_remote_bench
