// The remote store: traces go to a Weave trace server over HTTP (W&B's hosted server or a
// self-hosted one), as the official clients send them, through a durable outbox.
//
//   weft::Config cfg;
//   cfg.project = "my-team/my-project";
//   cfg.store = weft::open_remote_store(cfg.project).value();  // WF_TRACE_SERVER_URL, WANDB_API_KEY
//   weft::Runtime rt(std::move(cfg));
//
// Every request is written to the outbox (a local SQLite file) before it is sent, and
// removed once the server acknowledged it; what is left there when the process dies is
// delivered by the next remote store opened on the same outbox, or by
// `weft replay --outbox PATH`. Network I/O runs on the store's own thread (libcurl multi),
// never on the application's threads or the actor scheduler. docs/REMOTE.md has the whole
// contract: digests, batching, retries, what a flush means.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include <weft/status.h>

namespace weft {

class Store;  // <weft/store.h>

// The route finished calls take. kUpsertBatch: /call/upsert_batch, a call's start and end
// as two items (what the official clients send by default). kComplete:
// /v2/{entity}/{project}/calls/complete, one item per finished call, and a call still
// running after show_running_after sends its start alone (/v2/.../call/start) so that it
// shows while it runs, its end later (/v2/.../call/end). A server answering
// CALLS_COMPLETE_MODE_REQUIRED switches the store to kComplete; one without the v2 routes
// (404) switches it back.
enum class CallsRoute : uint8_t { kUpsertBatch, kComplete };

struct RemoteOptions {
  // The server. Empty: $WF_TRACE_SERVER_URL, else "https://trace.wandb.ai".
  std::string url;
  // The API key, sent as HTTP Basic "api:<key>". Empty: $WANDB_API_KEY, else the password
  // of the server host's entry in ~/.netrc (or $NETRC). Never logged or put in an error.
  std::string api_key;
  // The durable outbox. Empty: no outbox (what is not acknowledged at exit is dead-lettered).
  std::string outbox_path = "weft-outbox.db";
  // The outbox's bodies, at most; past it the store refuses new requests (the runtime's
  // writer retries them, then dead-letters) and the memory cap turns new events away.
  uint64_t outbox_max_bytes = uint64_t{1} << 30;
  // HTTP requests in flight at once.
  unsigned max_in_flight = 12;
  // Calls go in batches (calls_route); a batch closes at this many items, these many bytes
  // (the server's limit is 31 MiB) or this long after its first item, whichever is first.
  CallsRoute calls_route = CallsRoute::kUpsertBatch;
  std::chrono::milliseconds show_running_after{1000};
  size_t batch_max_calls = 1000;
  uint64_t max_request_bytes = uint64_t{31} << 20;
  std::chrono::milliseconds batch_interval{20};
  // A request failing transiently (429, 5xx, a timeout, a dropped connection) is retried
  // with exponential back-off and full jitter, honouring Retry-After, for this long; then
  // its flush reports it failed, and it stays in the outbox for a later delivery.
  std::chrono::milliseconds retry_timeout{120'000};
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{10'000};
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds request_timeout{60'000};
};

// The server URL and key as open_remote_store would resolve them (for messages and the
// CLI); the key is never returned, only whether one was found and where.
struct RemoteEndpoint {
  std::string url;
  bool has_key = false;
  std::string key_source;  // "options", "WANDB_API_KEY", "~/.netrc", or "" when none
};
RemoteEndpoint resolve_remote_endpoint(const RemoteOptions& options);

// Opens the outbox (replaying what an earlier process left in it) and starts the HTTP
// thread. Errors: invalid_argument for a bad URL or project id; failed_precondition for an
// outbox that cannot be opened or is in use, or when no API key can be found.
Result<std::unique_ptr<Store>> open_remote_store(const std::string& project, RemoteOptions options = {});

}  // namespace weft
