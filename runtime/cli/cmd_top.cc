// weft top: a live view of a running weft's metrics endpoint. Scrapes GET /metrics twice,
// `--interval` apart (rates need two scrapes), plus GET /metrics/instances for the deepest
// and longest-waiting actors, and prints one table per interval.
#include <httplib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <thread>

#include "runtime/cli/commands.h"
#include "runtime/cli/metrics_table.h"
#include "runtime/cli/options.h"
#include "runtime/cli/prom_text.h"
#include "runtime/metrics/metrics_json.h"

namespace weft::cli {
namespace {

constexpr const char* kName = "top";

constexpr const char* kUsage =
    "usage: weft top [--url URL] [--interval SECONDS] [--once]\n"
    "\n"
    "Shows a running weft's metrics (docs/METRICS.md), refreshed every interval: per actor\n"
    "kind the mailbox depth, its high-water mark, messages processed per second and the\n"
    "handler p99 over the interval; the store; pending dependencies; and the actors with\n"
    "the deepest mailboxes and the longest waits (from URL/instances). Start the runtime\n"
    "with Config::metrics_listen, or 'weft demo --metrics-listen 127.0.0.1:9464 --hold'.\n"
    "\n"
    "  --url URL         the metrics endpoint (default: http://127.0.0.1:9464/metrics)\n"
    "  --interval SECONDS\n"
    "                    time between scrapes (default: 1; from 0.05 to 3600)\n"
    "  --once            print one frame (two scrapes an interval apart) and exit; an\n"
    "                    unreachable endpoint is then an error (exit 1) instead of a\n"
    "                    line in the live view\n"
    "  --help            this text\n";

struct Endpoint {
  std::string host;
  int port = 80;
  std::string path = "/metrics";
  std::string display;  // http://HOST:PORT/PATH
};

// http://HOST[:PORT][/PATH] or HOST:PORT[/PATH]; IPv6 hosts in brackets.
std::optional<Endpoint> parse_url(const std::string& url, std::string& why) {
  Endpoint e;
  std::string rest = url;
  if (size_t scheme = rest.find("://"); scheme != std::string::npos) {
    if (rest.substr(0, scheme) != "http") {
      why = "only http:// URLs are supported (got '" + url + "')";
      return std::nullopt;
    }
    rest = rest.substr(scheme + 3);
  }
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  if (slash != std::string::npos && slash + 1 < rest.size()) e.path = rest.substr(slash);
  size_t colon = authority.rfind(':');
  size_t bracket = authority.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) {
    long long port = 0;
    if (!parse_int(authority.substr(colon + 1), 1, 65535, port)) {
      why = "bad port in '" + url + "'";
      return std::nullopt;
    }
    e.port = static_cast<int>(port);
    authority = authority.substr(0, colon);
  }
  if (authority.size() >= 2 && authority.front() == '[' && authority.back() == ']')
    authority = authority.substr(1, authority.size() - 2);
  if (authority.empty()) {
    why = "no host in '" + url + "'";
    return std::nullopt;
  }
  e.host = authority;
  bool v6 = authority.find(':') != std::string::npos;
  e.display = "http://" + (v6 ? "[" + authority + "]" : authority) + ":" + std::to_string(e.port) + e.path;
  return e;
}

struct Frame {
  std::chrono::steady_clock::time_point at;
  PromScrape metrics;
  std::optional<MetricsSnapshot> instances;  // empty if the endpoint has no /instances
};

// httplib's error names ("Connection") are terse; say what happened.
std::string describe(httplib::Error e) {
  switch (e) {
    case httplib::Error::Connection: return "connection refused or host unreachable";
    case httplib::Error::ConnectionTimeout: return "connection timed out";
    case httplib::Error::Read: return "no complete response (read failed or timed out)";
    case httplib::Error::Write: return "cannot send the request";
    default: return httplib::to_string(e);
  }
}

// One scrape: GET path, then GET path/instances. Errors: one line.
Result<Frame> scrape(httplib::Client& client, const Endpoint& e) {
  Frame f;
  f.at = std::chrono::steady_clock::now();
  auto res = client.Get(e.path.c_str());
  if (!res) return Status::unavailable("cannot reach " + e.display + ": " + describe(res.error()));
  if (res->status != 200)
    return Status::unavailable(e.display + " answered HTTP " + std::to_string(res->status));
  auto parsed = parse_prom_text(res->body);
  if (!parsed) return Status::invalid_argument(e.display + " is not Prometheus text: " + parsed.error());
  f.metrics = std::move(*parsed);
  auto inst = client.Get((e.path + "/instances?n=5").c_str());
  if (inst && inst->status == 200) {
    MetricsSnapshot s;
    if (parse_instances_json(inst->body, s)) f.instances = std::move(s);
  }
  return f;
}

std::string rate(double now, double before, double seconds) {
  if (seconds <= 0 || now < before) return "-";  // a restarted runtime resets its counters
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", (now - before) / seconds);
  return buf;
}

// p99 of what was handled during the interval (bucket differences); of everything so
// far when nothing was.
// The remote store's lines (docs/METRICS.md#remote), when the runtime has one: answers by
// status class summed over routes, their rate, retries, splits, the outbox.
std::string remote_lines(const PromScrape& m, const PromScrape& before, double dt) {
  if (m.get("weft_remote_in_flight", {}, {}, -1) < 0) return {};
  auto by_status = [](const PromScrape& s, const std::string& status) {
    double n = 0;
    for (const auto& x : s.samples)
      if (x.name == "weft_remote_answers_total") {
        auto it = x.labels.find("status");
        if (status.empty() || (it != x.labels.end() && it->second == status)) n += x.value;
      }
    return n;
  };
  double retries = 0;
  for (const std::string& cause : m.label_values("weft_remote_retries_total", "cause"))
    retries += m.get("weft_remote_retries_total", "cause", cause);
  char line[512];
  std::string out;
  std::snprintf(line, sizeof line,
                "  remote        %.0f in flight, %.0f answers (%s/s; 2xx %.0f, 4xx %.0f, 5xx %.0f, none %.0f), "
                "%.0f retries, %.0f splits, %.0f 409s\n",
                m.get("weft_remote_in_flight"), by_status(m, ""), rate(by_status(m, ""), by_status(before, ""), dt).c_str(),
                by_status(m, "2xx"), by_status(m, "4xx"), by_status(m, "5xx"), by_status(m, "error"), retries,
                m.get("weft_remote_splits_total"), m.get("weft_remote_conflicts_total"));
  out += line;
  std::snprintf(line, sizeof line,
                "                outbox %.0f requests (%.0f bytes), %.0f kept, %.0f refused by the server, "
                "calls to %s%s\n",
                m.get("weft_remote_outbox_depth"), m.get("weft_remote_outbox_bytes"), m.get("weft_remote_kept_total"),
                m.get("weft_remote_rejected_total"),
                m.get("weft_remote_calls_complete_mode") != 0 ? "calls/complete" : "upsert_batch",
                m.get("weft_remote_auth_failures_total") > 0 ? ", API KEY REFUSED" : "");
  out += line;
  return out;
}

std::string interval_p99(const PromScrape& now, const PromScrape& before, const std::string& kind) {
  auto b1 = now.buckets("weft_handler_seconds", "kind", kind);
  auto b0 = before.buckets("weft_handler_seconds", "kind", kind);
  auto delta = b1;
  bool same_shape = b0.size() == b1.size();
  for (size_t i = 0; same_shape && i < b1.size(); ++i) delta[i].second -= b0[i].second;
  double q = same_shape && !delta.empty() && delta.back().second > 0 ? histogram_quantile(0.99, delta)
                                                                       : histogram_quantile(0.99, b1);
  return q < 0 ? "-" : format_duration_ns(q * 1e9);
}

std::string clip(std::string s, size_t n) {
  if (s.size() > n) s = s.substr(0, n - 3) + "...";
  return s;
}

std::string render(const Endpoint& e, const Frame& before, const Frame& now, double interval) {
  std::string out;
  char line[512];
  const PromScrape& m = now.metrics;
  const double dt = std::chrono::duration<double>(now.at - before.at).count();
  std::time_t wall = std::time(nullptr);
  char clock[16];
  std::strftime(clock, sizeof clock, "%H:%M:%S", std::localtime(&wall));
  std::snprintf(line, sizeof line, "weft top  %s  every %.2g s  %s\n\n", e.display.c_str(), interval, clock);
  out += line;
  std::snprintf(line, sizeof line, "  %-13s %7s %8s %10s %12s %12s\n", "kind", "alive", "depth", "high-water",
                "processed/s", "handler p99");
  out += line;
  for (const std::string& kind : m.label_values("weft_mailbox_depth", "kind")) {
    bool thread = kind == "dispatcher" || kind == "store_writer";
    std::string hw = thread ? "-" : std::to_string(static_cast<long long>(m.get("weft_mailbox_high_water", "kind", kind)));
    std::snprintf(line, sizeof line, "  %-13s %7.0f %8.0f %10s %12s %12s\n", kind.c_str(),
                  m.get("weft_actors_alive", "kind", kind), m.get("weft_mailbox_depth", "kind", kind), hw.c_str(),
                  rate(m.get("weft_messages_processed_total", "kind", kind),
                       before.metrics.get("weft_messages_processed_total", "kind", kind), dt)
                      .c_str(),
                  interval_p99(m, before.metrics, kind).c_str());
    out += line;
  }
  double written = 0, written_before = 0;
  for (const std::string& r : m.label_values("weft_store_requests_written_total", "request")) {
    written += m.get("weft_store_requests_written_total", "request", r);
    written_before += before.metrics.get("weft_store_requests_written_total", "request", r);
  }
  std::snprintf(line, sizeof line,
                "\n  store         queue %.0f, written %.0f (%s/s), %.0f batches, %.0f errors%s\n",
                m.get("weft_store_queue_depth"), written, rate(written, written_before, dt).c_str(),
                m.get("weft_store_batches_total"), m.get("weft_store_errors_total"),
                m.get("weft_store_paused") != 0 ? ", PAUSED" : "");
  out += line;
  std::snprintf(line, sizeof line,
                "  pending       %.0f dependencies (%.0f parents waiting), oldest wait %.1f s, %.0f open calls, "
                "hand-off queue %.0f\n",
                m.get("weft_pending_dependencies"), m.get("weft_parents_waiting"), m.get("weft_oldest_wait_seconds"),
                m.get("weft_open_calls"), m.get("weft_handoff_queue_depth"));
  out += line;
  std::snprintf(line, sizeof line, "  events        %s/s accepted, %.0f refused, %.0f errors reported\n",
                rate(m.get("weft_events_accepted_total"), before.metrics.get("weft_events_accepted_total"), dt).c_str(),
                m.get("weft_events_refused_total"), m.get("weft_errors_reported_total"));
  out += line;

  out += remote_lines(m, before.metrics, dt);

  if (!now.instances) {
    out += "\n  (no per-instance data: " + e.path + "/instances did not answer)\n";
    return out;
  }
  auto table = [&](const char* title, const std::vector<InstanceMetrics>& v) {
    out += "\n";
    out += title;
    if (v.empty()) {
      out += "  (none)\n";
      return;
    }
    out += "\n";
    std::snprintf(line, sizeof line, "  %10s %-7s %6s %9s  %s\n", "id", "kind", "depth", "waiting", "what / waiting for");
    out += line;
    for (const InstanceMetrics& i : v) {
      std::string what = i.label.empty() ? "(starting)" : i.label;
      if (!i.waiting_for.empty()) what += "  <- " + i.waiting_for;
      char waited[16] = "-";
      if (i.waiting_seconds > 0) std::snprintf(waited, sizeof waited, "%.1f s", i.waiting_seconds);
      std::snprintf(line, sizeof line, "  %10llu %-7s %6llu %9s  %s\n", static_cast<unsigned long long>(i.id),
                    i.kind.c_str(), static_cast<unsigned long long>(i.mailbox_depth), waited, clip(what, 90).c_str());
      out += line;
    }
  };
  table("deepest mailboxes", now.instances->deepest);
  table("longest waiting", now.instances->oldest);
  return out;
}

}  // namespace

int cmd_top(int argc, char** argv) {
  std::string url = "http://127.0.0.1:9464/metrics", interval_s = "1";
  bool once = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return finish_stdout(kName);
    }
    if (a == "--once") {
      once = true;
      continue;
    }
    int r = 0;
    for (auto [flag, into] : {std::pair{"url", &url}, std::pair{"interval", &interval_s}}) {
      if ((r = flag_value(i, argc, argv, flag, *into)) != 0) break;
    }
    if (r < 0) return fail(kName, std::string(a) + " needs a value (see 'weft top --help')");
    if (r == 0) return fail(kName, "unknown argument '" + std::string(a) + "' (see 'weft top --help')");
  }
  char* end = nullptr;
  double interval = std::strtod(interval_s.c_str(), &end);
  if (interval_s.empty() || *end != '\0' || !(interval >= 0.05 && interval <= 3600))
    return fail(kName, "--interval must be a number of seconds from 0.05 to 3600 (got '" + interval_s + "')");
  std::string why;
  auto endpoint = parse_url(url, why);
  if (!endpoint) return fail(kName, why);

  httplib::Client client(endpoint->host, endpoint->port);
  client.set_tcp_nodelay(true);
  client.set_keep_alive(true);
  client.set_connection_timeout(2);
  client.set_read_timeout(5);

  const bool tty = isatty(STDOUT_FILENO) == 1;
  const auto period = std::chrono::duration<double>(interval);
  std::optional<Frame> before;
  for (;;) {
    auto frame = scrape(client, *endpoint);
    if (!frame) {
      if (once) {
        fail(kName, frame.error());
        return kExitFailure;
      }
      // Live: keep trying, visibly; the next good scrape starts the rates afresh.
      before.reset();
      std::printf("%sweft top  %s\n\n  unreachable: %s (retrying every %.2g s)\n", tty ? "\x1b[H\x1b[2J" : "",
                  endpoint->display.c_str(), frame.error().c_str(), interval);
      std::fflush(stdout);
      std::this_thread::sleep_for(period);
      continue;
    }
    if (before) {
      std::string text = render(*endpoint, *before, *frame, interval);
      if (tty) std::fputs("\x1b[H\x1b[2J", stdout);  // home + clear: redraw in place
      else if (!once) text += "\n";
      if (!write_stdout(text) || std::fflush(stdout) != 0) return finish_stdout(kName);
      if (once) return finish_stdout(kName);
    }
    before = std::move(*frame);
    std::this_thread::sleep_for(period);
  }
}

}  // namespace weft::cli
