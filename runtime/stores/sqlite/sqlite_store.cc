// The embedded store: Weave's SQLite schema, one transaction per batch, prepared
// statements for the store's life. Format, semantics and validation: sqlite_store.h.
#include "runtime/stores/sqlite/sqlite_store.h"

#include <sqlite3.h>

#include <algorithm>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include <weft/ids.h>
#include <weft/store.h>

#include "runtime/model/json_escape.h"
#include "runtime/stores/sqlite/sqlite_status.h"

namespace weft {
namespace {

// A failed SQLite call as a Status of the right kind (sqlite_status.h).
Status sqlite_status(int rc, std::string message) { return Status(sqlite_status_code(rc), std::move(message)); }

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE IF NOT EXISTS calls (
  project_id TEXT, id TEXT PRIMARY KEY, trace_id TEXT, parent_id TEXT, thread_id TEXT,
  turn_id TEXT, op_name TEXT, started_at TEXT, ended_at TEXT, exception TEXT,
  attributes TEXT, inputs TEXT, input_refs TEXT, output TEXT, output_refs TEXT,
  summary TEXT, wb_user_id TEXT, wb_run_id TEXT, wb_run_step INTEGER,
  wb_run_step_end INTEGER, deleted_at TEXT, display_name TEXT, otel_dump TEXT);
CREATE TABLE IF NOT EXISTS objects (
  project_id TEXT, object_id TEXT, wb_user_id TEXT, created_at TEXT, kind TEXT,
  base_object_class TEXT, leaf_object_class TEXT, refs TEXT, val_dump TEXT, digest TEXT,
  version_index INTEGER, is_latest INTEGER, deleted_at TEXT,
  PRIMARY KEY (project_id, kind, object_id, digest));
CREATE TABLE IF NOT EXISTS tables (project_id TEXT, digest TEXT UNIQUE, row_digests TEXT);
CREATE TABLE IF NOT EXISTS table_rows (project_id TEXT, digest TEXT UNIQUE, val TEXT);
CREATE TABLE IF NOT EXISTS files (
  project_id TEXT, digest TEXT, val BLOB, PRIMARY KEY (project_id, digest));
CREATE TABLE IF NOT EXISTS weft_meta (key TEXT PRIMARY KEY, value TEXT);
)sql";

// The start half and the end half of a call row are written by separate UPSERTs, because
// call_end may reach the store before call_start (no ordering across producers).
constexpr const char* kCallStartSql = R"sql(
INSERT INTO calls (project_id, id, trace_id, parent_id, thread_id, turn_id, op_name,
                   started_at, attributes, inputs, input_refs, wb_run_id, wb_run_step,
                   display_name)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
ON CONFLICT(id) DO UPDATE SET
  project_id = excluded.project_id, trace_id = excluded.trace_id,
  parent_id = excluded.parent_id, thread_id = excluded.thread_id,
  turn_id = excluded.turn_id, op_name = excluded.op_name, started_at = excluded.started_at,
  attributes = excluded.attributes, inputs = excluded.inputs,
  input_refs = excluded.input_refs, wb_run_id = excluded.wb_run_id,
  wb_run_step = excluded.wb_run_step, display_name = excluded.display_name
)sql";

constexpr const char* kCallEndSql = R"sql(
INSERT INTO calls (project_id, id, started_at, ended_at, exception, output, output_refs,
                   summary, wb_run_step_end)
VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
ON CONFLICT(id) DO UPDATE SET
  started_at = coalesce(calls.started_at, excluded.started_at),
  ended_at = excluded.ended_at, exception = excluded.exception, output = excluded.output,
  output_refs = excluded.output_refs, summary = excluded.summary,
  wb_run_step_end = excluded.wb_run_step_end
)sql";

constexpr const char* kObjSelectSql =
    "SELECT digest, version_index, is_latest FROM objects"
    " WHERE project_id = ?1 AND kind = ?2 AND object_id = ?3";
// One primary-key lookup per row to clear (the cache knows which): clearing by name alone
// would visit every version of the name, which made obj_create quadratic in versions.
constexpr const char* kObjUnlatestSql =
    "UPDATE objects SET is_latest = 0"
    " WHERE project_id = ?1 AND kind = ?2 AND object_id = ?3 AND digest = ?4";
constexpr const char* kObjInsertSql =
    "INSERT INTO objects (project_id, object_id, wb_user_id, created_at, kind,"
    " base_object_class, leaf_object_class, refs, val_dump, digest, version_index,"
    " is_latest, deleted_at)"
    " VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, 1, NULL)";
// ON CONFLICT DO NOTHING rather than INSERT OR IGNORE: only a duplicate digest is benign;
// any other constraint failure must still surface as an error.
constexpr const char* kTableInsertSql =
    "INSERT INTO tables (project_id, digest, row_digests) VALUES (?1, ?2, ?3)"
    " ON CONFLICT DO NOTHING";
constexpr const char* kRowInsertSql =
    "INSERT INTO table_rows (project_id, digest, val) VALUES (?1, ?2, ?3)"
    " ON CONFLICT DO NOTHING";
constexpr const char* kFileInsertSql =
    "INSERT INTO files (project_id, digest, val) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING";

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using DbPtr = std::unique_ptr<sqlite3, DbCloser>;

// One prepared statement, kept for the store's life. Text and blobs are bound without a
// copy (SQLITE_STATIC): every bound buffer outlives the step() that reads it.
class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  ~Stmt() { sqlite3_finalize(s_); }

  Status prepare(sqlite3* db, const char* sql) {
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s_, nullptr) != SQLITE_OK)
      return Status::internal(std::string("cannot prepare statement: ") + sqlite3_errmsg(db));
    return Status::ok();
  }
  sqlite3_stmt* get() const { return s_; }

  void text(int i, std::string_view v) {
    sqlite3_bind_text64(s_, i, v.data(), v.size(), SQLITE_STATIC, SQLITE_UTF8);
  }
  void opt_text(int i, const std::optional<std::string>& v) {
    if (v)
      text(i, *v);
    else
      sqlite3_bind_null(s_, i);
  }
  void int64(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void opt_int64(int i, const std::optional<int64_t>& v) {
    if (v)
      int64(i, *v);
    else
      sqlite3_bind_null(s_, i);
  }
  void blob(int i, std::string_view v) {
    // A non-null pointer even for empty content: a null one would bind SQL NULL.
    sqlite3_bind_blob64(s_, i, v.empty() ? "" : v.data(), v.size(), SQLITE_STATIC);
  }

  // Runs a statement that returns no rows, then resets it for the next use.
  Status run() {
    int rc = sqlite3_step(s_);
    Status st = rc == SQLITE_DONE ? Status::ok() : error(rc);
    sqlite3_reset(s_);
    return st;
  }
  // The message of the last failed step, read before reset() can replace it.
  Status error(int rc) const {
    sqlite3* db = sqlite3_db_handle(s_);
    return sqlite_status(rc, std::string("sqlite: ") + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

// A JSON list of strings printed as Python's json.dumps prints it: ["a", "b"].
std::string json_string_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += ", ";
    append_json_string(items[i], out);
  }
  out += ']';
  return out;
}

// "call_start <id>", "obj_create <project> object <name>:<digest>", ...: names the request
// in error messages.
std::string request_label(const StoreRequest& req) {
  std::string label = request_kind_name(req);
  label += ' ';
  std::visit(
      [&label](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, ObjCreateRequest>) {
          label += r.project_id + ' ' + r.kind + ' ' + r.object_id + ':' + r.digest;
        } else if constexpr (std::is_same_v<T, TableCreateRequest> || std::is_same_v<T, FileCreateRequest>) {
          label += r.project_id + ' ' + r.digest;
        } else {
          label += r.id;
        }
      },
      req);
  return label;
}

Status invalid(std::string_view why) { return Status::invalid_argument(std::string(why)); }

Status validate(const ObjCreateRequest& r) {
  if (r.project_id.empty()) return invalid("project_id is empty");
  if (r.object_id.empty()) return invalid("object_id is empty");
  if (r.digest.empty()) return invalid("digest is empty");
  if (r.kind != "object" && r.kind != "op") return invalid("kind must be \"object\" or \"op\"");
  return Status::ok();
}
Status validate(const TableCreateRequest& r) {
  if (r.project_id.empty()) return invalid("project_id is empty");
  if (r.digest.empty()) return invalid("digest is empty");
  if (r.rows_json.size() != r.row_digests.size())
    return invalid("rows and row_digests differ in length");
  return Status::ok();
}
Status validate(const FileCreateRequest& r) {
  if (r.project_id.empty()) return invalid("project_id is empty");
  if (r.digest.empty()) return invalid("digest is empty");
  if (!r.bytes) return invalid("no bytes");
  return Status::ok();
}
Status validate(const CallStartRequest& r) {
  if (r.project_id.empty()) return invalid("project_id is empty");
  if (r.id.empty()) return invalid("id is empty");
  if (r.trace_id.empty()) return invalid("trace_id is empty");
  if (r.op_name.empty()) return invalid("op_name is empty");
  return Status::ok();
}
Status validate(const CallEndRequest& r) {
  if (r.project_id.empty()) return invalid("project_id is empty");
  if (r.id.empty()) return invalid("id is empty");
  return Status::ok();
}

class SqliteStore final : public Store {
 public:
  SqliteStore(DbPtr db, std::string path) : db_(std::move(db)), path_(std::move(path)) {}

  Status prepare_all() {
    sqlite3* db = db_.get();
    using Entry = std::pair<Stmt*, const char*>;
    for (auto [stmt, sql] :
         std::initializer_list<Entry>{{&begin_, "BEGIN IMMEDIATE"},
                                      {&commit_, "COMMIT"},
                                      {&rollback_, "ROLLBACK"},
                                      {&savepoint_, "SAVEPOINT weft_request"},
                                      {&release_, "RELEASE weft_request"},
                                      {&rollback_to_, "ROLLBACK TO weft_request"},
                                      {&data_version_, "PRAGMA data_version"},
                                      {&obj_select_, kObjSelectSql},
                                      {&obj_unlatest_, kObjUnlatestSql},
                                      {&obj_insert_, kObjInsertSql},
                                      {&table_insert_, kTableInsertSql},
                                      {&row_insert_, kRowInsertSql},
                                      {&file_insert_, kFileInsertSql},
                                      {&call_start_, kCallStartSql},
                                      {&call_end_, kCallEndSql}}) {
      if (Status st = stmt->prepare(db, sql); !st) return st;
    }
    return Status::ok();
  }

  void write_batch(std::span<const StoreRequest> batch, std::vector<Status>& results) override {
    results.assign(batch.size(), Status::ok());
    if (batch.empty()) return;
    // A transaction left open by a failed COMMIT and ROLLBACK would make every later
    // BEGIN fail; end it first.
    if (!sqlite3_get_autocommit(db_.get())) (void)rollback_.run();
    if (Status st = begin_.run(); !st)
      return fail_all(batch, results, st.with_context("BEGIN failed"));
    forget_cache_if_others_wrote();
    for (size_t i = 0; i < batch.size(); ++i) {
      Status st = std::visit([this](const auto& r) { return write_one(r); }, batch[i]);
      if (st) continue;
      results[i] = st.with_context(request_label(batch[i]));
      // A failure of the database, not of this request (disk full, I/O error, lock): the
      // batch lands whole or not at all, so a call never lands without its start or with a
      // dangling op ref. SQLite may already have rolled back; if not, roll back here. The
      // writer retries the whole batch.
      if (st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kResourceExhausted ||
          sqlite3_get_autocommit(db_.get())) {
        if (!sqlite3_get_autocommit(db_.get())) (void)rollback_.run();
        return fail_all(batch, results, st.with_context("transaction rolled back"));
      }
    }
    if (Status st = commit_.run(); !st) {
      (void)rollback_.run();
      fail_all(batch, results, st.with_context("COMMIT failed"));
    }
  }

  std::string describe() const override { return "sqlite:" + path_; }

 private:
  struct NameVersions {
    int64_t next_version = 0;
    std::unordered_set<std::string> digests;
    // Digests whose is_latest is set: one, or several in a file some other tool wrote.
    std::vector<std::string> latest;
  };

  void fail_all(std::span<const StoreRequest> batch, std::vector<Status>& results,
                const Status& why) {
    names_.clear();  // it may describe rows that were rolled back
    for (size_t i = 0; i < batch.size(); ++i)
      results[i] = why.with_context(request_label(batch[i]));
  }

  // PRAGMA data_version changes when another connection commits to the file; our own
  // commits leave it alone. Called after BEGIN IMMEDIATE, so no one can write until COMMIT.
  void forget_cache_if_others_wrote() {
    int64_t version = -1;
    if (sqlite3_step(data_version_.get()) == SQLITE_ROW)
      version = sqlite3_column_int64(data_version_.get(), 0);
    sqlite3_reset(data_version_.get());
    if (version != data_version_seen_ || version < 0) names_.clear();
    data_version_seen_ = version;
  }

  // Requests of more than one statement run inside a savepoint so that a failure leaves
  // none of their rows behind; single statements are already atomic.
  template <class Req, class Fn>
  Status guarded(const Req& r, bool savepoint, Fn&& fn) {
    if (Status st = validate(r); !st) return st;
    if (!savepoint) return fn();
    if (Status st = savepoint_.run(); !st) return st;
    Status st = fn();
    if (!st) (void)rollback_to_.run();
    if (Status released = release_.run(); !released && st) return released;
    return st;
  }

  Status write_one(const ObjCreateRequest& r) {
    return guarded(r, true, [&] { return write_object(r); });
  }
  Status write_one(const TableCreateRequest& r) {
    return guarded(r, true, [&] { return write_table(r); });
  }
  Status write_one(const FileCreateRequest& r) {
    return guarded(r, false, [&] {
      file_insert_.text(1, r.project_id);
      file_insert_.text(2, r.digest);
      file_insert_.blob(3, *r.bytes);
      return file_insert_.run();
    });
  }
  Status write_one(const CallStartRequest& r) {
    return guarded(r, false, [&] {
      const std::string started_at = format_iso8601_micros(r.started_at_us);
      const std::string input_refs = json_string_list(r.input_refs);
      Stmt& s = call_start_;
      s.text(1, r.project_id);
      s.text(2, r.id);
      s.text(3, r.trace_id);
      s.opt_text(4, r.parent_id);
      s.opt_text(5, r.thread_id);
      s.opt_text(6, r.turn_id);
      s.text(7, r.op_name);
      s.text(8, started_at);
      s.text(9, r.attributes_json.empty() ? std::string_view("{}") : r.attributes_json);
      s.text(10, r.inputs_json.empty() ? std::string_view("{}") : r.inputs_json);
      s.text(11, input_refs);
      s.opt_text(12, r.wb_run_id);
      s.opt_int64(13, r.wb_run_step);
      s.opt_text(14, r.display_name);
      return s.run();
    });
  }
  Status write_one(const CallEndRequest& r) {
    return guarded(r, false, [&] {
      const std::optional<std::string> started_at =
          r.started_at_us ? std::optional(format_iso8601_micros(r.started_at_us)) : std::nullopt;
      const std::string ended_at = format_iso8601_micros(r.ended_at_us);
      const std::string output_refs = json_string_list(r.output_refs);
      Stmt& s = call_end_;
      s.text(1, r.project_id);
      s.text(2, r.id);
      s.opt_text(3, started_at);
      s.text(4, ended_at);
      s.opt_text(5, r.exception_json);
      s.text(6, r.output_json.empty() ? std::string_view("null") : r.output_json);
      s.text(7, output_refs);
      s.text(8, r.summary_json.empty() ? std::string_view("{}") : r.summary_json);
      s.opt_int64(9, r.wb_run_step_end);
      return s.run();
    });
  }

  Status write_object(const ObjCreateRequest& r) {
    std::string key = r.project_id + '\0' + r.kind + '\0' + r.object_id;
    auto it = names_.find(key);
    if (it == names_.end()) {
      Result<NameVersions> loaded = load_versions(r);
      if (!loaded) return loaded.status();
      it = names_.emplace(std::move(key), std::move(loaded).value()).first;
    }
    NameVersions& versions = it->second;
    if (versions.digests.contains(r.digest)) return Status::ok();  // saved before: no-op

    for (const std::string& digest : versions.latest) {
      obj_unlatest_.text(1, r.project_id);
      obj_unlatest_.text(2, r.kind);
      obj_unlatest_.text(3, r.object_id);
      obj_unlatest_.text(4, digest);
      if (Status st = obj_unlatest_.run(); !st) return st;
    }

    const std::string created_at = format_iso8601_micros(r.created_at_us);
    const std::string refs = json_string_list(r.refs);
    Stmt& s = obj_insert_;
    s.text(1, r.project_id);
    s.text(2, r.object_id);
    s.text(3, created_at);
    s.text(4, r.kind);
    s.opt_text(5, r.base_object_class);
    s.opt_text(6, r.leaf_object_class);
    s.text(7, refs);
    s.text(8, r.val_json);
    s.text(9, r.digest);
    s.int64(10, versions.next_version);
    if (Status st = s.run(); !st) return st;
    // Only now, with the row written: a failed request must not advance the cache.
    versions.digests.insert(r.digest);
    versions.latest.assign(1, r.digest);
    ++versions.next_version;
    return Status::ok();
  }

  // The versions of one name already in the file (from an earlier run or another writer).
  Result<NameVersions> load_versions(const ObjCreateRequest& r) {
    Stmt& s = obj_select_;
    s.text(1, r.project_id);
    s.text(2, r.kind);
    s.text(3, r.object_id);
    NameVersions versions;
    int rc;
    while ((rc = sqlite3_step(s.get())) == SQLITE_ROW) {
      versions.next_version =
          std::max<int64_t>(versions.next_version, sqlite3_column_int64(s.get(), 1) + 1);
      auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s.get(), 0));
      if (!text) continue;
      std::string digest(text, static_cast<size_t>(sqlite3_column_bytes(s.get(), 0)));
      if (sqlite3_column_int64(s.get(), 2) != 0) versions.latest.push_back(digest);
      versions.digests.insert(std::move(digest));
    }
    Status st = rc == SQLITE_DONE ? Status::ok() : s.error(rc);
    sqlite3_reset(s.get());
    if (!st) return st;
    return versions;
  }

  Status write_table(const TableCreateRequest& r) {
    const std::string row_digests = json_string_list(r.row_digests);
    table_insert_.text(1, r.project_id);
    table_insert_.text(2, r.digest);
    table_insert_.text(3, row_digests);
    if (Status st = table_insert_.run(); !st) return st;
    // Rows are inserted even when the table existed: cheap (ON CONFLICT DO NOTHING), and it
    // repairs a file where a table row went missing.
    for (size_t i = 0; i < r.rows_json.size(); ++i) {
      row_insert_.text(1, r.project_id);
      row_insert_.text(2, r.row_digests[i]);
      row_insert_.text(3, r.rows_json[i]);
      if (Status st = row_insert_.run(); !st) return st;
    }
    return Status::ok();
  }

  // Declared first so that it is destroyed last, after every statement is finalized.
  DbPtr db_;
  std::string path_;
  Stmt begin_, commit_, rollback_, savepoint_, release_, rollback_to_, data_version_;
  Stmt obj_select_, obj_unlatest_, obj_insert_, table_insert_, row_insert_, file_insert_;
  Stmt call_start_, call_end_;
  std::unordered_map<std::string, NameVersions> names_;  // key: project \0 kind \0 name
  int64_t data_version_seen_ = -1;
};

Status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::ok();
  std::string message = err ? err : sqlite3_errmsg(db);
  sqlite3_free(err);
  return sqlite_status(rc, message);
}

// The schema, created in one transaction so that two processes opening the same new file
// cannot interleave; refuses a file written by a newer weft.
Status create_schema(sqlite3* db) {
  if (Status st = exec(db, "BEGIN IMMEDIATE"); !st) return st;
  std::string version_sql = "INSERT INTO weft_meta (key, value) VALUES ('schema_version', '" +
                            std::to_string(kSqliteSchemaVersion) + "') ON CONFLICT(key) DO NOTHING";
  Status st = exec(db, kSchemaSql);
  if (st) st = exec(db, version_sql.c_str());
  if (st) {
    sqlite3_stmt* q = nullptr;
    int64_t version = 0;
    if (sqlite3_prepare_v2(
            db, "SELECT CAST(value AS INTEGER) FROM weft_meta WHERE key = 'schema_version'", -1, &q,
            nullptr) == SQLITE_OK &&
        sqlite3_step(q) == SQLITE_ROW)
      version = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    if (version > kSqliteSchemaVersion)
      st = Status::failed_precondition("schema version " + std::to_string(version) +
                         " was written by a newer weft (this one writes " +
                         std::to_string(kSqliteSchemaVersion) + ")");
  }
  if (st) return exec(db, "COMMIT");
  (void)exec(db, "ROLLBACK");
  return st;
}

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite_store(const std::string& path) {
  const std::string context = "cannot open SQLite store " + path;
  auto fail = [&context](const Status& why) { return why.with_context(context); };
  sqlite3* raw = nullptr;
  // NOMUTEX: a Store is used by one thread at a time (store.h).
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  DbPtr db(raw);  // closed on every path, even when open failed
  if (rc != SQLITE_OK) return fail(sqlite_status(rc, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
  // Wait for another writer's transaction instead of failing a whole batch with BUSY.
  sqlite3_busy_timeout(raw, 5000);
  // WAL: readers (the CLI, Python) never block the writer; NORMAL: WAL is still durable
  // across a crash of this process, and commits do not wait for fsync.
  // A 64 MiB page cache and memory-mapped reads: the writer re-reads index pages of the
  // objects and calls tables on every batch (2 KiB default cache: mostly read() syscalls).
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL",
                             "PRAGMA cache_size=-65536", "PRAGMA mmap_size=268435456",
                             "PRAGMA temp_store=MEMORY"})
    if (Status st = exec(raw, pragma); !st) return fail(st);
  if (Status st = create_schema(raw); !st) return fail(st);
  auto store = std::make_unique<SqliteStore>(std::move(db), path);
  if (Status st = store->prepare_all(); !st) return fail(st);
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace weft
