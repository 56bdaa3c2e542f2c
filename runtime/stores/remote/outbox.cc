// The remote store's durable outbox: one SQLite file in WAL mode, held with an exclusive
// lock for the Outbox's life. Format, locking and semantics: outbox.h.
#include "runtime/stores/remote/outbox.h"

#include <sqlite3.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <string_view>
#include <utility>

#include <weft/ids.h>

#include "runtime/stores/sqlite/sqlite_status.h"

namespace weft {
namespace {

// outbox_meta.format_version written by this build; a file with a higher one is refused.
constexpr int64_t kOutboxFormatVersion = 1;

constexpr const char* kSchemaSql = R"sql(
CREATE TABLE outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, body TEXT NOT NULL,
  appended_at INTEGER NOT NULL);
CREATE TABLE outbox_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
INSERT INTO outbox_meta (key, value) VALUES ('format_version', '1');
)sql";

// Bytes, not characters: length() of TEXT counts characters.
constexpr const char* kBodyBytes = "length(CAST(body AS BLOB))";

// The failure of the last call on db, read before anything else can replace its message.
Status db_error(sqlite3* db, int rc) {
  return Status(sqlite_status_code(rc),
                std::string("sqlite: ") + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

struct Finalize {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using StmtPtr = std::unique_ptr<sqlite3_stmt, Finalize>;

// Resets a statement on every way out of a scope, so none is left mid-step (holding a
// read open) after an early return.
class ResetOnExit {
 public:
  explicit ResetOnExit(sqlite3_stmt* s) : s_(s) {}
  ~ResetOnExit() { sqlite3_reset(s_); }
  ResetOnExit(const ResetOnExit&) = delete;
  ResetOnExit& operator=(const ResetOnExit&) = delete;

 private:
  sqlite3_stmt* s_;
};

// Steps a statement that returns no rows.
Status step_done(sqlite3_stmt* s) {
  ResetOnExit reset(s);
  const int rc = sqlite3_step(s);
  return rc == SQLITE_DONE ? Status::ok() : db_error(sqlite3_db_handle(s), rc);
}

}  // namespace

struct Outbox::Impl {
  Impl(std::string p, uint64_t cap) : path(std::move(p)), max_bytes(cap) {}
  ~Impl() {
    // Statements first: sqlite3_close_v2 would otherwise defer the close to their finalize.
    for (StmtPtr* s : {&begin, &commit, &rollback, &insert, &size_of, &erase, &select}) s->reset();
    sqlite3_close_v2(db);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status open();
  Status lock_and_check();
  // db_error, remembering rc for open() to tell a held or foreign file from other failures.
  Status fail(int rc) {
    last_rc = rc;
    return db_error(db, rc);
  }
  Status exec(const char* sql) {
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    return rc == SQLITE_OK ? Status::ok() : fail(rc);
  }
  Status prepare(StmtPtr& out, const char* sql) {
    sqlite3_stmt* s = nullptr;
    const int rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    out.reset(s);
    return rc == SQLITE_OK ? Status::ok() : fail(rc).with_context(std::string("prepare ") + sql);
  }
  Status check_schema(bool& fresh);
  Status load_counters();

  // Runs body between BEGIN and COMMIT; on any failure rolls back (unless SQLite already
  // did) so that nothing of the batch stays and the next transaction can begin.
  template <class Body>
  Status transaction(Body&& body) {
    if (!sqlite3_get_autocommit(db)) (void)step_done(rollback.get());
    Status st = step_done(begin.get());
    if (st) st = body();
    if (st) st = step_done(commit.get());
    if (!st && !sqlite3_get_autocommit(db)) (void)step_done(rollback.get());
    return st;
  }

  std::string path;
  uint64_t max_bytes;
  sqlite3* db = nullptr;
  int last_rc = SQLITE_OK;  // of the last failure fail() saw
  uint64_t depth = 0;
  uint64_t bytes = 0;
  StmtPtr begin, commit, rollback, insert, size_of, erase, select;
};

// BUSY or LOCKED at open can only mean another connection holds the file: once we have it
// no one else can. Not-a-database and corruption mean the file is not an outbox we can use.
Status Outbox::Impl::open() {
  const int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string why = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    if (const int e = db ? sqlite3_system_errno(db) : 0; e != 0)
      why += std::string(" (") + std::strerror(e) + ")";
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    std::error_code ec;
    if (!dir.empty() && !std::filesystem::is_directory(dir, ec))
      why = "directory " + dir.string() + " does not exist";
    return Status::failed_precondition(why);
  }
  if (sqlite3_db_readonly(db, "main") == 1)
    return Status::failed_precondition("the file is read-only");
  if (Status st = lock_and_check(); !st) {
    if (!sqlite3_get_autocommit(db)) (void)exec("ROLLBACK");
    if (st.code() == StatusCode::kFailedPrecondition) return st;  // says why already
    const int code = last_rc & 0xff;
    if (code == SQLITE_BUSY || code == SQLITE_LOCKED)
      return Status::failed_precondition(
          "it is in use by another process (or by another Outbox in this one)");
    if (code == SQLITE_NOTADB || code == SQLITE_CORRUPT)
      return Status::failed_precondition("not an outbox: " + st.message());
    return st;
  }
  if (Status loaded = load_counters(); !loaded) return loaded;
  // The size is read by a SELECT before each DELETE: DELETE ... RETURNING costs ~10x more
  // per row (SQLite 3.40 sets up a table for the returned rows at every execution).
  const std::string size_sql = std::string("SELECT ") + kBodyBytes + " FROM outbox WHERE id = ?1";
  for (auto [stmt, sql] :
       {std::pair<StmtPtr*, const char*>{&begin, "BEGIN IMMEDIATE"},
        {&commit, "COMMIT"},
        {&rollback, "ROLLBACK"},
        {&insert, "INSERT INTO outbox (kind, body, appended_at) VALUES (?1, ?2, ?3)"},
        {&size_of, size_sql.c_str()},
        {&erase, "DELETE FROM outbox WHERE id = ?1"},
        {&select,
         "SELECT id, kind, body, appended_at FROM outbox WHERE id > ?1"
         " ORDER BY id LIMIT ?2"}})
    if (Status prepared = prepare(*stmt, sql); !prepared) return prepared;
  return Status::ok();
}

// Takes the lock for good, checks (or creates) the schema, then switches to WAL.
Status Outbox::Impl::lock_and_check() {
  // EXCLUSIVE before the first access: the lock taken by BEGIN EXCLUSIVE is then kept until
  // close, and WAL keeps its index in heap memory (no -shm file). No busy timeout: a file
  // held by someone else fails at once rather than after a wait.
  if (Status st = exec("PRAGMA locking_mode=EXCLUSIVE"); !st) return st;
  // NORMAL: commits do not wait for fsync and still survive a process crash. The WAL is
  // cut back to 64 MiB after a checkpoint (an outsized batch would otherwise leave it big).
  for (const char* pragma : {"PRAGMA synchronous=NORMAL", "PRAGMA journal_size_limit=67108864"})
    if (Status st = exec(pragma); !st) return st;
  // The schema is checked before journal_mode=WAL, which would rewrite a foreign file.
  bool fresh = false;
  if (Status st = exec("BEGIN EXCLUSIVE"); !st) return st;
  if (Status st = check_schema(fresh); !st) return st;
  if (fresh)
    if (Status st = exec(kSchemaSql); !st) return st;
  if (Status st = exec("COMMIT"); !st) return st;

  sqlite3_stmt* raw = nullptr;
  if (const int rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode=WAL", -1, &raw, nullptr);
      rc != SQLITE_OK)
    return fail(rc);
  StmtPtr mode(raw);
  if (const int rc = sqlite3_step(raw); rc != SQLITE_ROW) return fail(rc);
  const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(raw, 0));
  if (!text || std::string_view(text) != "wal")
    return Status::internal(std::string("cannot switch to WAL (journal mode is ") +
                            (text ? text : "unknown") + ")");
  return Status::ok();
}

// fresh: the file has no schema at all (new, or empty), so ours is to be created. Anything
// else must be an outbox of a format this build reads.
Status Outbox::Impl::check_schema(bool& fresh) {
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(
      db,
      "SELECT count(*), count(*) FILTER (WHERE type = 'table' AND name IN ('outbox', "
      "'outbox_meta')),"
      " group_concat(name, ', ') FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
      -1, &raw, nullptr);
  if (rc != SQLITE_OK) return fail(rc);
  StmtPtr tables(raw);
  if ((rc = sqlite3_step(raw)) != SQLITE_ROW) return fail(rc);
  const int64_t all = sqlite3_column_int64(raw, 0);
  const int64_t ours = sqlite3_column_int64(raw, 1);
  const auto* names = reinterpret_cast<const char*>(sqlite3_column_text(raw, 2));
  fresh = all == 0;
  if (fresh) return Status::ok();
  if (ours != 2)
    return Status::failed_precondition(
        std::string("not an outbox: an SQLite database without the outbox tables (it has ") +
        (names ? names : "") + ")");

  rc = sqlite3_prepare_v2(db, "SELECT value FROM outbox_meta WHERE key = 'format_version'", -1,
                          &raw, nullptr);
  if (rc != SQLITE_OK) return fail(rc);
  StmtPtr version_query(raw);
  rc = sqlite3_step(raw);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return fail(rc);
  const auto* text =
      rc == SQLITE_ROW ? reinterpret_cast<const char*>(sqlite3_column_text(raw, 0)) : nullptr;
  const std::string value = text ? text : "";
  int64_t version = 0;
  const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), version);
  if (ec != std::errc() || end != value.data() + value.size()) version = 0;
  if (version <= 0)
    return Status::failed_precondition("not an outbox: outbox_meta holds no valid format_version");
  if (version > kOutboxFormatVersion)
    return Status::failed_precondition("format version " + value +
                                       " was written by a newer weft (this one reads " +
                                       std::to_string(kOutboxFormatVersion) + ")");
  return Status::ok();
}

Status Outbox::Impl::load_counters() {
  const std::string sql =
      std::string("SELECT count(*), coalesce(sum(") + kBodyBytes + "), 0) FROM outbox";
  sqlite3_stmt* raw = nullptr;
  int rc = sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr);
  if (rc != SQLITE_OK) return fail(rc);
  StmtPtr totals(raw);
  if ((rc = sqlite3_step(raw)) != SQLITE_ROW) return fail(rc);
  depth = static_cast<uint64_t>(sqlite3_column_int64(raw, 0));
  bytes = static_cast<uint64_t>(sqlite3_column_int64(raw, 1));
  return Status::ok();
}

Result<std::unique_ptr<Outbox>> Outbox::open(const std::string& path, uint64_t max_bytes) {
  auto impl = std::make_unique<Impl>(path, max_bytes);
  if (Status st = impl->open(); !st) return st.with_context("cannot open outbox " + path);
  return std::unique_ptr<Outbox>(new Outbox(std::move(impl)));
}

Outbox::Outbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Outbox::~Outbox() = default;

Status Outbox::append(std::span<const OutboxRecord> records, std::vector<uint64_t>& ids) {
  ids.clear();
  if (records.empty()) return Status::ok();
  Impl& m = *impl_;
  uint64_t incoming = 0;
  for (const OutboxRecord& r : records) incoming += r.body.size();
  if (m.max_bytes != 0 && (m.bytes > m.max_bytes || incoming > m.max_bytes - m.bytes))
    return Status::resource_exhausted("outbox " + m.path + " is full: " + std::to_string(m.bytes) +
                                      " of " + std::to_string(m.max_bytes) +
                                      " bytes used, refusing " + std::to_string(records.size()) +
                                      (records.size() == 1 ? " record of " : " records of ") +
                                      std::to_string(incoming) + " bytes");

  const int64_t now = now_unix_micros();
  ids.reserve(records.size());
  sqlite3_stmt* s = m.insert.get();
  Status st = m.transaction([&]() -> Status {
    for (const OutboxRecord& r : records) {
      ResetOnExit reset(s);
      // SQLITE_STATIC: the records outlive each step. A non-null pointer for an empty
      // body, which would otherwise bind NULL (and fail NOT NULL).
      sqlite3_bind_text64(s, 1, r.kind.data() ? r.kind.data() : "", r.kind.size(), SQLITE_STATIC,
                          SQLITE_UTF8);
      sqlite3_bind_text64(s, 2, r.body.data() ? r.body.data() : "", r.body.size(), SQLITE_STATIC,
                          SQLITE_UTF8);
      sqlite3_bind_int64(s, 3, now);
      if (const int rc = sqlite3_step(s); rc != SQLITE_DONE) return db_error(m.db, rc);
      ids.push_back(static_cast<uint64_t>(sqlite3_last_insert_rowid(m.db)));
    }
    return Status::ok();
  });
  if (!st) {
    ids.clear();
    return st.with_context("outbox " + m.path + ": append of " + std::to_string(records.size()) +
                           " records rolled back");
  }
  m.depth += records.size();
  m.bytes += incoming;
  return Status::ok();
}

Status Outbox::remove(std::span<const uint64_t> ids) {
  if (ids.empty()) return Status::ok();
  Impl& m = *impl_;
  uint64_t removed = 0;
  uint64_t freed = 0;
  sqlite3_stmt* size_of = m.size_of.get();
  sqlite3_stmt* erase = m.erase.get();
  Status st = m.transaction([&]() -> Status {
    for (const uint64_t id : ids) {
      if (id > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        continue;  // never stored
      ResetOnExit reset(size_of);
      sqlite3_bind_int64(size_of, 1, static_cast<int64_t>(id));
      const int rc = sqlite3_step(size_of);
      if (rc == SQLITE_DONE) continue;  // not there (never was, or removed already)
      if (rc != SQLITE_ROW) return db_error(m.db, rc);
      const auto size = static_cast<uint64_t>(sqlite3_column_int64(size_of, 0));
      sqlite3_bind_int64(erase, 1, static_cast<int64_t>(id));
      if (Status deleted = step_done(erase); !deleted) return deleted;
      ++removed;
      freed += size;
    }
    return Status::ok();
  });
  if (!st)
    return st.with_context("outbox " + m.path + ": removal of " + std::to_string(ids.size()) +
                           " ids rolled back");
  m.depth -= removed;
  m.bytes -= freed;
  return Status::ok();
}

Result<std::vector<OutboxEntry>> Outbox::read(uint64_t after, size_t limit) const {
  std::vector<OutboxEntry> out;
  constexpr uint64_t kMaxId = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (limit == 0 || after >= kMaxId) return out;
  const Impl& m = *impl_;
  sqlite3_stmt* s = m.select.get();
  ResetOnExit reset(s);
  sqlite3_bind_int64(s, 1, static_cast<int64_t>(after));
  sqlite3_bind_int64(s, 2, static_cast<int64_t>(std::min<uint64_t>(limit, kMaxId)));
  out.reserve(static_cast<size_t>(std::min<uint64_t>(limit, m.depth)));
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    OutboxEntry& e = out.emplace_back();
    e.id = static_cast<uint64_t>(sqlite3_column_int64(s, 0));
    // Text columns read as bytes (column_blob) so that an embedded NUL does not cut them.
    for (auto [column, field] : {std::pair{1, &e.kind}, std::pair{2, &e.body}}) {
      const void* data = sqlite3_column_blob(s, column);
      const int size = sqlite3_column_bytes(s, column);
      if (data) field->assign(static_cast<const char*>(data), static_cast<size_t>(size));
    }
    e.appended_at_us = sqlite3_column_int64(s, 3);
  }
  if (rc != SQLITE_DONE)
    return db_error(m.db, rc).with_context("outbox " + m.path + ": read after id " +
                                           std::to_string(after));
  return out;
}

uint64_t Outbox::depth() const { return impl_->depth; }
uint64_t Outbox::bytes() const { return impl_->bytes; }
const std::string& Outbox::path() const { return impl_->path; }

}  // namespace weft
