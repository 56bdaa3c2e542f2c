// The store interface: where finished work goes. The embedded SQLite store implements it
// now; remote trace servers and ClickHouse will later. A Store is called from exactly one
// thread (the store writer's), so implementations need no locks.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "runtime/status.h"

namespace weft {

// obj_create: {"obj": {"project_id", "object_id", "val", "expected_digest"}}
struct ObjCreate {
  std::string project_id;
  std::string object_id;     // the (sanitised) name
  std::string kind;          // "object" or "op"
  std::string val_json;      // canonical JSON; children appear as ref URIs
  std::string digest;        // computed locally: base digest of val_json
  std::optional<std::string> base_object_class;
  std::optional<std::string> leaf_object_class;
  std::vector<std::string> refs;  // ref URIs found in val
  int64_t created_at_us = 0;
};

// table_create: {"table": {"project_id", "rows": [...]}}
struct TableCreate {
  std::string project_id;
  std::string digest;                    // 64 hex
  std::vector<std::string> row_digests;  // one per row, in order
  std::vector<std::string> rows_json;    // canonical JSON of each row
};

// file_create: multipart project_id + file (name, bytes)
struct FileCreate {
  std::string project_id;
  std::string digest;
  std::string name;
  std::shared_ptr<const std::string> bytes;
};

// call_start: {"start": {...}}
struct CallStart {
  std::string project_id;
  std::string id;
  std::string trace_id;
  std::optional<std::string> parent_id;
  std::optional<std::string> thread_id;
  std::optional<std::string> turn_id;
  std::string op_name;  // the op ref URI
  std::optional<std::string> display_name;
  int64_t started_at_us = 0;
  std::string attributes_json;  // a JSON object
  std::string inputs_json;      // a JSON object; nested Objects as ref URIs
  std::vector<std::string> input_refs;
  std::optional<std::string> wb_run_id;
  std::optional<int64_t> wb_run_step;
};

// call_end: {"end": {...}}
struct CallEnd {
  std::string project_id;
  std::string id;
  int64_t started_at_us = 0;
  int64_t ended_at_us = 0;
  std::optional<std::string> exception_json;  // {"type", "message", "traceback"} as a string
  std::string output_json;                    // JSON; nested Objects as ref URIs
  std::vector<std::string> output_refs;
  std::string summary_json;  // {"usage": {...}, "status_counts": {...}}
  std::optional<int64_t> wb_run_step_end;
};

using StoreRequest = std::variant<ObjCreate, TableCreate, FileCreate, CallStart, CallEnd>;

// "obj_create", "table_create", "file_create", "call_start", "call_end"
const char* request_kind_name(const StoreRequest& r);

// The Weave trace-server request body for r (weave-compat.md §5), compact JSON.
// file_create has no JSON body (it is multipart); its form fields are rendered as JSON.
std::string request_body_json(const StoreRequest& r);

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

// The embedded store: Weave's SQLite schema (weave-compat.md §6), WAL, one transaction
// per batch. Creates the file and schema if missing. Clear error if it cannot.
Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path);

}  // namespace weft
