// RuntimeCore: what every part of a running runtime shares (the facade, the dispatcher,
// the actors, the store writer). Internal; no CAF here either.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include <weft/runtime.h>

#include "runtime/core/dead_letter.h"
#include "runtime/core/error_reporter.h"
#include "runtime/core/refusals.h"
#include "runtime/core/store_writer.h"
#include "runtime/core/work_tracker.h"
#include "runtime/metrics/metrics_registry.h"

namespace weft {

class DeadlineWatch;  // actors/deadline_watch.h (CAF side): the core only holds the pointer

class RuntimeCore {
 public:
  explicit RuntimeCore(Config cfg, std::shared_ptr<Store> store);

  const Config config;
  const std::string project_id;  // "entity/project"
  const std::string entity;
  const std::string project;
  const std::string ref_prefix;  // "weave:///entity/project/"
  const uint64_t runtime_id;     // unique per process, never reused
  // The store assigns the digest of a value that holds refs (the remote store: the server
  // rewrites refs before hashing). Then its actor hands the request over unresolved and the
  // store writer resolves the cell from the answer (runtime/stores/async_store.h).
  const bool store_assigns_ref_digests;
  // config.dependency_timeout, or longer when the store assigns digests: a parent waiting
  // on such a digest is told by the store writer when its request ends, however it ends,
  // so the deadline only has to cover the store's own (AsyncStore::longest_pending), plus
  // a margin; a shorter one would fail parents during an outage the store rides out.
  const std::chrono::milliseconds dependency_timeout;

  Metrics metrics;  // before the writer: it records into it
  WorkTracker tracker;
  ErrorReporter errors;
  DeadLetterFile dead_letter;  // the store writer's thread only (then the destructor's)
  StoreWriter writer;
  DeadlineWatch* deadlines = nullptr;  // set by the dispatcher for its lifetime

  std::atomic<uint64_t> events_accepted{0};
  RefusalCounts refused;

  // Reports an error: counted, and to config.on_error (or stderr) aggregated by cause
  // (runtime/core/error_reporter.h). Without a cause, the message is its own cause.
  void report_error(const std::string& cause, std::string message) { errors.report(cause, std::move(message)); }
  void report_error(std::string message) { errors.report(message, message); }
  std::vector<std::string> recent_errors() const { return errors.recent(); }
  uint64_t errors_reported() const { return errors.reported(); }

  // Ref URIs of this project.
  std::string object_ref(std::string_view name, std::string_view digest) const;
  std::string op_ref(std::string_view name, std::string_view digest) const;
  std::string table_ref(std::string_view hex_digest) const;
};

// Where failed store requests go: config.dead_letter_path, or next to the store file.
std::string dead_letter_path_for(const Config& config);

// Validates "entity/project" by W&B's naming rules (docs/COMPATIBILITY.md#project-names):
// one '/', both parts non-empty, valid UTF-8 without control characters; the entity at
// most 64 of [a-z0-9_-], the project name at most 128 characters and none of / \ # ? % :.
// A rejection is invalid_argument naming the rule broken. Linear in the id's length.
Status validate_project_id(const std::string& project_id);
// Validates what the Runtime constructor checks before it starts anything.
Status validate_config(const Config& config);

}  // namespace weft
