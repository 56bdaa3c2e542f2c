// HttpClient (http_client.h): one thread, one CURLM, a pool of easy handles (so
// connections stay alive), lock-free queues in and out.
#include "runtime/stores/remote/http_client.h"

#include <concurrentqueue/concurrentqueue.h>
#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <ctime>
#include <deque>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "runtime/platform/thread_name.h"

namespace weft {

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxAnswerBytes = 16u << 20;  // a trace server's answers are small

struct Transfer {
  HttpRequest request;
  HttpResponse response;
  Clock::time_point submitted;
  curl_slist* headers = nullptr;
  curl_mime* mime = nullptr;
  bool truncated = false;
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  if (t->truncated || t->response.body.size() + len > kMaxAnswerBytes) {
    t->truncated = true;
    return len;  // keep the transfer going; the body is cut (to a prefix: nothing after the cut)
  }
  t->response.body.append(data, len);
  return len;
}

// Retry-After: delta seconds, or an HTTP date. At most a day: a larger value (even one that
// would overflow milliseconds) is a day, since the caller adds it to a clock.
constexpr int64_t kMaxRetryAfterSeconds = 24 * 3600;

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t len = size * n;
  std::string_view line(data, len);
  constexpr std::string_view kName = "retry-after:";
  if (line.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i)
      match = static_cast<char>(std::tolower(static_cast<unsigned char>(line[i]))) == kName[i];
    if (match) {
      std::string value(line.substr(kName.size()));
      while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.pop_back();
      while (!value.empty() && value.front() == ' ') value.erase(value.begin());
      if (!value.empty() && std::isdigit(static_cast<unsigned char>(value[0]))) {
        const long long seconds = std::min<long long>(std::strtoll(value.c_str(), nullptr, 10), kMaxRetryAfterSeconds);
        t->response.retry_after = std::chrono::milliseconds(seconds * 1000);
      } else if (time_t at = curl_getdate(value.c_str(), nullptr); at > 0) {
        const time_t now = std::time(nullptr);
        const int64_t seconds = at > now ? std::min<int64_t>(at - now, kMaxRetryAfterSeconds) : 0;
        t->response.retry_after = std::chrono::milliseconds(seconds * 1000);
      }
    }
  }
  return len;
}

}  // namespace

struct HttpClient::Impl {
  HttpClientOptions options;
  CURLM* multi = nullptr;
  moodycamel::ConcurrentQueue<HttpRequest> in;
  moodycamel::ConcurrentQueue<HttpResponse> out;
  std::atomic<uint64_t> outstanding{0};
  std::atomic<unsigned> running{0};
  std::atomic<bool> stop{false};
  std::thread thread;
  // The thread's own:
  std::deque<Transfer*> waiting;
  std::vector<CURL*> idle;  // easy handles kept for their connections
  std::unordered_map<CURL*, Transfer*> active;
  std::string userpwd_user = "api";

  ~Impl() {
    for (auto& [easy, t] : active) {
      curl_multi_remove_handle(multi, easy);
      curl_easy_cleanup(easy);
      release(t);
    }
    for (Transfer* t : waiting) release(t);
    for (CURL* e : idle) curl_easy_cleanup(e);
    if (multi) curl_multi_cleanup(multi);
  }

  static void release(Transfer* t) {
    if (t->headers) curl_slist_free_all(t->headers);
    if (t->mime) curl_mime_free(t->mime);
    delete t;
  }

  // The key must never reach a message: curl's errors do not hold it, but make sure.
  std::string scrub(std::string s) const {
    const std::string& key = options.api_key;
    if (key.empty()) return s;
    for (size_t p; (p = s.find(key)) != std::string::npos;) s.replace(p, key.size(), "<key>");
    return s;
  }

  void start_transfer(Transfer* t) {
    CURL* e = nullptr;
    if (!idle.empty()) {
      e = idle.back();
      idle.pop_back();
      curl_easy_reset(e);
    } else {
      e = curl_easy_init();
    }
    const std::string url = options.base_url + t->request.path;
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options.connect_timeout.count()));
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(options.request_timeout.count()));
    curl_easy_setopt(e, CURLOPT_USERAGENT, options.user_agent.c_str());
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    if (options.insecure_skip_verify) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    if (!options.api_key.empty()) {
      curl_easy_setopt(e, CURLOPT_HTTPAUTH, static_cast<long>(CURLAUTH_BASIC));
      curl_easy_setopt(e, CURLOPT_USERNAME, userpwd_user.c_str());
      curl_easy_setopt(e, CURLOPT_PASSWORD, options.api_key.c_str());
    }
    t->headers = curl_slist_append(t->headers, "Expect:");  // no 100-continue round trip
    if (t->request.form.empty()) {
      t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->request.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->request.body.size()));
      t->response.bytes_sent = t->request.body.size();
    } else {
      t->mime = curl_mime_init(e);
      for (const FormPart& p : t->request.form) {
        curl_mimepart* part = curl_mime_addpart(t->mime);
        curl_mime_name(part, p.name.c_str());
        curl_mime_data(part, p.data.data(), p.data.size());
        if (p.filename) curl_mime_filename(part, p.filename->c_str());
        if (!p.content_type.empty()) curl_mime_type(part, p.content_type.c_str());
        t->response.bytes_sent += p.data.size();
      }
      curl_easy_setopt(e, CURLOPT_MIMEPOST, t->mime);
    }
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    active.emplace(e, t);
    running.store(static_cast<unsigned>(active.size()), std::memory_order_relaxed);
    curl_multi_add_handle(multi, e);
  }

  void finish_transfer(CURL* e, CURLcode code) {
    auto it = active.find(e);
    if (it == active.end()) return;
    Transfer* t = it->second;
    active.erase(it);
    curl_multi_remove_handle(multi, e);
    HttpResponse& r = t->response;
    r.tag = t->request.tag;
    if (code == CURLE_OK) {
      long status = 0;
      curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
      r.status = status;
    } else {
      r.status = 0;
      r.timed_out = code == CURLE_OPERATION_TIMEDOUT;
      r.transport_error = scrub(curl_easy_strerror(code));
      r.body.clear();
    }
    r.latency = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t->submitted);
    idle.push_back(e);  // its connection stays in the multi's cache
    running.store(static_cast<unsigned>(active.size()), std::memory_order_relaxed);
    out.enqueue(std::move(r));
    release(t);
  }

  void run() {
    HttpRequest buf[64];
    while (!stop.load(std::memory_order_acquire)) {
      size_t n;
      while ((n = in.try_dequeue_bulk(buf, 64)) > 0)
        for (size_t i = 0; i < n; ++i) {
          auto* t = new Transfer;
          t->submitted = Clock::now();
          t->request = std::move(buf[i]);
          waiting.push_back(t);
        }
      while (!waiting.empty() && active.size() < options.max_in_flight) {
        Transfer* t = waiting.front();
        waiting.pop_front();
        start_transfer(t);
      }
      int still = 0;
      curl_multi_perform(multi, &still);
      int left = 0;
      while (CURLMsg* m = curl_multi_info_read(multi, &left))
        if (m->msg == CURLMSG_DONE) finish_transfer(m->easy_handle, m->data.result);
      if (!waiting.empty() && active.size() < options.max_in_flight) continue;
      // This is the I/O thread: waiting here is its job. submit() wakes it.
      curl_multi_poll(multi, nullptr, 0, 100, nullptr);
    }
  }
};

Result<std::unique_ptr<HttpClient>> HttpClient::start(HttpClientOptions options) {
  const std::string& u = options.base_url;
  if (u.rfind("http://", 0) != 0 && u.rfind("https://", 0) != 0)
    return Status::invalid_argument("the server URL must start with http:// or https:// (got \"" + u + "\")");
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto impl = std::make_unique<Impl>();
  while (!options.base_url.empty() && options.base_url.back() == '/') options.base_url.pop_back();
  if (options.max_in_flight == 0) options.max_in_flight = 1;
  impl->options = std::move(options);
  impl->multi = curl_multi_init();
  if (!impl->multi) return Status::internal("curl_multi_init failed");
  curl_multi_setopt(impl->multi, CURLMOPT_PIPELINING, static_cast<long>(CURLPIPE_MULTIPLEX));
  curl_multi_setopt(impl->multi, CURLMOPT_MAX_HOST_CONNECTIONS, static_cast<long>(impl->options.max_in_flight));
  curl_multi_setopt(impl->multi, CURLMOPT_MAXCONNECTS, static_cast<long>(impl->options.max_in_flight));
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] {
    name_this_thread("weft.http");
    raw->run();
  });
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

HttpClient::~HttpClient() {
  impl_->stop.store(true, std::memory_order_release);
  curl_multi_wakeup(impl_->multi);
  if (impl_->thread.joinable()) impl_->thread.join();
}

void HttpClient::submit(HttpRequest request) {
  impl_->outstanding.fetch_add(1, std::memory_order_relaxed);
  impl_->in.enqueue(std::move(request));
  curl_multi_wakeup(impl_->multi);
}

size_t HttpClient::poll(std::vector<HttpResponse>& out) {
  HttpResponse r;
  size_t n = 0;
  while (impl_->out.try_dequeue(r)) {
    out.push_back(std::move(r));
    r = HttpResponse{};
    ++n;
  }
  impl_->outstanding.fetch_sub(n, std::memory_order_relaxed);
  return n;
}

uint64_t HttpClient::outstanding() const { return impl_->outstanding.load(std::memory_order_relaxed); }
unsigned HttpClient::in_flight() const { return impl_->running.load(std::memory_order_relaxed); }

}  // namespace weft
