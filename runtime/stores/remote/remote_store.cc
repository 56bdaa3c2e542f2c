// The remote store (remote_store.h): requests in, through the outbox, out over HTTP, ends
// back to the store writer. Everything in this file runs on the store writer's thread.
//
// An item is one store request being delivered. obj/table/file creations travel alone
// (a table over 1,000 rows or the request limit goes as chunks of rows, then
// table_create_from_digests); calls are gathered into /call/upsert_batch requests, or in
// complete mode a call's start waits for its end and the two go as one item of
// /v2/{entity}/{project}/calls/complete (the end item carries its start as a rider); a
// start still waiting after show_running_after goes alone to /v2/.../call/start, and its
// end, once the start is acknowledged, to /v2/.../call/end. A flight
// is one HTTP request and the items it carries. An answer ends its items (delivered,
// refused, kept) or sends the flight again: later (429, 5xx, timeouts, dropped
// connections: exponential back-off with full jitter, at least Retry-After), split in
// halves (413, or a batch the server refused: the bad item is found in log2(n) requests),
// or at once without expected_digest (409).
#include "runtime/stores/remote/remote_store.h"

#include <algorithm>
#include <cctype>
#include <deque>
#include <map>
#include <optional>
#include <random>
#include <unordered_map>
#include <utility>
#include <vector>

#include <weft/ids.h>
#include <weft/json.h>
#include <weft/store.h>
#include <weft/version.h>

#include "runtime/model/json_escape.h"
#include "runtime/stores/remote/credentials.h"
#include "runtime/stores/remote/http_client.h"
#include "runtime/stores/remote/outbox.h"
#include "runtime/stores/request_body.h"

namespace weft {

const char* remote_route_path(RemoteRoute r) {
  switch (r) {
    case RemoteRoute::kObjCreate: return "/obj/create";
    case RemoteRoute::kTableCreate: return "/table/create";
    case RemoteRoute::kTableFromDigests: return "/table/create_from_digests";
    case RemoteRoute::kFileCreate: return "/files/create";
    case RemoteRoute::kCalls: return "/call/upsert_batch";
    case RemoteRoute::kCallsComplete: return "/v2/{entity}/{project}/calls/complete";
    case RemoteRoute::kCallStartV2: return "/v2/{entity}/{project}/call/start";
    case RemoteRoute::kCallEndV2: return "/v2/{entity}/{project}/call/end";
  }
  return "?";
}

const char* answer_class_name(AnswerClass c) {
  static constexpr const char* kNames[] = {"2xx", "4xx", "5xx", "error"};
  return kNames[static_cast<size_t>(c)];
}

const char* retry_cause_name(RetryCause c) {
  static constexpr const char* kNames[] = {"429", "5xx", "timeout", "connection"};
  return kNames[static_cast<size_t>(c)];
}

namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxTableRowsPerRequest = 1000;  // Weave's client sends bigger tables in chunks
constexpr size_t kReplayChunk = 256;

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::optional<std::string> read_netrc_key(const std::string& url) {
  std::string path = env("NETRC");
  if (path.empty()) {
    std::string home = env("HOME");
    if (home.empty()) return std::nullopt;
    path = home + "/.netrc";
  }
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::nullopt;
  std::string text;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
  std::fclose(f);
  return netrc_password(text, url_host(url));
}

std::string resolved_url(const RemoteOptions& o) {
  std::string url = !o.url.empty() ? o.url : env("WF_TRACE_SERVER_URL");
  if (url.empty()) url = "https://trace.wandb.ai";
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

// The server's reason for a refusal, short: its "detail"/"reason"/"message", else the body.
std::string server_reason(const HttpResponse& r) {
  std::string text = r.body;
  if (auto v = parse_json(r.body); v && v->kind() == ValueKind::kDict) {
    for (const char* k : {"detail", "reason", "message", "error"}) {
      if (const Value* d = v->find(k)) {
        text = d->kind() == ValueKind::kString ? std::string(d->as_string()) : canonical_json(*d);
        break;
      }
    }
  }
  if (text.size() > 300) text = text.substr(0, 300) + "...";
  return "HTTP " + std::to_string(r.status) + (text.empty() ? "" : ": " + text);
}

std::optional<std::string> answer_string(const std::string& body, const char* key) {
  auto v = parse_json(body);
  if (!v || v->kind() != ValueKind::kDict) return std::nullopt;
  const Value* d = v->find(key);
  if (!d || d->kind() != ValueKind::kString) return std::nullopt;
  return std::string(d->as_string());
}

// "entity/project" as the v2 routes' path segments, percent-encoded.
std::string v2_prefix(const std::string& project) {
  std::string out = "/v2/";
  for (unsigned char c : project) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      static constexpr char kHex[] = "0123456789ABCDEF";
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::vector<std::string>> answer_strings(const std::string& body, const char* key) {
  auto v = parse_json(body);
  if (!v || v->kind() != ValueKind::kDict) return std::nullopt;
  const Value* d = v->find(key);
  if (!d || d->kind() != ValueKind::kList) return std::nullopt;
  std::vector<std::string> out;
  for (const Value& e : d->items()) {
    if (e.kind() != ValueKind::kString) return std::nullopt;
    out.push_back(std::string(e.as_string()));
  }
  return out;
}

class RemoteStore final : public AsyncStore {
 public:
  RemoteStore(std::string project, RemoteOptions options, std::string url,
              std::unique_ptr<HttpClient> http, std::unique_ptr<Outbox> outbox)
      : project_(std::move(project)),
        options_(std::move(options)),
        url_(std::move(url)),
        http_(std::move(http)),
        outbox_(std::move(outbox)),
        v2_prefix_(v2_prefix(project_)),
        complete_(options_.calls_route == CallsRoute::kComplete),
        replay_left_(outbox_ ? outbox_->depth() : 0) {
    counters_.replayed.store(replay_left_, std::memory_order_relaxed);
    counters_.complete_mode.store(complete_, std::memory_order_relaxed);
    update_outbox_counters();
  }

  ~RemoteStore() override { http_.reset(); }  // the HTTP thread first: nothing answers after

  std::string describe() const override { return "remote:" + url_; }
  bool assigns_ref_digests() const override { return true; }
  // Retried for retry_timeout, then one more attempt of at most a back-off, a connection
  // and a request timeout: then the item ends (kept in the outbox).
  std::chrono::milliseconds longest_pending() const override {
    return options_.retry_timeout + options_.max_backoff + options_.connect_timeout + options_.request_timeout;
  }
  uint64_t pending() const override { return tickets_pending_; }
  const RemoteCounters& counters() const { return counters_; }

  void send(std::span<AsyncItem> batch, std::vector<Status>& accepted) override {
    accepted.assign(batch.size(), Status::ok());
    std::vector<uint64_t> ids;
    if (outbox_) {
      records_.clear();
      for (const auto& it : batch)
        records_.push_back(OutboxRecord{request_kind_name(it.request), dead_letter_body_json(it.request)});
      Status st = outbox_->append(records_, ids);
      records_.clear();
      if (!st.is_ok()) {
        accepted.assign(batch.size(), st.with_context("outbox " + outbox_->path()));
        return;
      }
      update_outbox_counters();
    } else {
      for (size_t i = 0; i < batch.size(); ++i) ids.push_back(next_local_id_++);
    }
    for (size_t i = 0; i < batch.size(); ++i) {
      ++tickets_pending_;
      admit(ids[i], batch[i].ticket, std::move(batch[i].request));
    }
    send_calls(Clock::now(), false);
  }

  size_t poll(std::vector<AsyncResult>& out) override {
    answers_.clear();
    http_->poll(answers_);
    for (auto& a : answers_) on_answer(a);
    answers_.clear();
    const auto now = Clock::now();
    while (!delayed_.empty() && delayed_.begin()->first <= now) {
      Flight f = std::move(delayed_.begin()->second);
      delayed_.erase(delayed_.begin());
      if (is_call_route(f.route) && (f.route == RemoteRoute::kCalls) == complete_) {
        reroute(f);  // the calls route changed while this flight waited
      } else {
        submit(std::move(f));
      }
    }
    fire_running_timers(now);
    send_calls(now, false);
    replay_some();
    remove_delivered();
    const size_t n = results_.size();
    for (auto& r : results_) out.push_back(std::move(r));
    results_.clear();
    return n;
  }

  void abandon(std::vector<AsyncResult>& out) override {
    // The writer stops with work outstanding: every item is kept in the outbox (a later
    // runtime or `weft replay --outbox` delivers it), or failed without one.
    const Status why = Status::unavailable(
        "not acknowledged by " + url_ + " before the store stopped" +
        (outbox_ ? "; kept in the outbox " + outbox_->path() : std::string()));
    std::vector<uint64_t> ids;
    for (auto& [id, item] : items_) ids.push_back(id);
    for (uint64_t id : ids) end_item(id, why, /*keep=*/outbox_ != nullptr, {});
    flights_.clear();
    delayed_.clear();
    calls_ready_.clear();
    held_starts_.clear();
    held_ends_.clear();
    start_timers_.clear();
    end_timers_.clear();
    running_.clear();
    remove_delivered();
    for (auto& r : results_) out.push_back(std::move(r));
    results_.clear();
  }

 private:
  struct Item {
    uint64_t ticket = 0;  // 0: replayed from an earlier process's outbox
    StoreRequest request;
    std::string body;              // the wire body (a call: its upsert_batch item)
    bool expected_digest = false;  // obj/file creation: the local digest is the server's
    uint32_t attempts = 0;
    bool failing = false;
    Clock::time_point first_failure{};
    std::string last_failure;
    // A table sent as chunks of rows, then table_create_from_digests.
    std::vector<std::pair<size_t, size_t>> chunks;  // [begin, end) row ranges
    std::vector<std::vector<std::string>> chunk_digests;
    size_t chunks_left = 0;
    // Complete mode: the start item this end item carries in its calls/complete item (it
    // ends with it), and whether this start went alone to /v2/.../call/start.
    uint64_t rider = 0;
    bool running_start = false;
  };
  // A call whose start went alone to /v2/.../call/start: its end waits for the start's
  // acknowledgement (the server updates the started row).
  struct RunningCall {
    bool acknowledged = false;
    uint64_t end_id = 0;  // the end item waiting, or 0
  };
  struct Flight {
    RemoteRoute route = RemoteRoute::kCalls;
    std::vector<uint64_t> ids;
    size_t chunk = SIZE_MAX;  // a table chunk's index
  };

  void admit(uint64_t id, uint64_t ticket, StoreRequest request) {
    Item& item = items_[id];
    item.ticket = ticket;
    item.request = std::move(request);
    std::visit([&](auto& req) { prepare(id, item, req); }, item.request);
  }

  void prepare(uint64_t id, Item& item, ObjCreateRequest& req) {
    item.expected_digest = req.refs.empty();  // ref-free: the server computes the same digest
    item.body = wire_body_json(item.request, item.expected_digest);
    submit(Flight{RemoteRoute::kObjCreate, {id}});
    (void)req;
  }
  void prepare(uint64_t id, Item& item, TableCreateRequest& req) {
    uint64_t bytes = 64;
    for (const auto& r : req.rows_json) bytes += r.size() + 1;
    if (req.rows_json.size() <= kMaxTableRowsPerRequest && bytes <= options_.max_request_bytes) {
      item.body = wire_body_json(item.request, false);
      submit(Flight{RemoteRoute::kTableCreate, {id}});
      return;
    }
    // Chunks of at most 1,000 rows and half the request limit, then one create_from_digests.
    size_t begin = 0;
    uint64_t chunk_bytes = 0;
    for (size_t i = 0; i < req.rows_json.size(); ++i) {
      const uint64_t row = req.rows_json[i].size() + 1;
      if (i > begin && (i - begin == kMaxTableRowsPerRequest || chunk_bytes + row > options_.max_request_bytes / 2)) {
        item.chunks.emplace_back(begin, i);
        begin = i;
        chunk_bytes = 0;
      }
      chunk_bytes += row;
    }
    item.chunks.emplace_back(begin, req.rows_json.size());
    item.chunk_digests.resize(item.chunks.size());
    item.chunks_left = item.chunks.size();
    for (size_t c = 0; c < item.chunks.size(); ++c) submit(Flight{RemoteRoute::kTableCreate, {id}, c});
  }
  void prepare(uint64_t id, Item& item, FileCreateRequest&) {
    item.expected_digest = true;  // bytes have no refs
    submit(Flight{RemoteRoute::kFileCreate, {id}});
  }
  void prepare(uint64_t id, Item& item, CallStartRequest&) { prepare_call(id, item, "start"); }
  void prepare(uint64_t id, Item& item, CallEndRequest&) { prepare_call(id, item, "end"); }

  void prepare_call(uint64_t id, Item& item, const char* mode) {
    if (complete_) return prepare_complete(id, item);
    item.body = std::string("{\"mode\":\"") + mode + "\",\"req\":" + wire_body_json(item.request, false) + "}";
    queue_call(id, item);
  }
  void prepare_legacy(uint64_t id) {
    Item& item = items_.at(id);
    prepare_call(id, item, std::holds_alternative<CallStartRequest>(item.request) ? "start" : "end");
  }

  // Complete mode: a start waits for its end (or show_running_after); an end pairs with
  // its start, follows a start sent alone, or waits show_running_after for a start that may
  // still come (one delivered by an earlier run never does).
  void prepare_complete(uint64_t id, Item& item) {
    const auto now = Clock::now();
    if (const auto* start = std::get_if<CallStartRequest>(&item.request)) {
      if (auto e = held_ends_.find(start->id); e != held_ends_.end()) {
        const uint64_t end_id = e->second;
        held_ends_.erase(e);
        return pair_call(id, end_id);
      }
      if (!held_starts_.emplace(start->id, id).second) return send_running_start(id);  // a second start
      start_timers_.emplace_back(now + options_.show_running_after, start->id);
      return;
    }
    const std::string& call_id = std::get<CallEndRequest>(item.request).id;
    if (auto s = held_starts_.find(call_id); s != held_starts_.end()) {
      const uint64_t start_id = s->second;
      held_starts_.erase(s);
      return pair_call(start_id, id);
    }
    if (auto r = running_.find(call_id); r != running_.end()) {
      if (r->second.acknowledged) return send_running_end(id);
      r->second.end_id = id;
      return;
    }
    if (!held_ends_.emplace(call_id, id).second) return send_running_end(id);
    end_timers_.emplace_back(now + options_.show_running_after, call_id);
  }

  void pair_call(uint64_t start_id, uint64_t end_id) {
    Item& end = items_.at(end_id);
    end.body = complete_call_json(std::get<CallStartRequest>(items_.at(start_id).request),
                                  std::get<CallEndRequest>(end.request));
    end.rider = start_id;
    queue_call(end_id, end);
  }

  void send_running_start(uint64_t id) {
    Item& item = items_.at(id);
    item.running_start = true;
    item.body = wire_body_json(item.request, false);  // {"start": {...}}
    running_.try_emplace(std::get<CallStartRequest>(item.request).id);
    submit_single(id, item, RemoteRoute::kCallStartV2);
  }

  void send_running_end(uint64_t id) {
    Item& item = items_.at(id);
    item.body = v2_call_end_json(std::get<CallEndRequest>(item.request));
    submit_single(id, item, RemoteRoute::kCallEndV2);
  }

  void submit_single(uint64_t id, Item& item, RemoteRoute route) {
    if (!fits(id, item)) return;
    submit(Flight{route, {id}});
  }

  // Starts and ends waiting longer than show_running_after go alone.
  void fire_running_timers(Clock::time_point now) {
    while (!start_timers_.empty() && start_timers_.front().first <= now) {
      auto it = held_starts_.find(start_timers_.front().second);
      start_timers_.pop_front();
      if (it == held_starts_.end()) continue;  // its end came
      const uint64_t id = it->second;
      held_starts_.erase(it);
      send_running_start(id);
    }
    while (!end_timers_.empty() && end_timers_.front().first <= now) {
      auto it = held_ends_.find(end_timers_.front().second);
      end_timers_.pop_front();
      if (it == held_ends_.end()) continue;
      const uint64_t id = it->second;
      held_ends_.erase(it);
      send_running_end(id);
    }
  }

  static bool is_call_route(RemoteRoute r) {
    return r == RemoteRoute::kCalls || r == RemoteRoute::kCallsComplete || r == RemoteRoute::kCallStartV2 ||
           r == RemoteRoute::kCallEndV2;
  }

  // The server asked for the other calls route: what is waiting goes that way.
  void switch_calls_route(bool complete, const std::string& why) {
    complete_ = complete;
    counters_.complete_mode.store(complete, std::memory_order_relaxed);
    counters_.route_switches.fetch_add(1, std::memory_order_relaxed);
    report("remote calls route", "remote " + url_ + ": " + why + "; calls now go to " +
                                     (complete ? v2_prefix_ + "/calls/complete" : std::string("/call/upsert_batch")));
    std::vector<uint64_t> waiting(calls_ready_.begin(), calls_ready_.end());
    calls_ready_.clear();
    calls_ready_bytes_ = 0;
    if (!complete) {
      for (auto& [call, id] : held_starts_) waiting.push_back(id);
      for (auto& [call, id] : held_ends_) waiting.push_back(id);
      held_starts_.clear();
      held_ends_.clear();
      start_timers_.clear();
      end_timers_.clear();
    }
    Flight f{complete ? RemoteRoute::kCalls : RemoteRoute::kCallsComplete, std::move(waiting)};
    reroute(f);
  }

  // A flight's call items, prepared again for the current calls route.
  void reroute(Flight& f) {
    for (uint64_t id : f.ids) {
      auto it = items_.find(id);
      if (it == items_.end()) continue;
      Item& item = it->second;
      if (complete_) {
        prepare_complete(id, item);
        continue;
      }
      if (item.rider != 0) {
        const uint64_t start_id = std::exchange(item.rider, 0);
        if (items_.count(start_id)) prepare_legacy(start_id);
      }
      if (item.running_start) {
        item.running_start = false;
        auto r = running_.find(std::get<CallStartRequest>(item.request).id);
        const uint64_t end_id = r == running_.end() ? 0 : r->second.end_id;
        if (r != running_.end()) running_.erase(r);
        prepare_legacy(id);
        if (end_id != 0 && items_.count(end_id)) prepare_legacy(end_id);
        continue;
      }
      if (const auto* end = std::get_if<CallEndRequest>(&item.request)) running_.erase(end->id);
      prepare_legacy(id);
    }
  }

  // Whether the item's body fits in one request; if not, it is dead-lettered now.
  bool fits(uint64_t id, Item& item) {
    if (item.body.size() + 16 <= options_.max_request_bytes) return true;
    end_item(id, Status::invalid_argument("a " + std::string(request_kind_name(item.request)) + " of " +
                                          std::to_string(item.body.size()) + " bytes is over the " +
                                          std::to_string(options_.max_request_bytes) + "-byte request limit"),
             false, {});
    return false;
  }

  void queue_call(uint64_t id, Item& item) {
    if (!fits(id, item)) return;
    if (calls_ready_.empty()) calls_since_ = Clock::now();
    calls_ready_.push_back(id);
    calls_ready_bytes_ += item.body.size() + 1;
  }

  // Closes call batches: full ones now, the last partial one once batch_interval passed.
  void send_calls(Clock::time_point now, bool force) {
    while (!calls_ready_.empty()) {
      const bool full = calls_ready_.size() >= options_.batch_max_calls ||
                        calls_ready_bytes_ + 16 >= options_.max_request_bytes;
      if (!full && !force && now - calls_since_ < options_.batch_interval) return;
      Flight f{complete_ ? RemoteRoute::kCallsComplete : RemoteRoute::kCalls, {}};
      uint64_t bytes = 16;
      while (!calls_ready_.empty() && f.ids.size() < options_.batch_max_calls) {
        auto it = items_.find(calls_ready_.front());
        const uint64_t b = it == items_.end() ? 0 : it->second.body.size() + 1;
        if (!f.ids.empty() && bytes + b > options_.max_request_bytes) break;
        calls_ready_.pop_front();
        calls_ready_bytes_ -= b;
        if (it == items_.end()) continue;
        bytes += b;
        f.ids.push_back(it->first);
      }
      calls_since_ = now;
      if (!f.ids.empty()) submit(std::move(f));
    }
    calls_ready_bytes_ = 0;
  }

  void submit(Flight f) {
    HttpRequest req;
    req.tag = next_tag_++;
    switch (f.route) {
      case RemoteRoute::kCallsComplete: req.path = v2_prefix_ + "/calls/complete"; break;
      case RemoteRoute::kCallStartV2: req.path = v2_prefix_ + "/call/start"; break;
      case RemoteRoute::kCallEndV2: req.path = v2_prefix_ + "/call/end"; break;
      default: req.path = remote_route_path(f.route);
    }
    Item& first = items_.at(f.ids.front());
    switch (f.route) {
      case RemoteRoute::kObjCreate:
        req.body = first.body;
        break;
      case RemoteRoute::kTableCreate:
        if (f.chunk == SIZE_MAX) {
          req.body = first.body;
        } else {
          const auto& t = std::get<TableCreateRequest>(first.request);
          auto [b, e] = first.chunks[f.chunk];
          req.body = "{\"table\":{\"project_id\":";
          req.body += json_string(t.project_id);
          req.body += ",\"rows\":[";
          for (size_t i = b; i < e; ++i) {
            if (i > b) req.body += ',';
            req.body += t.rows_json[i].empty() ? std::string_view("{}") : std::string_view(t.rows_json[i]);
          }
          req.body += "]}}";
        }
        break;
      case RemoteRoute::kTableFromDigests: {
        const auto& t = std::get<TableCreateRequest>(first.request);
        req.body = "{\"project_id\":" + json_string(t.project_id) + ",\"row_digests\":[";
        bool comma = false;
        for (const auto& chunk : first.chunk_digests)
          for (const auto& d : chunk) {
            if (comma) req.body += ',';
            comma = true;
            req.body += json_string(d);
          }
        req.body += "]}";
        break;
      }
      case RemoteRoute::kFileCreate: {
        const auto& file = std::get<FileCreateRequest>(first.request);
        req.form.push_back(FormPart{"project_id", file.project_id, std::nullopt, ""});
        if (first.expected_digest) req.form.push_back(FormPart{"expected_digest", file.digest, std::nullopt, ""});
        req.form.push_back(FormPart{"file", file.bytes ? *file.bytes : std::string(), file.name,
                                    "application/octet-stream"});
        break;
      }
      case RemoteRoute::kCallStartV2:
      case RemoteRoute::kCallEndV2:
        req.body = first.body;
        break;
      case RemoteRoute::kCalls:
      case RemoteRoute::kCallsComplete:
        req.body = "{\"batch\":[";
        for (size_t i = 0; i < f.ids.size(); ++i) {
          if (i) req.body += ',';
          req.body += items_.at(f.ids[i]).body;
        }
        req.body += "]}";
        counters_.call_batches.fetch_add(1, std::memory_order_relaxed);
        break;
    }
    uint64_t bytes = req.body.size();
    for (const auto& p : req.form) bytes += p.data.size();
    counters_.bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
    counters_.in_flight.fetch_add(1, std::memory_order_relaxed);
    flights_.emplace(req.tag, std::move(f));
    http_->submit(std::move(req));
  }

  void count_answer(RemoteRoute route, const HttpResponse& a) {
    AnswerClass c = a.status == 0     ? AnswerClass::kTransport
                    : a.status < 300  ? AnswerClass::k2xx
                    : a.status < 500  ? AnswerClass::k4xx
                                      : AnswerClass::k5xx;
    counters_.answers[static_cast<size_t>(route)][static_cast<size_t>(c)].fetch_add(1, std::memory_order_relaxed);
    counters_.latency.record(static_cast<uint64_t>(a.latency.count()) * 1000);
  }

  void on_answer(HttpResponse& a) {
    auto fit = flights_.find(a.tag);
    if (fit == flights_.end()) return;
    Flight f = std::move(fit->second);
    flights_.erase(fit);
    counters_.in_flight.fetch_sub(1, std::memory_order_relaxed);
    count_answer(f.route, a);
    // Items may have ended meanwhile (abandoned): carry on with the ones still here.
    std::erase_if(f.ids, [&](uint64_t id) { return !items_.count(id); });
    if (f.ids.empty()) return;
    const long s = a.status;
    if (s >= 200 && s < 300) return on_delivered(f, a);
    if (s == 0) return retry(std::move(f), a.timed_out ? RetryCause::kTimeout : RetryCause::kConnection,
                             std::nullopt, a.timed_out ? "timed out: " + a.transport_error : a.transport_error);
    if (s == 429) return retry(std::move(f), RetryCause::kThrottled, a.retry_after, server_reason(a));
    if (s >= 500 || s == 408) return retry(std::move(f), s == 408 ? RetryCause::kTimeout : RetryCause::kServerError,
                                           a.retry_after, server_reason(a));
    if (s == 401 || s == 403) {
      counters_.auth_failures.fetch_add(1, std::memory_order_relaxed);
      const Status why = Status::failed_precondition(
          "the server " + url_ + " refused the API key (" + server_reason(a) +
          "); check WANDB_API_KEY" + (outbox_ ? ". The work is kept in the outbox " + outbox_->path() +
                                                    ": `weft replay --outbox` delivers it" : std::string()));
      for (uint64_t id : f.ids) end_item(id, why, outbox_ != nullptr, {});
      return;
    }
    if (s == 400 && f.route == RemoteRoute::kCalls && !server_lacks_v2_ &&
        answer_string(a.body, "error_code") == std::optional<std::string>("CALLS_COMPLETE_MODE_REQUIRED")) {
      // The project takes only finished calls (Weave's calls_complete mode).
      server_wants_complete_ = true;
      if (!complete_) switch_calls_route(true, "the server requires calls complete mode (" + server_reason(a) + ")");
      return reroute(f);
    }
    if (s == 404 && is_call_route(f.route) && f.route != RemoteRoute::kCalls && !server_wants_complete_) {
      // A server without the v2 call routes: back to /call/upsert_batch.
      server_lacks_v2_ = true;
      if (complete_) switch_calls_route(false, "the server has no " + std::string(remote_route_path(f.route)) +
                                                   " (" + server_reason(a) + ")");
      return reroute(f);
    }
    if (s == 409 && f.route == RemoteRoute::kObjCreate && items_.at(f.ids[0]).expected_digest) {
      // Our digest rule and the server's disagree: the server's digest wins.
      counters_.conflicts_409.fetch_add(1, std::memory_order_relaxed);
      Item& item = items_.at(f.ids[0]);
      const auto& obj = std::get<ObjCreateRequest>(item.request);
      report("remote 409", "remote " + url_ + ": obj_create " + obj.object_id + ":" + obj.digest +
                               " refused for its expected_digest (" + server_reason(a) +
                               "); sent again without it, the server's digest is used");
      item.expected_digest = false;
      item.body = wire_body_json(item.request, false);
      return submit(std::move(f));
    }
    if (f.ids.size() > 1) {
      // 413, or a batch the server refused as a whole: halves, down to the item at fault.
      counters_.splits_413.fetch_add(1, std::memory_order_relaxed);
      Flight second{f.route, std::vector<uint64_t>(f.ids.begin() + static_cast<std::ptrdiff_t>(f.ids.size() / 2), f.ids.end())};
      f.ids.resize(f.ids.size() / 2);
      submit(std::move(f));
      return submit(std::move(second));
    }
    // One request the server will not take: dead-lettered with its reason (no retry loop).
    counters_.rejected.fetch_add(1, std::memory_order_relaxed);
    end_item(f.ids[0], Status::invalid_argument(std::string("refused by ") + url_ + remote_route_path(f.route) +
                                                ": " + server_reason(a)),
             false, {});
  }

  void on_delivered(Flight& f, const HttpResponse& a) {
    if (is_call_route(f.route)) {
      for (uint64_t id : f.ids) end_item(id, Status::ok(), false, {});
      return;
    }
    const uint64_t id = f.ids[0];
    Item& item = items_.at(id);
    if (f.route == RemoteRoute::kTableCreate && f.chunk != SIZE_MAX) {
      auto digests = answer_strings(a.body, "row_digests");
      auto [b, e] = item.chunks[f.chunk];
      if (!digests || digests->size() != e - b)
        return end_item(id, Status::internal("table_create answer without its row_digests: " + a.body.substr(0, 200)),
                        false, {});
      item.chunk_digests[f.chunk] = std::move(*digests);
      if (--item.chunks_left == 0) submit(Flight{RemoteRoute::kTableFromDigests, {id}});
      return;
    }
    std::optional<std::string> digest = answer_string(a.body, "digest");
    if (!digest) {
      if (!item.expected_digest)
        return end_item(id, Status::internal(std::string(remote_route_path(f.route)) +
                                              " answered without a digest: " + a.body.substr(0, 200)),
                        false, {});
      digest = local_digest(item.request);  // the server took our expected_digest
    }
    end_item(id, Status::ok(), false, std::move(*digest));
  }

  static std::string local_digest(const StoreRequest& r) {
    return std::visit([](const auto& q) -> std::string {
      if constexpr (requires { q.digest; }) return q.digest;
      else return {};
    }, r);
  }

  void retry(Flight f, RetryCause cause, std::optional<std::chrono::milliseconds> retry_after,
             const std::string& reason) {
    counters_.retries[static_cast<size_t>(cause)].fetch_add(1, std::memory_order_relaxed);
    const auto now = Clock::now();
    uint32_t attempts = 0;
    Clock::time_point oldest = now;
    for (uint64_t id : f.ids) {
      Item& item = items_.at(id);
      if (!item.failing) {
        item.failing = true;
        item.first_failure = now;
      }
      item.last_failure = reason;
      attempts = std::max(attempts, ++item.attempts);
      oldest = std::min(oldest, item.first_failure);
    }
    if (now - oldest >= options_.retry_timeout) {
      const Status why = Status::unavailable(
          std::string(remote_route_path(f.route)) + " still failing after " + std::to_string(attempts) +
          " attempts over " + std::to_string(std::chrono::duration_cast<std::chrono::seconds>(now - oldest).count()) +
          " s (" + reason + ")" + (outbox_ ? "; kept in the outbox " + outbox_->path() : std::string()));
      for (uint64_t id : f.ids) end_item(id, why, outbox_ != nullptr, {});
      return;
    }
    report(std::string("remote retry ") + retry_cause_name(cause),
           "remote " + url_ + remote_route_path(f.route) + ": " + reason + "; retrying (attempt " +
               std::to_string(attempts) + ")");
    // Full jitter over an exponential ceiling: clients that failed together retry apart.
    auto ceiling = std::min<std::chrono::milliseconds>(
        options_.first_backoff * (int64_t{1} << std::min<uint32_t>(attempts - 1, 20)), options_.max_backoff);
    std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(ceiling.count(), 1));
    std::chrono::milliseconds delay(pick(jitter_));
    if (retry_after) delay = std::max(delay, *retry_after);
    delayed_.emplace(now + delay, std::move(f));
  }

  // The item's end: reported to the writer (unless replayed), and out of the outbox unless
  // kept there for a later delivery.
  void end_item(uint64_t id, Status status, bool keep, std::string digest) {
    auto it = items_.find(id);
    if (it == items_.end()) return;
    Item& item = it->second;
    if (item.rider != 0) end_item(std::exchange(item.rider, 0), status, keep, {});  // its start, same fate
    if (item.running_start) end_running_start(item, status, keep);
    if (const auto* end = std::get_if<CallEndRequest>(&item.request)) running_.erase(end->id);
    if (!keep && outbox_) to_remove_.push_back(id);
    if (keep) counters_.kept.fetch_add(1, std::memory_order_relaxed);
    if (item.ticket == 0) {
      if (status.is_ok()) counters_.replay_delivered.fetch_add(1, std::memory_order_relaxed);
      counters_.replay_ended.fetch_add(1, std::memory_order_relaxed);
      if (replay_in_memory_ > 0) --replay_in_memory_;
    } else {
      --tickets_pending_;
    }
    if (item.ticket != 0 || (!status.is_ok() && !keep)) {
      AsyncResult r;
      r.ticket = item.ticket;
      r.kept = keep;
      r.digest = std::move(digest);
      if (!status.is_ok()) r.request = std::move(item.request);
      r.status = std::move(status);
      results_.push_back(std::move(r));
    }
    items_.erase(it);
  }

  // A start sent alone ended: acknowledged, its end may go; failed, its end shares its fate
  // (the server would refuse an end without its start).
  void end_running_start(Item& start, const Status& status, bool keep) {
    start.running_start = false;
    auto r = running_.find(std::get<CallStartRequest>(start.request).id);
    if (r == running_.end()) return;
    const uint64_t end_id = std::exchange(r->second.end_id, 0);
    if (!status.is_ok()) {
      running_.erase(r);
      if (end_id != 0) end_item(end_id, status, keep, {});
      return;
    }
    r->second.acknowledged = true;
    if (end_id != 0 && items_.count(end_id)) send_running_end(end_id);
  }

  // What an earlier process left in the outbox, a chunk at a time.
  void replay_some() {
    if (replay_left_ == 0 || replay_in_memory_ >= kReplayChunk / 2) return;
    auto entries = outbox_->read(replay_cursor_, std::min<uint64_t>(kReplayChunk, replay_left_));
    if (!entries) {
      report("remote outbox", "outbox " + outbox_->path() + ": cannot read what an earlier run left: " +
                                  entries.status().message());
      replay_left_ = 0;
      return;
    }
    if (entries->empty()) replay_left_ = 0;
    for (auto& e : *entries) {
      replay_cursor_ = e.id;
      --replay_left_;
      auto req = parse_request_body(e.kind, e.body);
      if (!req) {
        report("remote outbox", "outbox " + outbox_->path() + ": entry " + std::to_string(e.id) +
                                    " cannot be read (" + req.status().message() + "); left there");
        continue;
      }
      ++replay_in_memory_;
      admit(e.id, 0, std::move(*req));
    }
  }

  void remove_delivered() {
    if (to_remove_.empty()) return;
    Status st = outbox_->remove(to_remove_);
    if (!st.is_ok())
      report("remote outbox", "outbox " + outbox_->path() + ": cannot remove " +
                                  std::to_string(to_remove_.size()) + " delivered entries (" + st.message() +
                                  "); a later replay sends them again (harmless: creation is content-addressed, calls are upserts)");
    to_remove_.clear();
    update_outbox_counters();
  }

  void update_outbox_counters() {
    if (!outbox_) return;
    counters_.outbox_depth.store(outbox_->depth(), std::memory_order_relaxed);
    counters_.outbox_bytes.store(outbox_->bytes(), std::memory_order_relaxed);
  }

  static std::string json_string(std::string_view s) {
    std::string out;
    append_json_string(s, out);
    return out;
  }

  const std::string project_;
  const RemoteOptions options_;
  const std::string url_;
  std::unique_ptr<HttpClient> http_;
  std::unique_ptr<Outbox> outbox_;
  const std::string v2_prefix_;  // "/v2/entity/project"
  RemoteCounters counters_;
  // Complete mode (the calls route; the server may switch it, once each way at most).
  bool complete_ = false;
  bool server_wants_complete_ = false;  // it answered CALLS_COMPLETE_MODE_REQUIRED
  bool server_lacks_v2_ = false;        // it answered 404 on a v2 call route
  std::unordered_map<std::string, uint64_t> held_starts_;  // call id -> start waiting for its end
  std::unordered_map<std::string, uint64_t> held_ends_;    // call id -> end waiting for its start
  std::deque<std::pair<Clock::time_point, std::string>> start_timers_, end_timers_;
  std::unordered_map<std::string, RunningCall> running_;   // starts sent alone

  std::unordered_map<uint64_t, Item> items_;      // by outbox id
  std::unordered_map<uint64_t, Flight> flights_;  // by HTTP tag
  std::multimap<Clock::time_point, Flight> delayed_;
  std::deque<uint64_t> calls_ready_;
  uint64_t calls_ready_bytes_ = 0;
  Clock::time_point calls_since_{};
  uint64_t next_tag_ = 1;
  uint64_t next_local_id_ = 1;
  uint64_t tickets_pending_ = 0;
  uint64_t replay_left_ = 0;  // entries of an earlier process not read yet
  uint64_t replay_cursor_ = 0;
  uint64_t replay_in_memory_ = 0;
  std::vector<uint64_t> to_remove_;
  std::vector<AsyncResult> results_;
  std::vector<HttpResponse> answers_;
  std::vector<OutboxRecord> records_;
  std::minstd_rand jitter_{0x7e57};
};

}  // namespace

const RemoteCounters* remote_counters(const Store& store) {
  auto* r = dynamic_cast<const RemoteStore*>(&store);
  return r ? &r->counters() : nullptr;
}

RemoteEndpoint resolve_remote_endpoint(const RemoteOptions& options) {
  RemoteEndpoint e;
  e.url = resolved_url(options);
  if (!options.api_key.empty()) {
    e.has_key = true;
    e.key_source = "options";
  } else if (!env("WANDB_API_KEY").empty()) {
    e.has_key = true;
    e.key_source = "WANDB_API_KEY";
  } else if (read_netrc_key(e.url)) {
    e.has_key = true;
    e.key_source = "~/.netrc";
  }
  return e;
}

Result<std::unique_ptr<Store>> open_remote_store(const std::string& project, RemoteOptions options) {
  const std::string url = resolved_url(options);
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
    return Status::invalid_argument("remote store: the server URL must start with http:// or https:// (got \"" +
                                    url + "\")");
  if (project.find('/') == std::string::npos)
    return Status::invalid_argument("remote store: the project must be \"entity/project\" (got \"" + project + "\")");
  std::string key = options.api_key;
  if (key.empty()) key = env("WANDB_API_KEY");
  if (key.empty()) key = read_netrc_key(url).value_or("");
  if (key.empty())
    return Status::failed_precondition("remote store: no API key for " + url +
                                       ": set WANDB_API_KEY or add the host to ~/.netrc");
  if (options.max_in_flight == 0) options.max_in_flight = 1;
  if (options.batch_max_calls == 0) options.batch_max_calls = 1;
  if (options.max_request_bytes < 1024) options.max_request_bytes = 1024;

  HttpClientOptions h;
  h.base_url = url;
  h.api_key = std::move(key);
  h.user_agent = std::string("weft/") + kVersion + " (weft-cpp; libcurl)";
  h.max_in_flight = options.max_in_flight;
  h.connect_timeout = options.connect_timeout;
  h.request_timeout = options.request_timeout;
  std::unique_ptr<Outbox> outbox;
  if (!options.outbox_path.empty()) {
    auto o = Outbox::open(options.outbox_path, options.outbox_max_bytes);
    if (!o) return o.status().with_context("remote store");
    outbox = std::move(*o);
  }
  auto http = HttpClient::start(std::move(h));
  if (!http) return http.status().with_context("remote store");
  return std::unique_ptr<Store>(
      new RemoteStore(project, std::move(options), url, std::move(*http), std::move(outbox)));
}

}  // namespace weft
