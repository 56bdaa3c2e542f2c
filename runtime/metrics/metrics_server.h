// MetricsServer: serves GET /metrics (the Prometheus text of Runtime::metrics_text()) over
// HTTP on its own thread (cpp-httplib). Off unless Config::metrics_listen is set.
#pragma once

#include <memory>
#include <string>

#include <weft/status.h>

namespace weft {

class Runtime;

class MetricsServer {
 public:
  // Binds "host:port" (host an IPv4/IPv6 literal or "localhost"; port 1-65535, or 0 for any
  // free port) and starts serving. Errors: a malformed address, or a port that cannot be
  // bound ("127.0.0.1:9464: address already in use").
  static Result<std::unique_ptr<MetricsServer>> start(const Runtime& rt, const std::string& listen);
  ~MetricsServer();  // stops serving and joins the thread
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const;  // the bound port (useful with port 0)

  struct Impl;

 private:
  explicit MetricsServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft
