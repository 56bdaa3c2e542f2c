// RemoteStore: the AsyncStore behind open_remote_store (include/weft/remote.h). All of its
// logic runs on the store writer's thread (send, poll, abandon), so its bookkeeping needs
// no lock; network I/O runs on its HttpClient's thread; the two meet through lock-free
// queues. docs/REMOTE.md describes the behaviour; this header what the runtime reads.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <weft/remote.h>

#include "runtime/metrics/metrics_registry.h"
#include "runtime/stores/async_store.h"

namespace weft {

// The routes the remote store posts to.
enum class RemoteRoute : uint8_t {
  kObjCreate, kTableCreate, kTableFromDigests, kFileCreate,
  kCalls,          // /call/upsert_batch
  kCallsComplete,  // /v2/{entity}/{project}/calls/complete
  kCallStartV2,    // /v2/{entity}/{project}/call/start: a call still running
  kCallEndV2,      // /v2/{entity}/{project}/call/end: its end
};
inline constexpr size_t kRemoteRoutes = 8;
// "/obj/create", ...; the v2 routes with "{entity}/{project}" left as it is (a metric label).
const char* remote_route_path(RemoteRoute r);

// How an answer ended: by class of status, or without one.
enum class AnswerClass : uint8_t { k2xx, k4xx, k5xx, kTransport };
inline constexpr size_t kAnswerClasses = 4;
const char* answer_class_name(AnswerClass c);  // "2xx", "4xx", "5xx", "error"

// Why a request was sent again.
enum class RetryCause : uint8_t { kThrottled, kServerError, kTimeout, kConnection };
inline constexpr size_t kRetryCauses = 4;
const char* retry_cause_name(RetryCause c);  // "429", "5xx", "timeout", "connection"

// Counters any thread may read (metrics); written on the writer thread.
struct RemoteCounters {
  std::array<std::array<std::atomic<uint64_t>, kAnswerClasses>, kRemoteRoutes> answers{};
  std::array<std::atomic<uint64_t>, kRetryCauses> retries{};
  std::atomic<uint64_t> in_flight{0};       // HTTP requests submitted and not answered
  std::atomic<uint64_t> bytes_sent{0};      // request bodies
  std::atomic<uint64_t> splits_413{0};      // batches split in halves (413, or a refused batch)
  std::atomic<uint64_t> conflicts_409{0};   // expected_digest refused: resent without it
  std::atomic<uint64_t> auth_failures{0};   // 401/403 answers
  std::atomic<uint64_t> rejected{0};        // requests the server refused (dead-lettered)
  std::atomic<uint64_t> kept{0};            // requests given up here, left in the outbox
  std::atomic<uint64_t> replayed{0};        // requests an earlier process left in the outbox
  std::atomic<uint64_t> replay_delivered{0};
  std::atomic<uint64_t> replay_ended{0};    // delivered, refused or kept again
  std::atomic<uint64_t> outbox_depth{0};
  std::atomic<uint64_t> outbox_bytes{0};
  std::atomic<uint64_t> call_batches{0};    // upsert_batch and calls/complete requests sent
  std::atomic<uint64_t> route_switches{0};  // CALLS_COMPLETE_MODE_REQUIRED, or v2 routes absent
  std::atomic<bool> complete_mode{false};   // calls go to /v2/.../calls/complete
  LatencyHistogram latency;                 // per answered request, submit to answer
};

// The counters of a remote store, or nullptr for any other store.
const RemoteCounters* remote_counters(const Store& store);

}  // namespace weft
