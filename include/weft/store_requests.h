// The requests a Store receives: one struct per Weave trace-server request kind, fields as
// the server names them (docs/STORE_FORMAT.md#requests maps each to its rows). Values are already
// canonical JSON text, and refs already URIs: a store writes them, it does not walk values.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace weft {

// obj_create: {"obj": {"project_id", "object_id", "val", "expected_digest"}}
struct ObjCreateRequest {
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
struct TableCreateRequest {
  std::string project_id;
  std::string digest;                    // 64 hex
  std::vector<std::string> row_digests;  // one per row, in order
  std::vector<std::string> rows_json;    // canonical JSON of each row
};

// file_create: multipart project_id + file (name, bytes)
struct FileCreateRequest {
  std::string project_id;
  std::string digest;
  std::string name;
  std::shared_ptr<const std::string> bytes;
};

// call_start: {"start": {...}}
struct CallStartRequest {
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
struct CallEndRequest {
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

using StoreRequest = std::variant<ObjCreateRequest, TableCreateRequest, FileCreateRequest, CallStartRequest, CallEndRequest>;

// "obj_create", "table_create", "file_create", "call_start", "call_end"
const char* request_kind_name(const StoreRequest& r);

}  // namespace weft
