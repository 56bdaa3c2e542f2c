#include "bench/remote/sink_stats.h"

namespace weft_bench_sink {

namespace {

constexpr std::string_view kV2 = "/v2/";

}  // namespace

Route route_of(std::string_view path) {
  // The frequent routes first: this runs once per request.
  if (path == "/obj/create") return Route::kObjCreate;
  if (path == "/call/upsert_batch") return Route::kUpsertBatch;
  if (path == "/table/create") return Route::kTableCreate;
  if (path == "/table/create_from_digests") return Route::kTableFromDigests;
  if (path == "/table/query") return Route::kTableQuery;
  if (path == "/files/create") return Route::kFilesCreate;
  if (path == "/file/create") return Route::kFileCreate;
  if (path == "/server_info") return Route::kServerInfo;
  if (path == "/health") return Route::kHealth;
  if (path.substr(0, kV2.size()) == kV2) {
    // /v2/{entity}/{project}/<tail>: skip two segments, match the tail.
    std::string_view rest = path.substr(kV2.size());
    for (int i = 0; i < 2; ++i) {
      size_t slash = rest.find('/');
      if (slash == 0 || slash == std::string_view::npos) return Route::kOther;
      rest = rest.substr(slash + 1);
    }
    if (rest == "calls/complete") return Route::kCallsComplete;
    if (rest == "call/start") return Route::kV2CallStart;
    if (rest == "call/end") return Route::kV2CallEnd;
  }
  return Route::kOther;
}

const char* route_name(Route r) {
  switch (r) {
    case Route::kObjCreate: return "/obj/create";
    case Route::kTableCreate: return "/table/create";
    case Route::kTableFromDigests: return "/table/create_from_digests";
    case Route::kTableQuery: return "/table/query";
    case Route::kFileCreate: return "/file/create";
    case Route::kFilesCreate: return "/files/create";
    case Route::kUpsertBatch: return "/call/upsert_batch";
    case Route::kCallsComplete: return "/v2/{entity}/{project}/calls/complete";
    case Route::kV2CallStart: return "/v2/{entity}/{project}/call/start";
    case Route::kV2CallEnd: return "/v2/{entity}/{project}/call/end";
    case Route::kServerInfo: return "/server_info";
    case Route::kHealth: return "/health";
    case Route::kOther: return "other";
    case Route::kCount: break;
  }
  return "?";
}

std::string stats_json(const SinkStats& s, const std::string& extra) {
  auto get = [](const std::atomic<uint64_t>& a) { return std::to_string(a.load(std::memory_order_relaxed)); };
  std::string out = "{\"by_route\": {";
  uint64_t requests = 0, bytes = 0;
  bool first = true;
  for (size_t i = 0; i < s.routes.size(); ++i) {
    const RouteCounters& c = s.routes[i];
    const uint64_t n = c.requests.load(std::memory_order_relaxed);
    if (n == 0) continue;  // only the routes this run used
    requests += n;
    bytes += c.bytes.load(std::memory_order_relaxed);
    if (!first) out += ", ";
    first = false;
    out += "\"";
    out += route_name(static_cast<Route>(i));
    out += "\": {\"requests\": " + std::to_string(n) + ", \"2xx\": " + get(c.ok) + ", \"4xx\": " + get(c.client) +
           ", \"5xx\": " + get(c.server) + ", \"bytes\": " + get(c.bytes) + "}";
  }
  out += "}, \"requests\": " + std::to_string(requests) + ", \"bytes\": " + std::to_string(bytes);
  out += ", \"call_starts\": " + get(s.call_starts) + ", \"call_ends\": " + get(s.call_ends) +
         ", \"calls_completed\": " + get(s.calls_completed) + ", \"objects\": " + get(s.objects) +
         ", \"objects_hashed\": " + get(s.objects_hashed) + ", \"tables\": " + get(s.tables) +
         ", \"rows\": " + get(s.rows) + ", \"files\": " + get(s.files) + ", \"file_bytes\": " + get(s.file_bytes) +
         ", \"auth_failures\": " + get(s.auth_failures);
  if (!extra.empty()) out += ", " + extra;
  out += "}";
  return out;
}

}  // namespace weft_bench_sink
