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
  // "entity/project", as W&B names them (docs/COMPATIBILITY.md#project-names).
  std::string project = "weft/default";
  // The embedded SQLite store's file. Ignored when `store` is set.
  std::string store_path = "weft.db";
  // A store of the application's (tests, benchmarks: a null store). Takes precedence.
  std::shared_ptr<Store> store;
  // Actor scheduler threads. 0 = min(2, hardware threads).
  unsigned scheduler_threads = 0;
  // What runs the actors. `weft`: weft's scheduler, whose threads never wait on a lock or a
  // condition variable (a lock-free run queue; an idle thread parks on a futex and is woken
  // only when work comes). `caf_sharing`: CAF's own "sharing" policy (a mutex and a
  // condition variable per job), kept for comparison (docs/BENCH.md) and as a fallback.
  enum class Scheduler : uint8_t { weft, caf_sharing };
  Scheduler scheduler = Scheduler::weft;
  // Events accepted and not yet written, at most (<= 16,777,215). Past it new events are
  // refused (counted, reported): an exact bound, not a hint. Call ends are never refused
  // (a started call must be able to end) but count.
  int64_t max_outstanding = 4'000'000;
  // Bytes held for accepted, unwritten events, at most (< 1 TiB): the estimated size of
  // their values (Value::approx_bytes: strings, containers, Weave kinds as built) plus a
  // fixed per-event overhead (kEventOverheadBytes in runtime/core). An event that would
  // pass it is refused whole. Call ends count but are never refused. 0 = no byte limit.
  uint64_t max_memory_bytes = uint64_t{1} << 30;
  // Store requests that cannot be written (invalid, or still failing after
  // store_retry_timeout, or unwritten at shutdown) are appended here, one JSON line each,
  // for `weft replay`. Default: store_path + ".dead-letter.jsonl" (with a custom store:
  // "weft.dead-letter.jsonl"). Created only when something fails.
  std::string dead_letter_path;
  // The dead-letter file is rotated (path.1, path.2) when it would pass this size.
  uint64_t dead_letter_max_bytes = 64ull << 20;
  // A batch that fails transiently (locked or busy database, full disk, I/O error) is
  // retried with exponential back-off and jitter for this long, then dead-lettered.
  std::chrono::milliseconds store_retry_timeout{60'000};
  // Repeated errors of one cause are reported once at once, then as a count at most this
  // often.
  std::chrono::milliseconds error_report_interval{5'000};
  // Store requests per SQLite transaction, at most.
  size_t store_batch_size = 2048;
  // A parent whose children have not all reported by then gives up with an error. With a
  // store that assigns digests (the remote store) it is at least that store's own longest
  // wait plus 10 s: the store tells waiting parents how each request ended, and a shorter
  // deadline would fail them while the store still retries.
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
