// AsyncStore: a store that finishes requests later, on threads of its own (the remote
// store: an HTTP round trip per request or batch). The store writer hands it requests with
// tickets through send() and collects their ends through poll(); both are called from the
// writer's thread only, so an implementation keeps its bookkeeping without locks.
//
// Each accepted ticket ends exactly once, as one AsyncResult: acknowledged (with the
// digest the store assigned, if it assigns them), or failed for good. A failure that the
// store still holds durably (its outbox: a later runtime or `weft replay --outbox`
// delivers it) says kept = true, and the writer does not dead-letter it again. A result
// whose ticket the writer never gave (ticket 0: a request an earlier process left in the
// store's outbox) is dead-lettered by the writer if it failed and is not kept.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <weft/store.h>

namespace weft {

struct AsyncItem {
  uint64_t ticket = 0;
  StoreRequest request;
};

struct AsyncResult {
  uint64_t ticket = 0;
  Status status;               // ok: delivered
  bool kept = false;           // failed, and still held where it will be delivered later
  std::string digest;          // the store's digest for obj/table/file creation ("" if none)
  std::optional<StoreRequest> request;  // given back on failure (for the dead-letter file)
};

class AsyncStore : public Store {
 public:
  // Takes the items. accepted[i] ok: items[i].request is the store's now (moved from) and
  // its ticket will end in a poll(). Not ok: refused now, request left in place, and the
  // writer treats it as a synchronous store's result (transient: retried; else dead-lettered).
  virtual void send(std::span<AsyncItem> items, std::vector<Status>& accepted) = 0;
  // Appends the tickets that ended since the last call; returns how many.
  virtual size_t poll(std::vector<AsyncResult>& out) = 0;
  // Tickets accepted and not yet ended.
  virtual uint64_t pending() const = 0;
  // The writer stops: ends every pending ticket now (kept where the store holds them).
  virtual void abandon(std::vector<AsyncResult>& out) = 0;
  // Whether a value that holds refs gets its digest from the store (the remote store: the
  // server rewrites refs before hashing, docs/COMPATIBILITY.md). Then its cell is resolved by
  // the writer when the store's answer arrives, not by the actor that built the request.
  virtual bool assigns_ref_digests() const = 0;
  // The longest an accepted ticket can stay pending before the store ends it (delivered,
  // failed, or kept): a parent waiting on a digest this store assigns hears of its end
  // within it, so the runtime's dependency deadline must not be shorter (RuntimeCore).
  virtual std::chrono::milliseconds longest_pending() const = 0;

  // Where the store reports errors that end no ticket (a 409 it recovered from, retries):
  // the writer's aggregated error sink. Set by the writer before its thread starts.
  using Reporter = std::function<void(const std::string& cause, std::string message)>;
  void set_reporter(Reporter r) { reporter_ = std::move(r); }

  // An asynchronous store is never written synchronously.
  void write_batch(std::span<const StoreRequest> batch, std::vector<Status>& results) final {
    results.assign(batch.size(), Status::internal("asynchronous store written synchronously"));
  }

 protected:
  void report(const std::string& cause, std::string message) const {
    if (reporter_) reporter_(cause, std::move(message));
  }

 private:
  Reporter reporter_;
};

}  // namespace weft
