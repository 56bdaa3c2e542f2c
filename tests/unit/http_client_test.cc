// HttpClient against an in-process cpp-httplib server on 127.0.0.1 (an ephemeral port): what
// reaches the server (method, path, JSON body, Content-Type, Basic authorization, User-Agent,
// multipart forms with binary file parts), what comes back (status, body, tag, Retry-After
// in seconds and as an HTTP date), max_in_flight, queue order, keep-alive connection reuse,
// timeouts, refused connections, a client that stays usable after failures, the API key kept
// out of every error, an oversized answer cut to a prefix, and a destructor with transfers
// still running.
//
// Nothing here sleeps to synchronise: the test side polls with a deadline (collect()), and
// server handlers that must hold an answer wait on a condition with a deadline (Gate), which
// the test (or, at the latest, the server's destructor) opens.
#include "runtime/stores/remote/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace weft {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kKey = "wandb-test-key-0123456789abcdef";
// base64("api:wandb-test-key-0123456789abcdef"), computed independently (python3 base64).
constexpr const char* kBasic = "Basic YXBpOndhbmRiLXRlc3Qta2V5LTAxMjM0NTY3ODlhYmNkZWY=";
constexpr const char* kUserAgent = "weft-test/0.1 (http_client_test)";

// Polls until n responses have arrived or `within` has passed; returns what arrived.
std::vector<HttpResponse> collect(HttpClient& client, size_t n, Clock::duration within = 20s) {
  std::vector<HttpResponse> out;
  const auto deadline = Clock::now() + within;
  while (out.size() < n && Clock::now() < deadline)
    if (client.poll(out) == 0) std::this_thread::sleep_for(1ms);  // polling back-off
  return out;
}

// Waits (polling) until pred() holds or `within` has passed; returns pred().
template <class Pred>
bool eventually(Pred pred, Clock::duration within = 20s) {
  const auto deadline = Clock::now() + within;
  while (!pred() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
  return pred();
}

// Server side: a handler that must hold its answer waits here until the test opens the gate,
// at most `within`.
class Gate {
 public:
  void open() {
    {
      std::lock_guard lock(m_);
      open_ = true;
    }
    cv_.notify_all();
  }
  bool wait(std::chrono::milliseconds within = 15'000ms) {
    std::unique_lock lock(m_);
    return cv_.wait_for(lock, within, [&] { return open_; });
  }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool open_ = false;
};

// What one request looked like on arrival.
struct Seen {
  std::string method, path, body, content_type, authorization, user_agent;
  bool has_authorization = false;
  bool has_expect = false;
  int remote_port = -1;
  httplib::MultipartFormDataMap files;
};

// An httplib server on 127.0.0.1 on its own thread. Routes are added through http() before
// start(). The destructor opens the gate, then stops the server (declare the server before
// the client, so that the client, and its keep-alive connections, go first).
class TestServer {
 public:
  TestServer() {
    svr_.new_task_queue = [] { return new httplib::ThreadPool(24); };
    svr_.set_keep_alive_max_count(1000);
    svr_.set_tcp_nodelay(true);  // else Nagle + delayed ACK add 40 ms to every answer
  }
  ~TestServer() {
    gate.open();
    if (thread_.joinable()) {
      svr_.stop();
      thread_.join();
    }
  }
  TestServer(const TestServer&) = delete;
  TestServer& operator=(const TestServer&) = delete;

  httplib::Server& http() { return svr_; }

  // Binds an ephemeral port (or `port`) and serves; true once the server is accepting.
  bool start(int port = 0) {
    if (port == 0) {
      port_ = svr_.bind_to_any_port("127.0.0.1");
      if (port_ <= 0) return false;
    } else {
      if (!svr_.bind_to_port("127.0.0.1", port)) return false;
      port_ = port;
    }
    thread_ = std::thread([this] { svr_.listen_after_bind(); });
    // stop() is a no-op until the accept loop runs, so wait for it.
    return eventually([&] { return svr_.is_running(); });
  }
  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

  void record(const httplib::Request& req) {
    Seen s;
    s.method = req.method;
    s.path = req.path;
    s.body = req.body;
    s.content_type = req.get_header_value("Content-Type");
    s.has_authorization = req.has_header("Authorization");
    s.authorization = req.get_header_value("Authorization");
    s.user_agent = req.get_header_value("User-Agent");
    s.has_expect = req.has_header("Expect");
    s.remote_port = req.remote_port;
    s.files = req.files;
    std::lock_guard lock(m_);
    seen_.push_back(std::move(s));
  }
  std::vector<Seen> seen() const {
    std::lock_guard lock(m_);
    return seen_;
  }
  size_t seen_count() const {
    std::lock_guard lock(m_);
    return seen_.size();
  }
  size_t connections() const {
    std::lock_guard lock(m_);
    std::set<int> ports;
    for (const Seen& s : seen_) ports.insert(s.remote_port);
    return ports.size();
  }

  Gate gate;

 private:
  httplib::Server svr_;
  std::thread thread_;
  int port_ = 0;
  mutable std::mutex m_;
  std::vector<Seen> seen_;
};

HttpClientOptions options_for(const std::string& url, unsigned max_in_flight = 4) {
  HttpClientOptions o;
  o.base_url = url;
  o.api_key = kKey;
  o.user_agent = kUserAgent;
  o.max_in_flight = max_in_flight;
  o.connect_timeout = 5'000ms;
  o.request_timeout = 20'000ms;
  return o;
}

std::unique_ptr<HttpClient> start_client(HttpClientOptions o) {
  auto r = HttpClient::start(std::move(o));
  if (!r.is_ok()) ADD_FAILURE() << "HttpClient::start: " << r.error();
  return r.is_ok() ? std::move(r).value() : nullptr;
}

HttpRequest post(uint64_t tag, std::string path, std::string body = "{}") {
  HttpRequest r;
  r.tag = tag;
  r.path = std::move(path);
  r.body = std::move(body);
  return r;
}

// A server (and the client aimed at it) writes to sockets the other side has closed (a
// timed-out transfer, a destroyed client): EPIPE, not a SIGPIPE that would end the test.
class HttpClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    ASSERT_EQ(sigaction(SIGPIPE, &ignore, &saved_), 0);
  }
  void TearDown() override { sigaction(SIGPIPE, &saved_, nullptr); }

 private:
  struct sigaction saved_ {};
};

TEST_F(HttpClientTest, StartRefusesAUrlThatIsNotHttp) {
  HttpClientOptions o = options_for("ftp://127.0.0.1:21");
  auto r = HttpClient::start(o);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.error(), "the server URL must start with http:// or https:// (got \"ftp://127.0.0.1:21\")");
  o.base_url = "127.0.0.1:8080";
  EXPECT_EQ(HttpClient::start(o).code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpClientTest, PostCarriesBodyContentTypeAuthorizationAndUserAgent) {
  TestServer server;
  server.http().Post("/obj/create", [&](const httplib::Request& req, httplib::Response& res) {
    server.record(req);
    res.status = 201;
    res.set_content(R"({"digest": "abc123"})", "application/json");
  });
  ASSERT_TRUE(server.start());
  const std::string body = R"({"obj": {"project_id": "e/p", "object_id": "x", "val": [1, 2.5, "\u00e9"]}})";
  // A trailing '/' on the base URL is dropped: the path is not doubled.
  auto client = start_client(options_for(server.url() + "/"));
  ASSERT_NE(client, nullptr);
  EXPECT_EQ(client->outstanding(), 0u);
  EXPECT_EQ(client->in_flight(), 0u);

  client->submit(post(42, "/obj/create", body));
  EXPECT_EQ(client->outstanding(), 1u);
  auto got = collect(*client, 1);
  ASSERT_EQ(got.size(), 1u);
  const HttpResponse& r = got[0];
  EXPECT_EQ(r.tag, 42u);
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, R"({"digest": "abc123"})");
  EXPECT_EQ(r.transport_error, "");
  EXPECT_FALSE(r.timed_out);
  EXPECT_FALSE(r.retry_after.has_value());
  EXPECT_EQ(r.bytes_sent, body.size());
  EXPECT_GT(r.latency.count(), 0);
  EXPECT_EQ(client->outstanding(), 0u);
  EXPECT_EQ(client->in_flight(), 0u);

  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].method, "POST");
  EXPECT_EQ(seen[0].path, "/obj/create");
  EXPECT_EQ(seen[0].body, body);
  EXPECT_EQ(seen[0].content_type, "application/json");
  EXPECT_EQ(seen[0].authorization, kBasic);
  EXPECT_EQ(seen[0].user_agent, kUserAgent);
  EXPECT_FALSE(seen[0].has_expect);  // no 100-continue round trip
}

TEST_F(HttpClientTest, NoKeyMeansNoAuthorizationHeader) {
  TestServer server;
  server.http().Post("/x", [&](const httplib::Request& req, httplib::Response& res) {
    server.record(req);
    res.set_content("ok", "text/plain");
  });
  ASSERT_TRUE(server.start());
  HttpClientOptions o = options_for(server.url());
  o.api_key.clear();
  auto client = start_client(o);
  ASSERT_NE(client, nullptr);
  client->submit(post(1, "/x", ""));
  auto got = collect(*client, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 200);
  EXPECT_EQ(got[0].body, "ok");
  EXPECT_EQ(got[0].bytes_sent, 0u);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_FALSE(seen[0].has_authorization);
  EXPECT_EQ(seen[0].body, "");
}

TEST_F(HttpClientTest, AnswersKeepTheirStatusBodyAndTag) {
  TestServer server;
  server.http().Post(R"(/status/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
    res.status = std::stoi(req.matches[1]);
    res.set_content("answer " + req.matches[1].str() + " to " + req.body, "text/plain");
  });
  ASSERT_TRUE(server.start());
  auto client = start_client(options_for(server.url()));
  ASSERT_NE(client, nullptr);
  const std::vector<int> statuses = {200, 400, 401, 404, 409, 413, 429, 500, 503};
  for (size_t i = 0; i < statuses.size(); ++i)
    client->submit(post(1000 + i, "/status/" + std::to_string(statuses[i]), "b" + std::to_string(i)));
  auto got = collect(*client, statuses.size());
  ASSERT_EQ(got.size(), statuses.size());
  std::sort(got.begin(), got.end(), [](const auto& a, const auto& b) { return a.tag < b.tag; });
  for (size_t i = 0; i < statuses.size(); ++i) {
    SCOPED_TRACE(statuses[i]);
    EXPECT_EQ(got[i].tag, 1000 + i);
    EXPECT_EQ(got[i].status, statuses[i]);
    EXPECT_EQ(got[i].body, "answer " + std::to_string(statuses[i]) + " to b" + std::to_string(i));
    EXPECT_EQ(got[i].transport_error, "");  // an HTTP answer is not a transport failure
    EXPECT_FALSE(got[i].timed_out);
  }
  EXPECT_EQ(client->outstanding(), 0u);
}

TEST_F(HttpClientTest, AtMostMaxInFlightAtOnce) {
  constexpr unsigned kMax = 4;
  constexpr uint64_t kRequests = 16;
  TestServer server;
  std::mutex m;
  std::condition_variable cv;
  unsigned current = 0, max_seen = 0;
  // Each handler holds until kMax handlers have been running at once (or 10 s passed), so
  // the client's first wave must really be kMax wide; after that everyone passes.
  server.http().Post(R"(/w/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
    server.record(req);
    {
      std::unique_lock lock(m);
      max_seen = std::max(max_seen, ++current);
      cv.notify_all();
      cv.wait_for(lock, 10s, [&] { return max_seen >= kMax; });
      --current;
    }
    res.set_content(req.matches[1].str(), "text/plain");
  });
  ASSERT_TRUE(server.start());
  auto client = start_client(options_for(server.url(), kMax));
  ASSERT_NE(client, nullptr);
  for (uint64_t i = 0; i < kRequests; ++i) client->submit(post(i, "/w/" + std::to_string(i)));
  EXPECT_EQ(client->outstanding(), kRequests);

  std::vector<HttpResponse> got;
  unsigned client_max = 0;
  const auto deadline = Clock::now() + 30s;
  while (got.size() < kRequests && Clock::now() < deadline) {
    client_max = std::max(client_max, client->in_flight());
    if (client->poll(got) == 0) std::this_thread::sleep_for(1ms);
  }
  ASSERT_EQ(got.size(), kRequests);
  std::set<uint64_t> tags;
  for (const HttpResponse& r : got) {
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, std::to_string(r.tag));
    tags.insert(r.tag);
  }
  EXPECT_EQ(tags.size(), kRequests);
  EXPECT_EQ(*tags.rbegin(), kRequests - 1);
  {
    std::lock_guard lock(m);
    EXPECT_EQ(max_seen, kMax);  // kMax at once, never more
  }
  // Sampled from this thread, so only an upper bound holds: all 16 can finish between two
  // samples (seen under load), and the server side (max_seen) already proves the width.
  EXPECT_LE(client_max, kMax);
  // One connection per transfer running at once, reused by the later waves.
  EXPECT_EQ(server.connections(), kMax);
  EXPECT_EQ(client->outstanding(), 0u);
  EXPECT_EQ(client->in_flight(), 0u);
}

TEST_F(HttpClientTest, QueuedRequestsGoOutInSubmissionOrder) {
  TestServer server;
  server.http().Post(R"(/n/(\d+))", [&](const httplib::Request& req, httplib::Response& res) {
    server.record(req);
    res.set_content(req.matches[1].str(), "text/plain");
  });
  ASSERT_TRUE(server.start());
  auto client = start_client(options_for(server.url(), 1));
  ASSERT_NE(client, nullptr);
  constexpr uint64_t kRequests = 12;
  for (uint64_t i = 0; i < kRequests; ++i) client->submit(post(i, "/n/" + std::to_string(i)));
  auto got = collect(*client, kRequests);
  ASSERT_EQ(got.size(), kRequests);
  auto seen = server.seen();
  ASSERT_EQ(seen.size(), kRequests);
  for (uint64_t i = 0; i < kRequests; ++i) {
    EXPECT_EQ(seen[i].path, "/n/" + std::to_string(i));
    EXPECT_EQ(got[i].tag, i);  // one at a time: completions in order too
    EXPECT_EQ(got[i].body, std::to_string(i));
  }
  EXPECT_EQ(server.connections(), 1u);
}

TEST_F(HttpClientTest, SequentialRequestsReuseOneKeepAliveConnection) {
  TestServer server;
  server.http().Post("/k", [&](const httplib::Request& req, httplib::Response& res) {
    server.record(req);
    res.set_content(req.body, "application/json");
  });
  ASSERT_TRUE(server.start());
  auto client = start_client(options_for(server.url(), 4));
  ASSERT_NE(client, nullptr);
  constexpr uint64_t kRequests = 20;
  for (uint64_t i = 0; i < kRequests; ++i) {
    const std::string body = "{\"i\": " + std::to_string(i) + "}";
    client->submit(post(i, "/k", body));
    auto got = collect(*client, 1);
    ASSERT_EQ(got.size(), 1u) << "request " << i;
    EXPECT_EQ(got[0].status, 200);
    EXPECT_EQ(got[0].tag, i);
    EXPECT_EQ(got[0].body, body);
  }
  EXPECT_EQ(server.seen_count(), kRequests);
  // The server keeps connections for 1000 requests and 5 s: all 20 ride the first one.
  EXPECT_EQ(server.connections(), 1u);
}

TEST_F(HttpClientTest, RetryAfterInSecondsAndAsAnHttpDate) {
  TestServer server;
  // The request body is the Retry-After value to answer with ("-" for none); the header
  // name's case varies (header names are case-insensitive).
  server.http().Post(R"(/ra/(\w+))", [&](const httplib::Request& req, httplib::Response& res) {
    res.status = 429;
    if (req.body != "-") res.set_header(req.matches[1].str() == "lower" ? "retry-after" : "Retry-After", req.body);
    res.set_content("slow down", "text/plain");
  });
  ASSERT_TRUE(server.start());
  auto client = start_client(options_for(server.url()));
  ASSERT_NE(client, nullptr);

  auto http_date = [](std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return std::string(buf);
  };
  auto ask = [&](const std::string& value, const std::string& variant = "std") {
    client->submit(post(7, "/ra/" + variant, value));
    auto got = collect(*client, 1);
    EXPECT_EQ(got.size(), 1u) << value;
    if (got.empty()) return HttpResponse{};
    EXPECT_EQ(got[0].status, 429) << value;
    EXPECT_EQ(got[0].body, "slow down") << value;
    return got[0];
  };

  EXPECT_EQ(ask("7").retry_after, std::optional<std::chrono::milliseconds>(7'000ms));
  EXPECT_EQ(ask("0").retry_after, std::optional<std::chrono::milliseconds>(0ms));
  EXPECT_EQ(ask("120", "lower").retry_after, std::optional<std::chrono::milliseconds>(120'000ms));
  EXPECT_EQ(ask("3600").retry_after, std::optional<std::chrono::milliseconds>(3'600'000ms));
  EXPECT_FALSE(ask("-").retry_after.has_value());
  EXPECT_FALSE(ask("soon").retry_after.has_value());

  // An HTTP date 120 s ahead: 120 s at whole-second resolution, less the seconds that
  // passed between the server's clock read and the client's.
  const auto future = ask(http_date(std::time(nullptr) + 120));
  ASSERT_TRUE(future.retry_after.has_value());
  EXPECT_LE(*future.retry_after, 120'000ms);
  EXPECT_GE(*future.retry_after, 115'000ms);
  EXPECT_EQ(future.retry_after->count() % 1000, 0);
  // A date in the past: retry now.
  EXPECT_EQ(ask(http_date(std::time(nullptr) - 3600)).retry_after, std::optional<std::chrono::milliseconds>(0ms));

  // The client caps a wait at one day: a delta or date beyond it, and a delta too large for
  // milliseconds in 64 bits (an overflow: UB, which wrapped to -1 s), is one day.
  constexpr std::optional<std::chrono::milliseconds> kDay(24h);
  EXPECT_EQ(ask("86399").retry_after, std::optional<std::chrono::milliseconds>(86'399'000ms));
  EXPECT_EQ(ask("86401").retry_after, kDay);
  EXPECT_EQ(ask("9223372036854776").retry_after, kDay);  // * 1000 > INT64_MAX
  EXPECT_EQ(ask("99999999999999999999").retry_after, kDay);  // > INT64_MAX itself
  EXPECT_EQ(ask("Fri, 31 Dec 9999 23:59:59 GMT").retry_after, kDay);
}

TEST_F(HttpClientTest, RequestTimeoutGivesStatusZeroAndTimedOut) {
  TestServer server;
  server.http().Post("/slow", [&](const httplib::Request&, httplib::Response& res) {
    server.gate.wait();
    res.set_content("late", "text/plain");
  });
  server.http().Post("/ok", [&](const httplib::Request&, httplib::Response& res) { res.set_content("fine", "text/plain"); });
  ASSERT_TRUE(server.start());
  HttpClientOptions o = options_for(server.url());
  o.request_timeout = 300ms;
  auto client = start_client(o);
  ASSERT_NE(client, nullptr);

  client->submit(post(5, "/slow"));
  auto got = collect(*client, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].tag, 5u);
  EXPECT_EQ(got[0].status, 0);
  EXPECT_TRUE(got[0].timed_out);
  EXPECT_EQ(got[0].transport_error, "Timeout was reached");
  EXPECT_EQ(got[0].body, "");
  // Not early (curl's clock has millisecond resolution: 299.9 ms is seen), nor very late.
  EXPECT_GE(got[0].latency, std::chrono::microseconds(250ms));
  EXPECT_LT(got[0].latency, std::chrono::microseconds(5s));
  EXPECT_EQ(got[0].transport_error.find(kKey), std::string::npos);
  EXPECT_EQ(client->outstanding(), 0u);

  // The client goes on.
  server.gate.open();
  client->submit(post(6, "/ok"));
  got = collect(*client, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].tag, 6u);
  EXPECT_EQ(got[0].status, 200);
  EXPECT_EQ(got[0].body, "fine");
  EXPECT_FALSE(got[0].timed_out);
  EXPECT_EQ(got[0].transport_error, "");
}

// A port bound to a socket that does not listen: connecting is refused, and nobody else can
// take the port meanwhile.
class UnlistenedPort {
 public:
  UnlistenedPort() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    const int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
      socklen_t len = sizeof a;
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
      port_ = ntohs(a.sin_port);
    }
  }
  ~UnlistenedPort() { release(); }
  UnlistenedPort(const UnlistenedPort&) = delete;
  UnlistenedPort& operator=(const UnlistenedPort&) = delete;
  int port() const { return port_; }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(HttpClientTest, ConnectionRefusedThenTheServerComesUp) {
  UnlistenedPort nobody;
  ASSERT_GT(nobody.port(), 0);
  const std::string url = "http://127.0.0.1:" + std::to_string(nobody.port());
  auto client = start_client(options_for(url, 2));
  ASSERT_NE(client, nullptr);

  for (uint64_t i = 0; i < 3; ++i) client->submit(post(i, "/obj/create", "{\"i\": 1}"));
  auto got = collect(*client, 3);
  ASSERT_EQ(got.size(), 3u);
  std::set<uint64_t> tags;
  for (const HttpResponse& r : got) {
    tags.insert(r.tag);
    EXPECT_EQ(r.status, 0);
    EXPECT_FALSE(r.timed_out);
    EXPECT_EQ(r.transport_error, "Couldn't connect to server");
    EXPECT_EQ(r.body, "");
    EXPECT_EQ(r.transport_error.find(kKey), std::string::npos);
  }
  EXPECT_EQ(tags, (std::set<uint64_t>{0, 1, 2}));
  EXPECT_EQ(client->outstanding(), 0u);
  EXPECT_EQ(client->in_flight(), 0u);

  // The same port starts answering: the same client (and its pooled handles) delivers.
  TestServer server;
  server.http().Post("/obj/create", [&](const httplib::Request& req, httplib::Response& res) {
    server.record(req);
    res.set_content("up", "text/plain");
  });
  nobody.release();
  ASSERT_TRUE(server.start(nobody.port())) << "port " << nobody.port() << " was taken meanwhile";
  for (uint64_t i = 10; i < 13; ++i) client->submit(post(i, "/obj/create", "{\"i\": 2}"));
  got = collect(*client, 3);
  ASSERT_EQ(got.size(), 3u);
  for (const HttpResponse& r : got) {
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "up");
    EXPECT_EQ(r.transport_error, "");
  }
  ASSERT_EQ(server.seen_count(), 3u);
  EXPECT_EQ(server.seen()[0].authorization, kBasic);
  client.reset();  // before the server
}

TEST_F(HttpClientTest, MultipartFormCarriesFieldsAndBinaryFilePart) {
  TestServer server;
  server.http().Post("/file/create", [&](const httplib::Request& req, httplib::Response& res) {
    server.record(req);
    res.set_content(R"({"digest": "f1"})", "application/json");
  });
  ASSERT_TRUE(server.start());
  auto client = start_client(options_for(server.url()));
  ASSERT_NE(client, nullptr);

  // Every byte value, NULs, and things that look like a multipart delimiter.
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  bytes += std::string("\0\0\r\n--\r\n--boundary\0end", 23);
  bytes += std::string(3, '\0');
  ASSERT_EQ(bytes.size(), 256u + 23u + 3u);

  HttpRequest req;
  req.tag = 99;
  req.path = "/file/create";
  req.body = "ignored: a form is sent instead";
  req.form.push_back({"project_id", "entity/project", std::nullopt, ""});
  req.form.push_back({"file", bytes, std::string("blob.bin"), "application/octet-stream"});
  client->submit(req);
  auto got = collect(*client, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].tag, 99u);
  EXPECT_EQ(got[0].status, 200);
  EXPECT_EQ(got[0].body, R"({"digest": "f1"})");
  EXPECT_EQ(got[0].bytes_sent, std::string("entity/project").size() + bytes.size());

  auto seen = server.seen();
  ASSERT_EQ(seen.size(), 1u);
  const Seen& s = seen[0];
  EXPECT_EQ(s.content_type.rfind("multipart/form-data; boundary=", 0), 0u) << s.content_type;
  EXPECT_EQ(s.authorization, kBasic);
  EXPECT_EQ(s.user_agent, kUserAgent);
  ASSERT_EQ(s.files.size(), 2u);
  ASSERT_EQ(s.files.count("project_id"), 1u);
  ASSERT_EQ(s.files.count("file"), 1u);
  const auto& field = s.files.find("project_id")->second;
  EXPECT_EQ(field.content, "entity/project");
  EXPECT_EQ(field.filename, "");
  EXPECT_EQ(field.content_type, "");
  const auto& file = s.files.find("file")->second;
  EXPECT_EQ(file.filename, "blob.bin");
  EXPECT_EQ(file.content_type, "application/octet-stream");
  EXPECT_EQ(file.content.size(), bytes.size());
  EXPECT_TRUE(file.content == bytes);  // (not EXPECT_EQ: 282 binary bytes in a failure message)
}

// The key is scrubbed from the client's own words even where curl's message happens to
// contain it: a key equal to a word of "Timeout was reached".
TEST_F(HttpClientTest, TheKeyNeverAppearsInATransportError) {
  TestServer server;
  server.http().Post("/slow", [&](const httplib::Request& req, httplib::Response& res) {
    server.record(req);
    server.gate.wait();
    res.set_content("late", "text/plain");
  });
  ASSERT_TRUE(server.start());
  HttpClientOptions o = options_for(server.url());
  o.api_key = "Timeout";
  o.request_timeout = 200ms;
  auto client = start_client(o);
  ASSERT_NE(client, nullptr);
  client->submit(post(1, "/slow"));
  auto got = collect(*client, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_TRUE(got[0].timed_out);
  EXPECT_EQ(got[0].transport_error, "<key> was reached");
  ASSERT_EQ(server.seen_count(), 1u);
  EXPECT_EQ(server.seen()[0].authorization, "Basic YXBpOlRpbWVvdXQ=");  // base64("api:Timeout")

  // And a refused connection with the real-looking key.
  UnlistenedPort nobody;
  ASSERT_GT(nobody.port(), 0);
  auto refused = start_client(options_for("http://127.0.0.1:" + std::to_string(nobody.port())));
  ASSERT_NE(refused, nullptr);
  refused->submit(post(2, "/x"));
  got = collect(*refused, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 0);
  EXPECT_NE(got[0].transport_error, "");
  EXPECT_EQ(got[0].transport_error.find(kKey), std::string::npos);
  EXPECT_EQ(got[0].body.find(kKey), std::string::npos);
  client.reset();
}

// The client keeps at most 16 MiB of an answer. An answer that does not fit comes back cut
// to a prefix: once a piece has been dropped, no later (smaller) piece may be appended after
// the hole. The server sends chunks of 16 MiB - 10 bytes, then 100 bytes (too many), then 1.
TEST_F(HttpClientTest, AnOversizedAnswerIsCutToAPrefix) {
  constexpr size_t kCap = size_t{16} << 20;
  std::string big(kCap - 10 + 100 + 1, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + (i * 7 + i / 26) % 26);
  big.back() = '#';  // found nowhere else
  TestServer server;
  server.http().Post("/big", [&](const httplib::Request&, httplib::Response& res) {
    res.set_chunked_content_provider("application/octet-stream", [&](size_t, httplib::DataSink& sink) {
      constexpr size_t kPiece = 64 << 10;
      const size_t first = kCap - 10;
      for (size_t at = 0; at < first; at += kPiece)
        if (!sink.write(big.data() + at, std::min(kPiece, first - at))) return false;
      if (!sink.write(big.data() + first, 100)) return false;
      if (!sink.write(big.data() + first + 100, 1)) return false;
      sink.done();
      return true;
    });
  });
  ASSERT_TRUE(server.start());
  auto client = start_client(options_for(server.url()));
  ASSERT_NE(client, nullptr);
  client->submit(post(3, "/big"));
  auto got = collect(*client, 1, 60s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].status, 200);
  EXPECT_EQ(got[0].transport_error, "");
  const std::string& body = got[0].body;
  EXPECT_LE(body.size(), kCap);
  EXPECT_GE(body.size(), kCap - 10);
  EXPECT_EQ(body.find('#'), std::string::npos) << "a piece after the cut was appended";
  EXPECT_TRUE(body == std::string_view(big).substr(0, body.size())) << "not a prefix of the answer";
}

TEST_F(HttpClientTest, DestructorWithTransfersInFlightReturnsPromptly) {
  TestServer server;
  std::atomic<int> arrived{0};
  server.http().Post("/hold", [&](const httplib::Request&, httplib::Response& res) {
    arrived.fetch_add(1);
    server.gate.wait();
    res.set_content("late", "text/plain");
  });
  ASSERT_TRUE(server.start());
  auto client = start_client(options_for(server.url(), 4));
  ASSERT_NE(client, nullptr);
  for (uint64_t i = 0; i < 10; ++i) client->submit(post(i, "/hold"));
  ASSERT_TRUE(eventually([&] { return arrived.load() == 4 && client->in_flight() == 4; }))
      << arrived.load() << " arrived, " << client->in_flight() << " in flight";
  EXPECT_EQ(client->outstanding(), 10u);
  std::vector<HttpResponse> none;
  EXPECT_EQ(client->poll(none), 0u);

  const auto t0 = Clock::now();
  client.reset();  // 4 running, 6 waiting: all abandoned
  const auto took = Clock::now() - t0;
  EXPECT_LT(took, 5s) << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  EXPECT_EQ(arrived.load(), 4);
}

TEST_F(HttpClientTest, DestructorOfAnIdleClientAndOfOneNeverUsed) {
  TestServer server;
  server.http().Post("/x", [&](const httplib::Request& req, httplib::Response& res) {
    if (req.body == "{\"second\": true}") server.record(req);
    res.set_content("ok", "text/plain");
  });
  ASSERT_TRUE(server.start());
  {
    auto unused = start_client(options_for(server.url()));
    ASSERT_NE(unused, nullptr);
  }
  auto client = start_client(options_for(server.url()));
  ASSERT_NE(client, nullptr);
  client->submit(post(1, "/x"));
  ASSERT_EQ(collect(*client, 1).size(), 1u);
  // An answer nobody polled is dropped with the client.
  // (The server has seen it, so it was started; in_flight() 0 then means it is done.)
  client->submit(post(2, "/x", "{\"second\": true}"));
  ASSERT_TRUE(eventually([&] { return server.seen_count() == 1 && client->in_flight() == 0; }));
  EXPECT_EQ(client->outstanding(), 1u);
  const auto t0 = Clock::now();
  client.reset();
  EXPECT_LT(Clock::now() - t0, 5s);
}

}  // namespace
}  // namespace weft
