// The read side of the SQLite store: plain queries over the schema in sqlite_store.h.
#include "runtime/stores/sqlite/store_reader.h"

#include <sqlite3.h>

#include <filesystem>
#include <unordered_map>

#include <weft/ref.h>

#include "runtime/stores/sqlite/sqlite_store.h"

namespace weft {
namespace {

// A statement for one query; finalized when it goes out of scope.
class Query {
 public:
  Query(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) failed_ = true;
  }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query() { sqlite3_finalize(s_); }

  void bind(int i, std::string_view v) {
    sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  }
  // True while there is a row; false at the end or on error (then check status()).
  bool next() {
    if (failed_) return false;
    int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) failed_ = true;
    return false;
  }
  Status status() const {
    return failed_ ? Status::internal(std::string("sqlite: ") + sqlite3_errmsg(db_)) : Status::ok();
  }

  std::optional<std::string> opt_text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    if (!p) return std::nullopt;
    return std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col)));
  }
  std::string text(int col) const { return opt_text(col).value_or(""); }
  int64_t int64(int col) const { return sqlite3_column_int64(s_, col); }

 private:
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  bool failed_ = false;
};

// Orders calls depth-first: each root, then its subtree, children in started_at order.
// rows arrive sorted by started_at. Iterative, so a deep call chain cannot overflow the
// stack; calls on a parent cycle (never reachable from a root) are appended as roots.
std::vector<CallRow> as_tree(std::vector<CallRow> rows) {
  std::unordered_map<std::string_view, size_t> index;
  for (size_t i = 0; i < rows.size(); ++i) index.emplace(rows[i].id, i);
  std::vector<std::vector<size_t>> children(rows.size());
  std::vector<size_t> roots;
  for (size_t i = 0; i < rows.size(); ++i) {
    auto parent = rows[i].parent_id ? index.find(*rows[i].parent_id) : index.end();
    if (parent == index.end() || parent->second == i)
      roots.push_back(i);
    else
      children[parent->second].push_back(i);
  }
  std::vector<CallRow> out;
  out.reserve(rows.size());
  std::vector<bool> visited(rows.size(), false);
  auto walk = [&](size_t root) {
    std::vector<std::pair<size_t, int>> stack{{root, 0}};
    while (!stack.empty()) {
      auto [i, depth] = stack.back();
      stack.pop_back();
      if (visited[i]) continue;
      visited[i] = true;
      rows[i].depth = depth;
      out.push_back(std::move(rows[i]));
      for (auto c = children[i].rbegin(); c != children[i].rend(); ++c)
        stack.emplace_back(*c, depth + 1);
    }
  };
  for (size_t r : roots) walk(r);
  for (size_t i = 0; i < rows.size(); ++i)
    if (!visited[i]) walk(i);
  return out;
}

}  // namespace

Result<std::unique_ptr<StoreReader>> StoreReader::open(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return Status::not_found("no store at " + path);
  auto not_a_store = [&path](const std::string& why) {
    return Status::invalid_argument(path + " is not a weft/Weave store: " + why);
  };
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<StoreReader> reader(new StoreReader(db));  // closes db on every path
  if (rc != SQLITE_OK) return not_a_store(db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
  sqlite3_busy_timeout(db, 5000);

  Query tables(db,
               "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
               " AND name IN ('calls', 'objects')");
  int64_t found = tables.next() ? tables.int64(0) : 0;
  if (Status st = tables.status(); !st) return not_a_store(st.message());
  if (found != 2) return not_a_store("no calls and objects tables");

  // Weave's own files have no weft_meta; weft's say which schema they hold.
  Query meta(db, "SELECT CAST(value AS INTEGER) FROM weft_meta WHERE key = 'schema_version'");
  if (meta.next() && meta.int64(0) > kSqliteSchemaVersion)
    return Status::failed_precondition(path + " has schema version " + std::to_string(meta.int64(0)) +
                         ", newer than this weft reads (" + std::to_string(kSqliteSchemaVersion) +
                         ")");
  return reader;
}

StoreReader::~StoreReader() { sqlite3_close_v2(db_); }

Result<std::vector<std::pair<std::string, int64_t>>> StoreReader::counts() {
  std::vector<std::pair<std::string, int64_t>> out;
  for (const char* table : {"calls", "objects", "tables", "table_rows", "files"}) {
    Query q(db_, (std::string("SELECT count(*) FROM ") + table).c_str());
    int64_t n = q.next() ? q.int64(0) : 0;
    if (Status st = q.status(); !st) return st.with_context(table);
    out.emplace_back(table, n);
  }
  return out;
}

Result<std::vector<CallRow>> StoreReader::call_tree(std::optional<std::string_view> project_id) {
  Query q(db_, project_id ? "SELECT project_id, id, trace_id, parent_id, op_name, display_name,"
                            " started_at, ended_at, exception, summary FROM calls"
                            " WHERE project_id = ?1 ORDER BY started_at, id"
                          : "SELECT project_id, id, trace_id, parent_id, op_name, display_name,"
                            " started_at, ended_at, exception, summary FROM calls"
                            " ORDER BY started_at, id");
  if (project_id) q.bind(1, *project_id);
  std::vector<CallRow> rows;
  while (q.next()) {
    rows.push_back(CallRow{q.text(0), q.text(1), q.opt_text(2), q.opt_text(3), q.opt_text(4),
                           q.opt_text(5), q.opt_text(6), q.opt_text(7), q.opt_text(8),
                           q.opt_text(9), 0});
  }
  if (Status st = q.status(); !st) return st;
  return as_tree(std::move(rows));
}

Result<std::vector<ObjectRow>> StoreReader::objects() {
  Query q(db_,
          "SELECT project_id, object_id, kind, digest, version_index, is_latest, created_at"
          " FROM objects ORDER BY project_id, kind, object_id, version_index");
  std::vector<ObjectRow> rows;
  while (q.next()) {
    rows.push_back(ObjectRow{q.text(0), q.text(1), q.text(2), q.text(3), q.int64(4),
                             q.int64(5) != 0, q.opt_text(6)});
  }
  if (Status st = q.status(); !st) return st;
  return rows;
}

Result<std::string> StoreReader::object_val(std::string_view project_id, std::string_view kind,
                                            std::string_view name, std::string_view digest) {
  Query q(db_,
          "SELECT val_dump FROM objects"
          " WHERE project_id = ?1 AND kind = ?2 AND object_id = ?3 AND digest = ?4");
  q.bind(1, project_id);
  q.bind(2, kind);
  q.bind(3, name);
  q.bind(4, digest);
  if (q.next()) return q.text(0);
  if (Status st = q.status(); !st) return st;
  return Status::not_found("not found: " + std::string(kind) + " " + std::string(project_id) + "/" +
                       std::string(name) + ":" + std::string(digest));
}

Result<std::string> StoreReader::object_val(std::string_view ref_uri) {
  Result<Ref> ref = Ref::parse(ref_uri);
  if (!ref) return ref.status();
  if (ref->kind != Ref::Kind::kObject && ref->kind != Ref::Kind::kOp)
    return Status::invalid_argument("not an object or op ref: " + std::string(ref_uri));
  if (!ref->extra.empty())
    return Status::invalid_argument("refs into an object (extra path) are not supported: " +
                         std::string(ref_uri));
  return object_val(ref->entity + "/" + ref->project, ref_kind_name(ref->kind), ref->name,
                    ref->digest);
}

}  // namespace weft
