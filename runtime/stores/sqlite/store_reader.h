// Reading a store file: the small query API behind the CLI and the tests.
//
// Opens a weft (or Weave SQLite trace server) file read-only; never creates or changes
// anything, so it is safe to run next to a live writer (WAL lets readers and the writer
// proceed together). Not thread-safe: one StoreReader per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weft/status.h>

struct sqlite3;

namespace weft {

// One call, as listed by StoreReader::call_tree().
struct CallRow {
  std::string project_id;
  std::string id;
  std::optional<std::string> trace_id;  // NULL while only call_end has arrived
  std::optional<std::string> parent_id;
  std::optional<std::string> op_name;  // NULL while only call_end has arrived
  std::optional<std::string> display_name;
  std::optional<std::string> started_at;  // ISO-8601 text, as stored
  std::optional<std::string> ended_at;    // NULL while the call is running
  std::optional<std::string> exception;   // the exception JSON string, or NULL
  std::optional<std::string> summary;     // JSON text
  int depth = 0;  // 0 for a root (or a call whose parent is not in the file)
};

// One object version, as listed by StoreReader::objects().
struct ObjectRow {
  std::string project_id;
  std::string name;  // objects.object_id
  std::string kind;  // "object" or "op"
  std::string digest;
  int64_t version_index = 0;
  bool is_latest = false;
  std::optional<std::string> created_at;
};

class StoreReader {
 public:
  // Opens path read-only. Errors: "no store at <path>" when the file does not exist;
  // "<path> is not a weft/Weave store: ..." when it is not SQLite or lacks the calls and
  // objects tables; a newer weft schema_version than this build knows.
  static Result<std::unique_ptr<StoreReader>> open(const std::string& path);
  ~StoreReader();
  StoreReader(const StoreReader&) = delete;
  StoreReader& operator=(const StoreReader&) = delete;

  // (table, row count) for calls, objects, tables, table_rows, files, in that order.
  Result<std::vector<std::pair<std::string, int64_t>>> counts();

  // Every call as a tree in depth-first order: roots by started_at, then each call's
  // children by started_at directly below it, with depth set. A call whose parent is not
  // in the file is listed as a root. Optionally limited to one project.
  Result<std::vector<CallRow>> call_tree(std::optional<std::string_view> project_id = {});

  // Every object version, ordered by project, kind, name, version_index.
  Result<std::vector<ObjectRow>> objects();

  // An object's val_dump. kind is "object" or "op"; project_id is "entity/project".
  // Error "not found: ..." when there is no such version.
  Result<std::string> object_val(std::string_view project_id, std::string_view kind,
                                 std::string_view name, std::string_view digest);
  // The same, from a ref URI: weave:///entity/project/object/name:digest (or /op/).
  // Refs with an extra path (/key/..., /attr/...) are refused with a clear error.
  Result<std::string> object_val(std::string_view ref_uri);

 private:
  explicit StoreReader(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace weft
