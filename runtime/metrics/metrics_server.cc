// MetricsServer (runtime/metrics_server.h): GET /metrics over cpp-httplib.
//
// Debian's cpp-httplib is a compiled library; its header must be seen with the macros the
// library was built with (CMakeLists.txt defines them for this file), or class layouts
// differ. Binding happens on the caller's thread (bind_to_port), so a taken port is an
// error from start(); only the accept loop (listen_after_bind) runs on the server thread.
#include "runtime/metrics/metrics_server.h"

#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include <weft/runtime.h>

#include "runtime/metrics/metrics_json.h"
#include "runtime/platform/thread_name.h"

namespace weft {

namespace {

struct ListenAddress {
  std::string host;  // as given, without IPv6 brackets
  int port = 0;
  int family = AF_UNSPEC;
};

// "host:port": an IPv4 literal, "[IPv6]" or "localhost"; port 0-65535 (0: any free port).
Result<ListenAddress> parse_listen_address(const std::string& listen) {
  auto bad = [&](const std::string& why) {
    return Status::invalid_argument("bad listen address '" + listen + "': " + why +
                         " (expected HOST:PORT, e.g. 127.0.0.1:9464 or [::1]:9464)");
  };
  ListenAddress a;
  std::string port;
  if (!listen.empty() && listen[0] == '[') {
    size_t close = listen.find(']');
    if (close == std::string::npos) return bad("missing ']' after the IPv6 address");
    a.host = listen.substr(1, close - 1);
    if (close + 1 >= listen.size() || listen[close + 1] != ':') return bad("missing port");
    port = listen.substr(close + 2);
  } else {
    size_t colon = listen.rfind(':');
    if (colon == std::string::npos) return bad("missing port");
    a.host = listen.substr(0, colon);
    port = listen.substr(colon + 1);
    if (a.host.find(':') != std::string::npos) return bad("an IPv6 address needs brackets");
  }
  if (a.host.empty()) return bad("missing host");
  if (port.empty()) return bad("missing port");
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos)
    return bad("port '" + port + "' is not a number from 0 to 65535");
  a.port = std::stoi(port);
  if (a.port > 65535) return bad("port '" + port + "' is not a number from 0 to 65535");

  // Literals only (and "localhost"): a name lookup at start-up could block or be ambiguous.
  in_addr v4{};
  in6_addr v6{};
  if (a.host == "localhost") {
    a.host = "127.0.0.1";
    a.family = AF_INET;
  } else if (inet_pton(AF_INET, a.host.c_str(), &v4) == 1) {
    a.family = AF_INET;
  } else if (inet_pton(AF_INET6, a.host.c_str(), &v6) == 1) {
    a.family = AF_INET6;
  } else {
    return bad("host '" + a.host + "' is not an IPv4 or IPv6 address or 'localhost'");
  }
  return a;
}

// SO_REUSEADDR only. httplib's default also sets SO_REUSEPORT, which would let a second
// process bind a port that is already served and silently share it.
void listen_socket_options(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> accept_loop_done{false};
  int port = 0;
};

Result<std::unique_ptr<MetricsServer>> MetricsServer::start(const Runtime& rt, const std::string& listen) {
  auto addr = parse_listen_address(listen);
  if (!addr) return addr.status();

  auto impl = std::make_unique<Impl>();
  httplib::Server& svr = impl->server;
  svr.set_address_family(addr->family);
  svr.set_socket_options(listen_socket_options);
  svr.set_tcp_nodelay(true);  // else Nagle + delayed ACK cost ~40 ms per keep-alive scrape
  // A scrape endpoint needs little: two workers, not httplib's default of eight. Short
  // keep-alive so the destructor's join does not wait long on an idle scraper connection.
  svr.new_task_queue = [] { return new httplib::ThreadPool(2); };
  svr.set_keep_alive_timeout(1);
  svr.set_read_timeout(5);
  svr.set_write_timeout(5);
  // The handler only reads the metrics (relaxed atomics, seqlocks): no actor is blocked.
  svr.Get("/metrics", [&rt](const httplib::Request&, httplib::Response& res) {
    res.set_content(rt.metrics_text(), "text/plain; version=0.0.4; charset=utf-8");
  });
  // The deepest / longest-waiting instances (JSON, ?n= how many, default 10): for
  // `weft top`, kept out of the Prometheus text (one series per actor id would churn).
  svr.Get("/metrics/instances", [&rt](const httplib::Request& req, httplib::Response& res) {
    size_t n = 10;
    if (req.has_param("n")) {
      const std::string v = req.get_param_value("n");
      if (v.empty() || v.size() > 4 || v.find_first_not_of("0123456789") != std::string::npos) {
        res.status = 400;
        res.set_content("n must be a number from 1 to 1000\n", "text/plain");
        return;
      }
      n = std::clamp<size_t>(std::stoul(v), 1, 1000);
    }
    res.set_content(render_instances_json(rt.metrics(n)), "application/json");
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (res.status == 404)
      res.set_content("not found: weft serves GET /metrics and GET /metrics/instances\n", "text/plain");
  });

  errno = 0;
  int port = addr->port;
  bool bound = false;
  if (port == 0) {
    port = svr.bind_to_any_port(addr->host);
    bound = port > 0;
  } else {
    bound = svr.bind_to_port(addr->host, port);
  }
  if (!bound) {
    int err = errno;  // from the failed bind()/listen(); httplib only closes the socket after
    std::string why = err == 0 ? "cannot bind" : std::strerror(err);
    if (err == EADDRINUSE) why = "address already in use";
    return Status::unavailable(listen + ": " + why);
  }
  impl->port = port;
  impl->thread = std::thread([p = impl.get()] {
    name_this_thread("weft.metrics");
    p->server.listen_after_bind();
    p->accept_loop_done.store(true, std::memory_order_release);
  });
  return std::unique_ptr<MetricsServer>(new MetricsServer(std::move(impl)));
}

MetricsServer::MetricsServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MetricsServer::~MetricsServer() {
  // httplib's stop() does nothing until the accept loop has marked itself running (its
  // first step), so a server destroyed right after start() must wait for that instant.
  while (!impl_->server.is_running() && !impl_->accept_loop_done.load(std::memory_order_acquire))
    std::this_thread::yield();
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

int MetricsServer::port() const { return impl_->port; }

}  // namespace weft
