#include "bench/remote/driver_process.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include <weft/json.h>

extern char** environ;

namespace weft_remote_bench {

namespace {

bool dropped_variable(const std::string& name) {
  std::string lower;
  for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower.size() >= 6 && lower.compare(lower.size() - 6, 6, "_proxy") == 0) return true;
  return name.rfind("WANDB_", 0) == 0 || name.rfind("WF_", 0) == 0 || name.rfind("WEAVE_", 0) == 0;
}

double cpu_of(const rusage& ru) {
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
  std::vector<char*> out;
  for (auto& s : v) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// fork + execvpe. Everything the child touches is prepared before the fork: between fork
// and exec only async-signal-safe calls are allowed in a threaded process.
pid_t spawn(std::vector<std::string> argv, std::vector<std::string> env, const std::string& cwd, int stdout_fd) {
  std::vector<char*> av = c_strings(argv), ev = c_strings(env);
  const char* dir = cwd.empty() ? nullptr : cwd.c_str();
  pid_t pid = fork();
  if (pid != 0) return pid;
  if (stdout_fd >= 0) dup2(stdout_fd, STDOUT_FILENO);
  if (dir && chdir(dir) != 0) _exit(126);
  execvpe(av[0], av.data(), ev.data());
  _exit(127);
}

uint64_t u64(const weft::Value& v, const char* key) {
  const weft::Value* x = v.find(key);
  return x && x->kind() == weft::ValueKind::kInt ? static_cast<uint64_t>(x->as_int()) : 0;
}

}  // namespace

std::vector<std::string> child_environment(const std::vector<std::string>& extra) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    if (!dropped_variable(kv.substr(0, kv.find('=')))) env.push_back(kv);
  }
  env.push_back("NO_PROXY=127.0.0.1,localhost,::1");
  env.push_back("no_proxy=127.0.0.1,localhost,::1");
  env.insert(env.end(), extra.begin(), extra.end());
  return env;
}

void drop_proxy_environment() {
  std::vector<std::string> names;
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    std::string name = kv.substr(0, kv.find('='));
    std::string lower;
    for (char c : name) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    if (lower.size() >= 6 && lower.compare(lower.size() - 6, 6, "_proxy") == 0) names.push_back(name);
  }
  for (const auto& n : names) unsetenv(n.c_str());
  setenv("NO_PROXY", "127.0.0.1,localhost,::1", 1);
}

SinkProcess::~SinkProcess() {
  if (pid_ > 0) stop();
}

bool SinkProcess::start(const std::string& path, const std::string& api_key, const std::string& scratch_dir,
                        std::string& error) {
  const std::string port_file = scratch_dir + "/sink.port";
  std::remove(port_file.c_str());
  pid_ = spawn({path, "--api-key", api_key, "--port", "0", "--port-file", port_file, "--max-seconds", "3600"},
               child_environment({}), "", -1);
  if (pid_ < 0) {
    error = "cannot fork: " + std::string(std::strerror(errno));
    return false;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error = "the sink " + path + " exited at start (status " + std::to_string(status) + ")";
      return false;
    }
    std::ifstream f(port_file);
    if (f >> port_ && port_ > 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  error = "the sink " + path + " did not write its port within 10 s";
  stop();
  return false;
}

SinkCounts SinkProcess::stats() const {
  SinkCounts c;
  httplib::Client cli("127.0.0.1", port_);
  cli.set_connection_timeout(5);
  cli.set_read_timeout(10);
  auto res = cli.Get("/__stats");
  if (!res || res->status != 200) return c;
  weft::Result<weft::Value> v = weft::parse_json(res->body);
  if (!v || v->kind() != weft::ValueKind::kDict) return c;
  c.valid = true;
  c.requests = u64(*v, "requests");
  c.bytes = u64(*v, "bytes");
  c.call_starts = u64(*v, "call_starts");
  c.call_ends = u64(*v, "call_ends");
  c.calls_completed = u64(*v, "calls_completed");
  c.objects = u64(*v, "objects");
  c.objects_hashed = u64(*v, "objects_hashed");
  c.tables = u64(*v, "tables");
  c.rows = u64(*v, "rows");
  c.files = u64(*v, "files");
  if (const weft::Value* routes = v->find("by_route"); routes && routes->kind() == weft::ValueKind::kDict) {
    for (const auto& [route, counts] : routes->entries()) {
      RouteCount r{route, u64(counts, "requests"), u64(counts, "2xx"), u64(counts, "bytes")};
      c.not_ok += r.requests - r.ok;
      c.routes.push_back(std::move(r));
    }
  }
  return c;
}

double SinkProcess::stop() {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  int status = 0;
  rusage ru{};
  while (wait4(pid_, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  return cpu_of(ru);
}

bool run_captured(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& cwd,
                  std::string& out, double& cpu_s, std::string& error) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    error = "pipe: " + std::string(std::strerror(errno));
    return false;
  }
  pid_t pid = spawn(argv, env, cwd, fds[1]);
  close(fds[1]);
  if (pid < 0) {
    close(fds[0]);
    error = "cannot fork: " + std::string(std::strerror(errno));
    return false;
  }
  char buf[65536];
  for (;;) {
    ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    else if (n == 0 || errno != EINTR) break;
  }
  close(fds[0]);
  int status = 0;
  rusage ru{};
  while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  cpu_s = cpu_of(ru);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  if (WIFEXITED(status) && WEXITSTATUS(status) == 127) error = "cannot run '" + argv[0] + "'";
  else if (WIFEXITED(status)) error = "'" + argv[0] + "' exited with status " + std::to_string(WEXITSTATUS(status));
  else error = "'" + argv[0] + "' was killed by signal " + std::to_string(WTERMSIG(status));
  return false;
}

}  // namespace weft_remote_bench
