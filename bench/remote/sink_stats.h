// What the benchmark sink counts (bench/remote/sink_server.cc): requests per route and
// status class, and what the requests carried (calls, objects, tables, rows, files, bytes).
// Relaxed atomics: the handler threads only add, and GET /__stats reads a snapshot once the
// client says it is done, so no ordering between counters is needed.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

namespace weft_bench_sink {

enum class Route : uint8_t {
  kObjCreate,
  kTableCreate,
  kTableFromDigests,
  kTableQuery,
  kFileCreate,   // /file/create (the TypeScript SDK)
  kFilesCreate,  // /files/create (weft)
  kUpsertBatch,
  kCallsComplete,  // /v2/{entity}/{project}/calls/complete
  kV2CallStart,
  kV2CallEnd,
  kServerInfo,
  kHealth,
  kOther,  // anything else: answered 404, and counted so a report can show it
  kCount,
};

// The route a path belongs to ("/v2/acme/p/calls/complete" -> kCallsComplete).
Route route_of(std::string_view path);
// The name /__stats uses: the path, with "{entity}/{project}" for the v2 routes.
const char* route_name(Route r);

struct RouteCounters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> ok{0};      // 2xx
  std::atomic<uint64_t> client{0};  // 4xx (401 included)
  std::atomic<uint64_t> server{0};  // 5xx (a sink bug)
  std::atomic<uint64_t> bytes{0};   // request bodies as received
};

struct SinkStats {
  std::array<RouteCounters, static_cast<size_t>(Route::kCount)> routes;
  std::atomic<uint64_t> call_starts{0};      // upsert_batch start items + v2 call/start
  std::atomic<uint64_t> call_ends{0};        // upsert_batch end items + v2 call/end
  std::atomic<uint64_t> calls_completed{0};  // v2 calls/complete items (a start and an end each)
  std::atomic<uint64_t> objects{0};          // obj/create requests answered 200 (ops included)
  std::atomic<uint64_t> objects_hashed{0};   // of those, digested here (no expected_digest)
  std::atomic<uint64_t> tables{0};           // table/create + table/create_from_digests
  std::atomic<uint64_t> rows{0};             // rows received in table/create
  std::atomic<uint64_t> files{0};
  std::atomic<uint64_t> file_bytes{0};
  std::atomic<uint64_t> auth_failures{0};

  void count(Route r, int status, size_t body_bytes) {
    auto& c = routes[static_cast<size_t>(r)];
    c.requests.fetch_add(1, std::memory_order_relaxed);
    c.bytes.fetch_add(body_bytes, std::memory_order_relaxed);
    if (status >= 200 && status < 300) c.ok.fetch_add(1, std::memory_order_relaxed);
    else if (status >= 500) c.server.fetch_add(1, std::memory_order_relaxed);
    else c.client.fetch_add(1, std::memory_order_relaxed);
  }
};

// {"by_route": {"/obj/create": {"requests": n, "2xx": n, "4xx": n, "5xx": n, "bytes": n}, ...},
//  "requests": n, "bytes": n, "calls": {...}, "objects": n, ...} plus whatever `extra`
// holds (members without braces, e.g. "\"cpu_s\": 1.5"), appended at the end.
std::string stats_json(const SinkStats& s, const std::string& extra);

}  // namespace weft_bench_sink
