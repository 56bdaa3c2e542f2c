// weft-bench-sink: a fast loopback Weave trace-server sink for bench/remote (weft and the
// TypeScript SDK deliver the same workload to it; docs/BENCH.md). Not a test server:
// tests/support/fake_weave_server.py is the strict one. This one answers as quickly as it
// can and counts, so that the client, not the server, is what a run measures.
//
//   weft-bench-sink --api-key KEY [--port 0] [--port-file PATH] [--host 127.0.0.1]
//                   [--threads 64] [--max-seconds 3600]
//
// Routes (HTTP Basic auth, password = KEY, any user name): POST /obj/create, /table/create,
// /table/create_from_digests, /table/query, /file/create, /files/create (multipart),
// /call/upsert_batch, /v2/{entity}/{project}/calls/complete, .../call/start, .../call/end;
// GET /server_info, /health. Without auth: GET /__stats (the counters as JSON, plus the
// sink's own CPU time). Anything else is a 404, counted under "other".
//
// It binds loopback only (a non-loopback --host is refused), prints its port to
// --port-file once it accepts connections, and exits on SIGTERM or SIGINT (or after
// --max-seconds, so a forgotten sink does not linger), with a summary line on stderr.
#include <httplib.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>

#include "bench/remote/sink_routes.h"
#include "bench/remote/sink_stats.h"

namespace weft_bench_sink {
namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string port_file;
  std::string api_key;
  size_t threads = 64;
  int max_seconds = 3600;
};

constexpr const char* kUsage =
    "usage: weft-bench-sink --api-key KEY [--port N] [--port-file PATH] [--host 127.0.0.1|::1|localhost]\n"
    "                       [--threads N] [--max-seconds S]\n"
    "A loopback Weave trace-server sink for bench/remote: answers, counts (GET /__stats), exits on SIGTERM.\n";

bool parse_options(int argc, char** argv, Options& o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    const char* v = nullptr;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (a == "--host" && (v = next())) {
      o.host = v;
    } else if (a == "--port" && (v = next())) {
      o.port = std::atoi(v);
    } else if (a == "--port-file" && (v = next())) {
      o.port_file = v;
    } else if (a == "--api-key" && (v = next())) {
      o.api_key = v;
    } else if (a == "--threads" && (v = next())) {
      o.threads = static_cast<size_t>(std::max(1, std::atoi(v)));
    } else if (a == "--max-seconds" && (v = next())) {
      o.max_seconds = std::max(1, std::atoi(v));
    } else {
      std::fprintf(stderr, "weft-bench-sink: unknown or incomplete option '%s'\n%s", a.c_str(), kUsage);
      return false;
    }
  }
  if (o.api_key.empty()) {
    std::fprintf(stderr, "weft-bench-sink: --api-key is required\n");
    return false;
  }
  if (o.host != "127.0.0.1" && o.host != "::1" && o.host != "localhost") {
    std::fprintf(stderr, "weft-bench-sink: --host must be a loopback address, not '%s'\n", o.host.c_str());
    return false;
  }
  if (o.host == "localhost") o.host = "127.0.0.1";
  return true;
}

std::string base64(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

// HTTP Basic: "Basic base64(user:password)"; the password must be the key, the user name
// is not checked (as W&B does not). The clients' own form, "api:KEY", is one comparison.
class Auth {
 public:
  explicit Auth(const std::string& key) : key_(key), expected_("Basic " + base64("api:" + key)) {}

  bool ok(const httplib::Request& req) const {
    const std::string h = req.get_header_value("Authorization");
    if (h == expected_) return true;
    if (h.rfind("Basic ", 0) != 0) return false;
    std::string enc = h.substr(6);
    if (enc.empty() || enc.size() % 4 != 0) return false;
    std::string dec(enc.size() / 4 * 3, '\0');
    int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(dec.data()),
                            reinterpret_cast<const unsigned char*>(enc.data()), static_cast<int>(enc.size()));
    if (n < 0) return false;
    size_t len = static_cast<size_t>(n);
    for (size_t i = enc.size(); i > 0 && enc[i - 1] == '='; --i) --len;  // DecodeBlock counts padding
    dec.resize(len);
    size_t colon = dec.find(':');
    return colon != std::string::npos && dec.compare(colon + 1, std::string::npos, key_) == 0;
  }

 private:
  std::string key_;
  std::string expected_;
};

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

bool write_port_file(const std::string& path, int port) {
  // Written whole, then renamed: a reader polling for the file never sees half a number.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << port << "\n";
    if (!f) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

// httplib gzips an answer whose Content-Type is exactly "application/json" when the client
// accepts gzip (the TS SDK's fetch does, libcurl as weft uses it does not): both sides then
// pay a zlib stream per answer of a few dozen bytes (14% of node's CPU when measured).
// Servers that compress skip answers this small (a minimum size: 500 bytes in Starlette's
// GZipMiddleware). The charset parameter keeps httplib from compressing.
constexpr const char* kJson = "application/json; charset=utf-8";

void answer(httplib::Response& res, const Reply& reply) {
  res.status = reply.status;
  res.set_content(reply.body, kJson);
}

int run(const Options& o) {
  // SIGTERM/SIGINT are taken by the watcher thread alone (blocked here, before any thread
  // starts, so every thread inherits the mask); a client hanging up must not kill us.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  SinkStats stats;
  SinkApi api(stats);
  Auth auth(o.api_key);
  const auto started = Clock::now();

  httplib::Server svr;
  const size_t threads = o.threads;
  // httplib serves one connection per pool thread for as long as it is kept alive, so the
  // pool must be larger than the clients' connections (weft: max_in_flight 12; the TS SDK:
  // up to 20 requests at once).
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_tcp_nodelay(true);  // headers and body are two writes: no Nagle delay between them
  svr.set_keep_alive_max_count(1'000'000);  // httplib's default closes after 5 requests
  svr.set_keep_alive_timeout(30);
  svr.set_read_timeout(30);
  svr.set_write_timeout(30);
  std::atomic<int> listen_fd{-1};
  svr.set_socket_options([&listen_fd](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));  // not SO_REUSEPORT
    listen_fd.store(sock);
  });

  svr.Post(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
    const Route route = route_of(req.path);
    size_t bytes = req.body.size();
    for (const auto& part : req.files) bytes += part.second.content.size();  // multipart
    Reply reply;
    if (!auth.ok(req)) {
      stats.auth_failures.fetch_add(1, std::memory_order_relaxed);
      res.set_header("WWW-Authenticate", "Basic realm=\"weave\"");
      reply = Reply{401, "{\"detail\": \"Invalid or missing API key\"}"};
    } else {
      switch (route) {
        case Route::kObjCreate: reply = api.obj_create(req.body); break;
        case Route::kUpsertBatch: reply = api.upsert_batch(req.body); break;
        case Route::kTableCreate: reply = api.table_create(req.body); break;
        case Route::kTableFromDigests: reply = api.table_from_digests(req.body); break;
        case Route::kTableQuery: reply = api.table_query(req.body); break;
        case Route::kCallsComplete: reply = api.calls_complete(req.body); break;
        case Route::kV2CallStart: reply = api.v2_call_start(req.body); break;
        case Route::kV2CallEnd: reply = api.v2_call_end(req.body); break;
        case Route::kFileCreate:
        case Route::kFilesCreate:
          if (!req.has_file("file")) {
            reply = Reply{422, "{\"detail\": \"multipart part 'file' missing\"}"};
          } else {
            const std::string expected =
                req.has_file("expected_digest") ? req.get_file_value("expected_digest").content : std::string();
            reply = api.file_create(req.get_file_value("file").content, expected);
          }
          break;
        default: reply = Reply{404, "{\"detail\": \"Not Found\"}"}; break;
      }
    }
    stats.count(route, reply.status, bytes);
    answer(res, reply);
  });

  svr.Get(R"(/.*)", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.path == "/__stats") {
      const double up = std::chrono::duration<double>(Clock::now() - started).count();
      char extra[160];
      std::snprintf(extra, sizeof(extra), "\"cpu_s\": %.6f, \"uptime_s\": %.3f, \"threads\": %zu", cpu_seconds(), up,
                    threads);
      res.set_content(stats_json(stats, extra), kJson);
      return;
    }
    const Route route = route_of(req.path);
    Reply reply;
    if (!auth.ok(req)) {
      stats.auth_failures.fetch_add(1, std::memory_order_relaxed);
      reply = Reply{401, "{\"detail\": \"Invalid or missing API key\"}"};
    } else if (route == Route::kServerInfo) {
      reply = Reply{200, "{\"min_required_weave_python_version\": \"0.0.0\", \"trace_server_version\": \"weft-bench-sink\"}"};
    } else if (route == Route::kHealth) {
      reply = Reply{200, "{\"status\": \"ok\"}"};
    } else {
      reply = Reply{route == Route::kOther ? 404 : 405, "{\"detail\": \"Not Found\"}"};
    }
    stats.count(route, reply.status, 0);
    answer(res, reply);
  });

  const int port = o.port == 0 ? svr.bind_to_any_port(o.host) : (svr.bind_to_port(o.host, o.port) ? o.port : -1);
  if (port <= 0) {
    std::fprintf(stderr, "weft-bench-sink: cannot bind %s:%d\n", o.host.c_str(), o.port);
    return 2;
  }
  // httplib listens with a backlog of 5: a client opening a dozen connections at once
  // would see SYNs dropped and retried a second later. listen() again raises it.
  if (listen_fd.load() >= 0) ::listen(listen_fd.load(), 1024);

  std::atomic<bool> done{false};
  std::atomic<bool> stop{false};
  std::thread watcher([&] {
    const auto deadline = started + std::chrono::seconds(o.max_seconds);
    while (!done.load()) {
      timespec wait{0, 200'000'000};
      if (sigtimedwait(&stop_signals, nullptr, &wait) > 0 || Clock::now() > deadline) stop.store(true);
      // Repeated until the accept loop has ended: a stop() before it started is a no-op.
      if (stop.load()) svr.stop();
    }
  });
  if (!o.port_file.empty() && !write_port_file(o.port_file, port)) {
    std::fprintf(stderr, "weft-bench-sink: cannot write %s\n", o.port_file.c_str());
    stop.store(true);
  }
  svr.listen_after_bind();
  done.store(true);
  watcher.join();

  uint64_t requests = 0;
  for (const auto& r : stats.routes) requests += r.requests.load();
  std::fprintf(stderr, "weft-bench-sink: %llu requests, %llu objects, %llu call starts, %llu ends, %llu complete; cpu %.3f s\n",
               static_cast<unsigned long long>(requests), static_cast<unsigned long long>(stats.objects.load()),
               static_cast<unsigned long long>(stats.call_starts.load()),
               static_cast<unsigned long long>(stats.call_ends.load()),
               static_cast<unsigned long long>(stats.calls_completed.load()), cpu_seconds());
  return 0;
}

}  // namespace
}  // namespace weft_bench_sink

int main(int argc, char** argv) {
  weft_bench_sink::Options o;
  if (!weft_bench_sink::parse_options(argc, argv, o)) return 2;
  return weft_bench_sink::run(o);
}
