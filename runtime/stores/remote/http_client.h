// HttpClient: the remote store's network engine. One thread of its own runs libcurl's multi
// interface: keep-alive connections (one connection cache per client), HTTP/2 over TLS
// where the server offers it (plain HTTP/1.1 otherwise), certificate verification on,
// the proxy environment variables honoured (libcurl's defaults), up to max_in_flight
// transfers at once. Nothing here blocks its callers: submit() is one lock-free enqueue
// plus a curl_multi_wakeup, and completions are collected with poll(), also lock-free.
//
// It knows nothing of Weave: requests are method + path + headers + body, answers are
// status + headers that matter + body. Retries, batching and routes are the remote
// store's (remote_store.cc).
//
// Secrets: the Authorization header is built here from the key given at construction and
// is never logged, put into an error message or returned in an HttpResponse.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <weft/status.h>

namespace weft {

struct HttpClientOptions {
  std::string base_url;   // "https://trace.wandb.ai" or "http://127.0.0.1:8080"; no trailing '/'
  std::string api_key;    // sent as HTTP Basic "api:<key>"; empty: no Authorization header
  std::string user_agent; // "weft/<version> (...)"
  unsigned max_in_flight = 12;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};  // whole transfer
  // For tests against a self-signed server only; never the default.
  bool insecure_skip_verify = false;
};

// One part of a multipart/form-data body.
struct FormPart {
  std::string name;                       // form field name ("project_id", "file")
  std::string data;                       // the part's bytes
  std::optional<std::string> filename;    // set for a file part
  std::string content_type;               // e.g. "application/octet-stream"; "" for text fields
};

struct HttpRequest {
  uint64_t tag = 0;           // the caller's; returned in the response
  std::string path;           // "/obj/create" (appended to base_url)
  std::string body;           // JSON body (Content-Type: application/json), if form is empty
  std::vector<FormPart> form; // non-empty: multipart/form-data instead of body
};

struct HttpResponse {
  uint64_t tag = 0;
  // 0 when no HTTP answer arrived (connection refused or dropped, timeout, TLS failure...):
  // then transport_error says what (curl's message, never the key), and timed_out tells a
  // timeout apart.
  long status = 0;
  std::string transport_error;
  bool timed_out = false;
  std::string body;                               // the answer's body
  std::optional<std::chrono::milliseconds> retry_after;  // from Retry-After (seconds or HTTP date)
  std::chrono::microseconds latency{0};           // submit() to completion
  uint64_t bytes_sent = 0;                        // request body bytes
};

class HttpClient {
 public:
  // Starts the thread. invalid_argument for a base URL that is not http:// or https://.
  static Result<std::unique_ptr<HttpClient>> start(HttpClientOptions options);
  // Stops the thread: transfers still running are abandoned (no response for them).
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Any thread; lock-free (plus curl_multi_wakeup). More than max_in_flight may be
  // submitted: the rest wait in the client's queue, in order.
  void submit(HttpRequest request);
  // Any one thread at a time; lock-free. Appends completed responses; returns how many.
  size_t poll(std::vector<HttpResponse>& out);
  // Submitted and not yet returned by poll().
  uint64_t outstanding() const;
  // Transfers running right now (<= max_in_flight).
  unsigned in_flight() const;

 private:
  struct Impl;
  explicit HttpClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace weft
