// The store interface: where finished work goes. The embedded SQLite store and the null
// store implement it; an application may plug in its own (Config::store). A Store is
// called from exactly one thread (the store writer's), so implementations need no locks.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include <weft/status.h>
#include <weft/store_requests.h>

namespace weft {

class Store {
 public:
  virtual ~Store() = default;
  // Writes a batch, in one transaction where the store has them. results is resized to
  // batch.size(); results[i] tells how requests[i] went. A failing request must not stop
  // the others. Called from one thread only.
  virtual void write_batch(std::span<const StoreRequest> batch, std::vector<Status>& results) = 0;
  // For messages: "sqlite:./weft.db", "null".
  virtual std::string describe() const = 0;
};

// Accepts everything, writes nothing (benchmarks).
std::unique_ptr<Store> make_null_store();

// The embedded store: Weave's SQLite schema (docs/STORE_FORMAT.md), WAL, one transaction
// per batch. Creates the file and schema if missing. Clear error if it cannot.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace weft
