// weft::Config: everything a Runtime is started with. Defaults suit a service that traces
// into ./weft.db; see docs/ARCHITECTURE.md for what each knob bounds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace weft {

class Store;  // <weft/store.h>

struct Config {
  // "entity/project": both parts non-empty, no further '/'.
  std::string project = "weft/default";
  // The embedded SQLite store's file. Ignored when `store` is set.
  std::string store_path = "weft.db";
  // A store of the application's (tests, benchmarks: a null store). Takes precedence.
  std::shared_ptr<Store> store;
  // Actor scheduler threads (CAF "sharing" policy). 0 = min(2, hardware threads).
  unsigned scheduler_threads = 0;
  // Events and derived units of work outstanding at once before new events are refused.
  int64_t max_outstanding = 4'000'000;
  // Store requests per SQLite transaction, at most.
  size_t store_batch_size = 2048;
  // A parent whose children have not all reported by then gives up with an error.
  std::chrono::milliseconds dependency_timeout{60'000};
  // How long the destructor flushes before it gives up and reports what was not written.
  std::chrono::milliseconds destructor_flush_timeout{10'000};
  // Serve GET /metrics (Prometheus text) on "host:port", e.g. "127.0.0.1:9464". Off when
  // empty. A bad address or a taken port makes the constructor fail with a clear error.
  std::string metrics_listen;
  // Errors (store failures, refused events, lost dependencies) are reported here, from
  // runtime threads; must be quick and thread-safe. Default: one line on stderr.
  std::function<void(const std::string&)> on_error;
};

}  // namespace weft
