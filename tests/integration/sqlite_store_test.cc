// The SQLite store, its reader and the request bodies. Rows are checked with plain
// sqlite3 queries (and once with Python's sqlite3 module), not through weft's own reader.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include <weft/store.h>

#include "runtime/stores/request_body.h"
#include "runtime/stores/sqlite/sqlite_store.h"
#include "runtime/stores/sqlite/store_reader.h"

namespace weft {
namespace {

namespace fs = std::filesystem;
using Row = std::vector<std::optional<std::string>>;

constexpr const char* kProject = "ent/proj";
constexpr int64_t kT0 = 1700000000123456;  // 2023-11-14T22:13:20.123456Z

// A fresh directory per test, removed afterwards.
class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("weft_sqlite_store_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
    path_ = (dir_ / "weft.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Store> open() {
    auto store = open_sqlite_store(path_);
    EXPECT_TRUE(store.is_ok()) << (store.is_ok() ? "" : store.error());
    return store.is_ok() ? std::move(store).value() : nullptr;
  }

  static std::vector<Status> write(Store& store, std::vector<StoreRequest> batch) {
    std::vector<Status> results;
    store.write_batch(batch, results);
    return results;
  }

  // Every row of a query, each column as text (NULL as nullopt), via a separate connection.
  std::vector<Row> rows(const std::string& sql) const {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr), SQLITE_OK)
        << sql << ": " << sqlite3_errmsg(db);
    std::vector<Row> out;
    while (st && sqlite3_step(st) == SQLITE_ROW) {
      Row row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        auto* p = reinterpret_cast<const char*>(sqlite3_column_text(st, c));
        if (p)
          row.emplace_back(std::string(p, sqlite3_column_bytes(st, c)));
        else
          row.emplace_back(std::nullopt);
      }
      out.push_back(std::move(row));
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
  }

  void exec(const std::string& sql) const {
    sqlite3* db = nullptr;
    ASSERT_EQ(
        sqlite3_open_v2(path_.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
        SQLITE_OK);
    char* err = nullptr;
    EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << (err ? err : "");
    sqlite3_free(err);
    sqlite3_close(db);
  }

  fs::path dir_;
  std::string path_;
};

ObjCreateRequest obj(std::string name, std::string digest, std::string kind = "object") {
  ObjCreateRequest o;
  o.project_id = kProject;
  o.object_id = std::move(name);
  o.kind = std::move(kind);
  o.val_json = "{\"v\": \"" + digest + "\"}";
  o.digest = std::move(digest);
  o.created_at_us = kT0;
  return o;
}

CallStartRequest start(std::string id, std::optional<std::string> parent, int64_t t) {
  CallStartRequest s;
  s.project_id = kProject;
  s.id = std::move(id);
  s.trace_id = "trace1";
  s.parent_id = std::move(parent);
  s.op_name = "weave:///ent/proj/op/f:abc";
  s.started_at_us = t;
  s.attributes_json = "{\"weave\": {\"client_version\": \"0.1\"}}";
  s.inputs_json = "{\"m\": \"weave:///ent/proj/object/model:d1\"}";
  s.input_refs = {"weave:///ent/proj/object/model:d1"};
  return s;
}

CallEndRequest end(std::string id, int64_t started, int64_t ended) {
  CallEndRequest e;
  e.project_id = kProject;
  e.id = std::move(id);
  e.started_at_us = started;
  e.ended_at_us = ended;
  e.output_json = "[1, 2]";
  e.summary_json = "{\"status_counts\": {\"success\": 1}}";
  return e;
}

FileCreateRequest file(std::string digest, std::string bytes) {
  FileCreateRequest f;
  f.project_id = kProject;
  f.digest = std::move(digest);
  f.name = "obj.py";
  f.bytes = std::make_shared<const std::string>(std::move(bytes));
  return f;
}

TableCreateRequest table(std::string digest, std::vector<std::string> row_digests) {
  TableCreateRequest t;
  t.project_id = kProject;
  t.digest = std::move(digest);
  for (const auto& d : row_digests) t.rows_json.push_back("{\"row\": \"" + d + "\"}");
  t.row_digests = std::move(row_digests);
  return t;
}

void expect_all_ok(const std::vector<Status>& results) {
  for (size_t i = 0; i < results.size(); ++i)
    EXPECT_TRUE(results[i].is_ok()) << "request " << i << ": " << results[i].message();
}

// Runs a shell command and returns what it printed.
std::string run(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

TEST_F(SqliteStoreTest, VersionsOfANameAndRepeatedDigests) {
  auto store = open();
  ASSERT_TRUE(store);
  expect_all_ok(write(*store, {obj("model", "d1"), obj("model", "d2"), obj("model", "d1")}));
  // Same name under kind "op" and another name: versioned separately.
  expect_all_ok(write(*store, {obj("model", "d3"), obj("model", "o1", "op"), obj("other", "x1"),
                               obj("model", "d2")}));
  EXPECT_EQ(rows("SELECT kind, object_id, digest, version_index, is_latest FROM objects"
                 " ORDER BY kind, object_id, version_index"),
            (std::vector<Row>{{"object", "model", "d1", "0", "0"},
                              {"object", "model", "d2", "1", "0"},
                              {"object", "model", "d3", "2", "1"},
                              {"object", "other", "x1", "0", "1"},
                              {"op", "model", "o1", "0", "1"}}));
  EXPECT_EQ(rows("SELECT project_id, wb_user_id, created_at, base_object_class,"
                 " leaf_object_class, refs, val_dump, deleted_at FROM objects WHERE digest = 'd1'"),
            (std::vector<Row>{{kProject, std::nullopt, "2023-11-14T22:13:20.123456Z", std::nullopt,
                               std::nullopt, "[]", "{\"v\": \"d1\"}", std::nullopt}}));
}

TEST_F(SqliteStoreTest, ObjectColumns) {
  auto store = open();
  ASSERT_TRUE(store);
  ObjCreateRequest o = obj("ds", "dd");
  o.base_object_class = "Object";
  o.leaf_object_class = "Dataset";
  o.refs = {"weave:///ent/proj/table/abc", "weave:///ent/proj/object/x:\xc3\xa9"};
  expect_all_ok(write(*store, {o}));
  EXPECT_EQ(rows("SELECT base_object_class, leaf_object_class, refs FROM objects"),
            (std::vector<Row>{{"Object", "Dataset",
                               "[\"weave:///ent/proj/table/abc\", "
                               "\"weave:///ent/proj/object/x:\\u00e9\"]"}}));
}

TEST_F(SqliteStoreTest, CallEndBeforeCallStartMakesOneCompleteRow) {
  auto store = open();
  ASSERT_TRUE(store);
  // c1: end and start in separate batches; c2: end before start in one batch;
  // c3: the usual order. c4: only the end arrived (start lost).
  CallEndRequest e1 = end("c1", kT0, kT0 + 876544);
  e1.exception_json = "{\"type\": \"ValueError\", \"message\": \"bad\", \"traceback\": []}";
  e1.output_refs = {"weave:///ent/proj/object/out:o1"};
  e1.wb_run_step_end = 7;
  expect_all_ok(write(*store, {e1}));
  CallStartRequest s1 = start("c1", std::nullopt, kT0);
  s1.display_name = "first";
  s1.thread_id = "th";
  s1.wb_run_id = "run";
  s1.wb_run_step = 6;
  expect_all_ok(write(*store, {s1}));
  expect_all_ok(write(*store, {end("c2", kT0 + 1, kT0 + 2), start("c2", "c1", kT0 + 1),
                               // c3's end disagrees about started_at: the start wins.
                               start("c3", "c1", kT0 + 3), end("c3", kT0 + 999, kT0 + 4000),
                               end("c4", 0, kT0 + 5)}));

  auto all = rows("SELECT * FROM calls WHERE id = 'c1'");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0], (Row{kProject,
                         "c1",
                         "trace1",
                         std::nullopt,
                         "th",
                         std::nullopt,
                         "weave:///ent/proj/op/f:abc",
                         "2023-11-14T22:13:20.123456Z",
                         "2023-11-14T22:13:21.000000Z",
                         "{\"type\": \"ValueError\", \"message\": \"bad\", \"traceback\": []}",
                         "{\"weave\": {\"client_version\": \"0.1\"}}",
                         "{\"m\": \"weave:///ent/proj/object/model:d1\"}",
                         "[\"weave:///ent/proj/object/model:d1\"]",
                         "[1, 2]",
                         "[\"weave:///ent/proj/object/out:o1\"]",
                         "{\"status_counts\": {\"success\": 1}}",
                         std::nullopt,
                         "run",
                         "6",
                         "7",
                         std::nullopt,
                         "first",
                         std::nullopt}));
  EXPECT_EQ(rows("SELECT id, parent_id, op_name IS NOT NULL, started_at, ended_at IS NOT NULL"
                 " FROM calls ORDER BY id"),
            (std::vector<Row>{{"c1", std::nullopt, "1", "2023-11-14T22:13:20.123456Z", "1"},
                              {"c2", "c1", "1", "2023-11-14T22:13:20.123457Z", "1"},
                              {"c3", "c1", "1", "2023-11-14T22:13:20.123459Z", "1"},
                              {"c4", std::nullopt, "0", std::nullopt, "1"}}));
}

TEST_F(SqliteStoreTest, TablesAndFiles) {
  auto store = open();
  ASSERT_TRUE(store);
  std::string bytes("a\0b", 3);
  expect_all_ok(write(
      *store, {table("t1", {"r1", "r2"}), table("t2", {"r2", "r3"}), table("t1", {"r1", "r2"}),
               table("empty", {}), file("f1", bytes), file("f1", bytes), file("f0", "")}));
  EXPECT_EQ(rows("SELECT project_id, digest, row_digests FROM tables ORDER BY digest"),
            (std::vector<Row>{{kProject, "empty", "[]"},
                              {kProject, "t1", "[\"r1\", \"r2\"]"},
                              {kProject, "t2", "[\"r2\", \"r3\"]"}}));
  EXPECT_EQ(
      rows("SELECT digest, val FROM table_rows ORDER BY digest"),
      (std::vector<Row>{
          {"r1", "{\"row\": \"r1\"}"}, {"r2", "{\"row\": \"r2\"}"}, {"r3", "{\"row\": \"r3\"}"}}));
  EXPECT_EQ(rows("SELECT digest, typeof(val), length(val), hex(val) FROM files ORDER BY digest"),
            (std::vector<Row>{{"f0", "blob", "0", ""}, {"f1", "blob", "3", "610062"}}));
}

TEST_F(SqliteStoreTest, FailingRequestsReportErrorsAndTheRestOfTheBatchLands) {
  auto store = open();
  ASSERT_TRUE(store);
  expect_all_ok(write(*store, {obj("model", "d1")}));
  // SQLite-level failures injected from another connection: a trigger aborts the insert.
  exec(
      "CREATE TRIGGER poison_files BEFORE INSERT ON files WHEN NEW.digest = 'poison'"
      " BEGIN SELECT RAISE(ABORT, 'poisoned file'); END;"
      "CREATE TRIGGER poison_rows BEFORE INSERT ON table_rows WHEN NEW.digest = 'poison'"
      " BEGIN SELECT RAISE(ABORT, 'poisoned row'); END;"
      "CREATE TRIGGER poison_objects BEFORE INSERT ON objects WHEN NEW.digest = 'poison'"
      " BEGIN SELECT RAISE(ABORT, 'poisoned object'); END;");
  CallStartRequest no_id = start("", std::nullopt, kT0);
  ObjCreateRequest bad_kind = obj("model", "dk", "thing");
  auto results =
      write(*store, {start("ok1", std::nullopt, kT0), no_id, bad_kind, file("poison", "x"),
                     table("tp", {"r1", "poison"}), obj("model", "poison"), file("fine", "y"),
                     obj("other", "o1"), end("ok1", kT0, kT0 + 1)});
  ASSERT_EQ(results.size(), 9u);
  for (size_t i : {0u, 6u, 7u, 8u}) EXPECT_TRUE(results[i].is_ok()) << i << results[i].message();
  for (size_t i : {1u, 2u, 3u, 4u, 5u}) ASSERT_FALSE(results[i].is_ok()) << i;
  EXPECT_EQ(results[1].code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(results[2].code(), StatusCode::kInvalidArgument);
  // The poison triggers RAISE(ABORT): SQLITE_CONSTRAINT, the request's own fault.
  for (size_t i : {3u, 4u, 5u}) EXPECT_EQ(results[i].code(), StatusCode::kInvalidArgument) << i;
  EXPECT_EQ(results[1].message(), "call_start : id is empty");
  EXPECT_EQ(results[2].message(),
            "obj_create ent/proj thing model:dk: kind must be \"object\" or \"op\"");
  EXPECT_EQ(results[3].message(), "file_create ent/proj poison: sqlite: poisoned file");
  EXPECT_EQ(results[4].message(), "table_create ent/proj tp: sqlite: poisoned row");
  EXPECT_EQ(results[5].message(),
            "obj_create ent/proj object model:poison: sqlite: poisoned object");

  EXPECT_EQ(rows("SELECT id, ended_at IS NOT NULL FROM calls"), (std::vector<Row>{{"ok1", "1"}}));
  EXPECT_EQ(rows("SELECT digest FROM files"), (std::vector<Row>{{"fine"}}));
  // The failed table_create left neither its table row nor its first (good) row behind.
  EXPECT_EQ(rows("SELECT count(*) FROM tables"), (std::vector<Row>{{"0"}}));
  EXPECT_EQ(rows("SELECT count(*) FROM table_rows"), (std::vector<Row>{{"0"}}));
  // The failed obj_create neither cleared is_latest nor used up a version index.
  EXPECT_EQ(rows("SELECT digest, version_index, is_latest FROM objects WHERE object_id = 'model'"),
            (std::vector<Row>{{"d1", "0", "1"}}));
  expect_all_ok(write(*store, {obj("model", "d2")}));
  EXPECT_EQ(rows("SELECT digest, version_index, is_latest FROM objects WHERE object_id = 'model'"
                 " ORDER BY version_index"),
            (std::vector<Row>{{"d1", "0", "0"}, {"d2", "1", "1"}}));

  // Validation covers every kind.
  TableCreateRequest ragged = table("tr", {"a"});
  ragged.row_digests.push_back("b");
  FileCreateRequest no_bytes = file("fn", "");
  no_bytes.bytes = nullptr;
  CallEndRequest no_project = end("e", kT0, kT0);
  no_project.project_id.clear();
  CallStartRequest no_op = start("s", std::nullopt, kT0);
  no_op.op_name.clear();
  results = write(*store, {ragged, no_bytes, no_project, no_op});
  EXPECT_EQ(results[0].message(),
            "table_create ent/proj tr: rows and row_digests differ in length");
  EXPECT_EQ(results[1].message(), "file_create ent/proj fn: no bytes");
  EXPECT_EQ(results[2].message(), "call_end e: project_id is empty");
  EXPECT_EQ(results[3].message(), "call_start s: op_name is empty");
}

TEST_F(SqliteStoreTest, ReopenContinuesVersioningFromDisk) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    expect_all_ok(write(*store, {obj("model", "d1"), obj("model", "d2")}));
  }
  auto store = open();
  ASSERT_TRUE(store);
  expect_all_ok(write(*store, {obj("model", "d2"), obj("model", "d3"), obj("model", "d1")}));
  EXPECT_EQ(rows("SELECT digest, version_index, is_latest FROM objects ORDER BY version_index"),
            (std::vector<Row>{{"d1", "0", "0"}, {"d2", "1", "0"}, {"d3", "2", "1"}}));
  EXPECT_EQ(rows("SELECT value FROM weft_meta WHERE key = 'schema_version'"),
            (std::vector<Row>{{std::to_string(kSqliteSchemaVersion)}}));
  EXPECT_EQ(rows("PRAGMA journal_mode"), (std::vector<Row>{{"wal"}}));
}

TEST_F(SqliteStoreTest, AnotherWritersVersionsAreSeen) {
  auto store = open();
  ASSERT_TRUE(store);
  expect_all_ok(write(*store, {obj("model", "d1")}));  // the store now caches "model"
  exec(
      "UPDATE objects SET is_latest = 0;"
      "INSERT INTO objects (project_id, object_id, kind, digest, version_index, is_latest)"
      " VALUES ('ent/proj', 'model', 'object', 'py', 1, 1)");
  expect_all_ok(write(*store, {obj("model", "py"), obj("model", "d3")}));
  EXPECT_EQ(rows("SELECT digest, version_index, is_latest FROM objects ORDER BY version_index"),
            (std::vector<Row>{{"d1", "0", "0"}, {"py", "1", "0"}, {"d3", "2", "1"}}));
}

TEST_F(SqliteStoreTest, OpenErrors) {
  auto bad = open_sqlite_store((dir_ / "missing_dir" / "x.db").string());
  ASSERT_FALSE(bad.is_ok());
  EXPECT_NE(bad.error().find("cannot open SQLite store"), std::string::npos) << bad.error();
  EXPECT_EQ(bad.code(), StatusCode::kFailedPrecondition);

  std::ofstream(dir_ / "text.db") << "this is not a database, just some text that is long enough";
  auto not_db = open_sqlite_store((dir_ / "text.db").string());
  ASSERT_FALSE(not_db.is_ok());
  EXPECT_NE(not_db.error().find("not a database"), std::string::npos) << not_db.error();
  EXPECT_EQ(not_db.code(), StatusCode::kInvalidArgument);

  {
    auto store = open();
    ASSERT_TRUE(store);
    EXPECT_EQ(store->describe(), "sqlite:" + path_);
  }
  exec("UPDATE weft_meta SET value = '99' WHERE key = 'schema_version'");
  auto newer = open_sqlite_store(path_);
  ASSERT_FALSE(newer.is_ok());
  EXPECT_NE(newer.error().find("newer weft"), std::string::npos) << newer.error();
  EXPECT_EQ(newer.code(), StatusCode::kFailedPrecondition);
  auto reader = StoreReader::open(path_);
  ASSERT_FALSE(reader.is_ok());
  EXPECT_NE(reader.error().find("newer than this weft"), std::string::npos) << reader.error();
  EXPECT_EQ(reader.code(), StatusCode::kFailedPrecondition);
}

TEST_F(SqliteStoreTest, PythonReadsTheFile) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    expect_all_ok(write(*store, {obj("model", "d1"), obj("model", "d2"), table("t1", {"r1", "r2"}),
                                 file("f1", "bytes"), start("c1", std::nullopt, kT0),
                                 end("c1", kT0, kT0 + 1), start("c2", "c1", kT0 + 1)}));
  }
  const std::string script =
      "import json, sqlite3, sys\n"
      "c = sqlite3.connect(sys.argv[1])\n"
      "n = [c.execute('SELECT count(*) FROM ' + t).fetchone()[0]"
      " for t in ('calls', 'objects', 'tables', 'table_rows', 'files')]\n"
      "latest = c.execute('SELECT digest FROM objects WHERE is_latest = 1').fetchall()\n"
      "row = c.execute('SELECT inputs, input_refs, output, summary FROM calls"
      " WHERE id = \\'c1\\'').fetchone()\n"
      "vals = [json.loads(v) for v in row]\n"
      "blob = c.execute('SELECT val FROM files').fetchone()[0]\n"
      "print(n, latest, vals[1], vals[2], type(blob).__name__, blob.decode())\n";
  std::ofstream(dir_ / "check.py") << script;
  std::string out = run("python3 " + (dir_ / "check.py").string() + " " + path_ + " 2>&1");
  EXPECT_EQ(out,
            "[2, 2, 1, 2, 1] [('d2',)] ['weave:///ent/proj/object/model:d1'] [1, 2] bytes "
            "bytes\n");
}

TEST_F(SqliteStoreTest, ReaderListsCallsAsATreeAndReadsObjects) {
  {
    auto store = open();
    ASSERT_TRUE(store);
    // Written out of order: the tree comes from parent_id and started_at alone.
    expect_all_ok(
        write(*store, {start("b", "root1", kT0 + 20), start("a", "root1", kT0 + 10),
                       start("root2", std::nullopt, kT0 + 30), start("a1", "a", kT0 + 11),
                       start("root1", std::nullopt, kT0), start("orphan", "gone", kT0 + 40),
                       end("a", kT0 + 10, kT0 + 15), obj("model", "d1"), obj("model", "d2"),
                       obj("f", "o1", "op"), table("t1", {"r1"}), file("f1", "x")}));
  }
  auto reader = StoreReader::open(path_);
  ASSERT_TRUE(reader.is_ok()) << reader.error();
  StoreReader& r = *reader.value();

  auto counts = r.counts();
  ASSERT_TRUE(counts.is_ok());
  EXPECT_EQ(counts.value(),
            (std::vector<std::pair<std::string, int64_t>>{
                {"calls", 6}, {"objects", 3}, {"tables", 1}, {"table_rows", 1}, {"files", 1}}));

  auto tree = r.call_tree();
  ASSERT_TRUE(tree.is_ok()) << tree.error();
  std::vector<std::pair<std::string, int>> shape;
  for (const CallRow& c : tree.value()) shape.emplace_back(c.id, c.depth);
  EXPECT_EQ(shape, (std::vector<std::pair<std::string, int>>{
                       {"root1", 0}, {"a", 1}, {"a1", 2}, {"b", 1}, {"root2", 0}, {"orphan", 0}}));
  EXPECT_EQ(tree.value()[1].ended_at, "2023-11-14T22:13:20.123471Z");
  EXPECT_EQ(tree.value()[1].summary, "{\"status_counts\": {\"success\": 1}}");
  EXPECT_EQ(tree.value()[0].ended_at, std::nullopt);
  EXPECT_EQ(tree.value()[0].op_name, "weave:///ent/proj/op/f:abc");
  auto other_project = r.call_tree("someone/else");
  ASSERT_TRUE(other_project.is_ok());
  EXPECT_TRUE(other_project.value().empty());

  auto objects = r.objects();
  ASSERT_TRUE(objects.is_ok());
  ASSERT_EQ(objects.value().size(), 3u);
  EXPECT_EQ(objects.value()[0].name, "model");
  EXPECT_EQ(objects.value()[0].digest, "d1");
  EXPECT_FALSE(objects.value()[0].is_latest);
  EXPECT_EQ(objects.value()[1].version_index, 1);
  EXPECT_TRUE(objects.value()[1].is_latest);
  EXPECT_EQ(objects.value()[2].kind, "op");

  auto val = r.object_val(kProject, "object", "model", "d2");
  ASSERT_TRUE(val.is_ok()) << val.error();
  EXPECT_EQ(val.value(), "{\"v\": \"d2\"}");
  auto by_ref = r.object_val("weave:///ent/proj/op/f:o1");
  ASSERT_TRUE(by_ref.is_ok()) << by_ref.error();
  EXPECT_EQ(by_ref.value(), "{\"v\": \"o1\"}");
  auto missing = r.object_val("weave:///ent/proj/object/model:nope");
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.error(), "not found: object ent/proj/model:nope");
  EXPECT_FALSE(r.object_val("weave:///ent/proj/call/c1").is_ok());
  EXPECT_FALSE(r.object_val("weave:///ent/proj/object/model:d1/key/a").is_ok());
  EXPECT_FALSE(r.object_val("not a ref").is_ok());
}

TEST_F(SqliteStoreTest, ReaderOpenErrors) {
  auto missing = StoreReader::open((dir_ / "nope.db").string());
  ASSERT_FALSE(missing.is_ok());
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.error(), "no store at " + (dir_ / "nope.db").string());

  std::ofstream(dir_ / "text.db") << "this is not a database, just some text that is long enough";
  auto text = StoreReader::open((dir_ / "text.db").string());
  ASSERT_FALSE(text.is_ok());
  EXPECT_NE(text.error().find("is not a weft/Weave store: sqlite: file is not a database"),
            std::string::npos)
      << text.error();

  exec("CREATE TABLE unrelated (x)");
  auto other = StoreReader::open(path_);
  ASSERT_FALSE(other.is_ok());
  EXPECT_EQ(other.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other.error(), path_ + " is not a weft/Weave store: no calls and objects tables");
  // The reader never creates tables: the file still has only its own.
  EXPECT_EQ(rows("SELECT name FROM sqlite_master"), (std::vector<Row>{{"unrelated"}}));
}

TEST(StoreTest, NullStoreAcceptsEverything) {
  auto store = make_null_store();
  std::vector<StoreRequest> batch{obj("a", "b"), end("c", 1, 2)};
  std::vector<Status> results(7, Status::internal("stale"));
  store->write_batch(batch, results);
  ASSERT_EQ(results.size(), 2u);
  expect_all_ok(results);
  EXPECT_EQ(store->describe(), "null");
}

// The expected bodies below were checked with python3's json.loads.
TEST(StoreTest, RequestBodies) {
  ObjCreateRequest o = obj("model", "d1");
  o.val_json = "{\"_type\": \"Model\", \"a\": 1}";
  TableCreateRequest t = table("t1", {"r1", "r2"});
  FileCreateRequest f = file("fd", "print(1)\n");
  CallStartRequest s = start("c1", std::nullopt, kT0);
  s.display_name = "f \xc3\xa9";
  s.inputs_json = "{\"x\": 1}";
  s.wb_run_step = 3;
  CallEndRequest e = end("c1", kT0, kT0 + 876544);
  e.exception_json =
      "{\"type\": \"ValueError\", \"message\": \"bad \\\"x\\\"\", \"traceback\": []}";
  CallEndRequest e_empty;  // fields nobody filled still give valid JSON
  e_empty.project_id = kProject;
  e_empty.id = "c2";
  e_empty.ended_at_us = kT0;

  std::vector<std::pair<StoreRequest, std::string>> cases{
      {o,
       R"({"obj":{"project_id":"ent/proj","object_id":"model","val":{"_type": "Model", "a": 1},"expected_digest":"d1"}})"},
      {t, R"({"table":{"project_id":"ent/proj","rows":[{"row": "r1"},{"row": "r2"}]}})"},
      {f, R"({"project_id":"ent/proj","expected_digest":"fd","file":{"name":"obj.py","size":9}})"},
      {s,
       R"({"start":{"project_id":"ent/proj","id":"c1","op_name":"weave:///ent/proj/op/f:abc","display_name":"f \u00e9","trace_id":"trace1","parent_id":null,"thread_id":null,"turn_id":null,"started_at":"2023-11-14T22:13:20.123456Z","attributes":{"weave": {"client_version": "0.1"}},"inputs":{"x": 1},"wb_run_id":null,"wb_run_step":3}})"},
      {e,
       R"({"end":{"project_id":"ent/proj","id":"c1","started_at":"2023-11-14T22:13:20.123456Z","ended_at":"2023-11-14T22:13:21.000000Z","exception":"{\"type\": \"ValueError\", \"message\": \"bad \\\"x\\\"\", \"traceback\": []}","output":[1, 2],"summary":{"status_counts": {"success": 1}},"wb_run_step_end":null}})"},
      {e_empty,
       R"({"end":{"project_id":"ent/proj","id":"c2","started_at":"1970-01-01T00:00:00.000000Z","ended_at":"2023-11-14T22:13:20.123456Z","exception":null,"output":null,"summary":{},"wb_run_step_end":null}})"},
  };
  const char* kinds[] = {"obj_create", "table_create", "file_create",
                         "call_start", "call_end",     "call_end"};
  for (size_t i = 0; i < cases.size(); ++i) {
    EXPECT_STREQ(request_kind_name(cases[i].first), kinds[i]);
    EXPECT_EQ(request_body_json(cases[i].first), cases[i].second) << kinds[i];
  }

  // Python as the oracle: every body parses, and the embedded values are JSON values.
  std::string lines;
  for (const auto& c : cases) lines += request_body_json(c.first) + "\n";
  fs::path tmp = fs::temp_directory_path() / ("weft_bodies_" + std::to_string(getpid()) + ".jsonl");
  std::ofstream(tmp) << lines;
  std::string out = run(
      "python3 -c \"import json, sys\n"
      "b = [json.loads(l) for l in open(sys.argv[1])]\n"
      "print(type(b[0]['obj']['val']).__name__, len(b[1]['table']['rows']), b[2]['file']['size'],"
      " b[3]['start']['display_name'] == 'f \\u00e9', b[3]['start']['attributes']['weave'],"
      " json.loads(b[4]['end']['exception'])['message'], b[4]['end']['output'])\" " +
      tmp.string() + " 2>&1");
  fs::remove(tmp);
  EXPECT_EQ(out, "dict 2 9 True {'client_version': '0.1'} bad \"x\" [1, 2]\n");
}

}  // namespace
}  // namespace weft
