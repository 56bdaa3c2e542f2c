// weft replay: dead-letter files written with DeadLetterFile, replayed by the built CLI into
// a fresh store, rows counted with plain SQL; replaying again changes nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <weft/digest.h>

#include "runtime/core/dead_letter.h"
#include "tests/support/child_process.h"
#include "tests/support/store_requests.h"
#include "tests/support/test_support.h"

namespace weft {
namespace {

namespace fs = std::filesystem;
using testing::ChildProcess;
using testing::Db;
using testing::TempDir;

constexpr const char* kProject = "ent/proj";
constexpr int64_t kT0 = 1700000000123456;

struct CliRun {
  int status = -1;
  std::string output;  // stdout and stderr
};

CliRun weft_cli(const TempDir& dir, std::vector<std::string> args) {
  static int runs = 0;
  args.insert(args.begin(), WEFT_CLI_PATH);
  const fs::path log = dir.path() / ("cli-" + std::to_string(++runs) + ".log");
  ChildProcess child(args, log);
  EXPECT_TRUE(child.wait_exit(std::chrono::seconds(120))) << "weft replay did not finish";
  return {child.exit_code(), child.log()};
}

ObjCreateRequest object(std::string name, std::string kind, std::string val) {
  ObjCreateRequest o;
  o.project_id = kProject;
  o.object_id = std::move(name);
  o.kind = std::move(kind);
  o.digest = base_digest(val);
  o.val_json = std::move(val);
  o.created_at_us = kT0;
  return o;
}

CallStartRequest start(int i) {
  CallStartRequest s;
  s.project_id = kProject;
  s.id = "call-" + std::to_string(i);
  s.trace_id = "trace-" + std::to_string(i / 9);
  if (i % 9 != 0) s.parent_id = "call-" + std::to_string(i - i % 9);
  s.op_name = "weave:///ent/proj/op/predict:abc";
  s.started_at_us = kT0 + i;
  s.attributes_json = "{}";
  s.inputs_json = "{\"x\": " + std::to_string(i) + ", \"y\": NaN}";
  s.input_refs = {"weave:///ent/proj/object/Model:m"};
  return s;
}

CallEndRequest end(int i) {
  CallEndRequest e;
  e.project_id = kProject;
  e.id = "call-" + std::to_string(i);
  e.started_at_us = kT0 + i;
  e.ended_at_us = kT0 + 1000 + i;
  e.output_json = "\"caf\\u00e9 " + std::to_string(i) + "\"";
  e.summary_json = "{\"status_counts\": {\"success\": 1}}";
  return e;
}

// 3 objects (one name twice), a table, a file, 27 calls: each end before its start, as a
// store writer that gave up on a batch may well have written them.
void write_workload(const fs::path& path) {
  DeadLetterFile dl(path.string(), 1 << 20);
  auto put = [&dl](const StoreRequest& r) {
    ASSERT_TRUE(dl.append(r, Status::unavailable("database is locked"), 5));
  };
  put(object("predict", "op",
             "{\"_type\": \"CustomWeaveType\", \"weave_type\": {\"type\": \"Op\"}}"));
  put(object("Model", "object", "{\"_type\": \"Model\", \"temperature\": 0.5}"));
  put(object("Model", "object", "{\"_type\": \"Model\", \"temperature\": 0.7}"));
  TableCreateRequest t;
  t.project_id = kProject;
  t.rows_json = {"{\"q\": \"a\"}", "{\"q\": \"\\u00e9\"}"};
  for (const auto& row : t.rows_json) t.row_digests.push_back(base_digest(row));
  t.digest = table_digest(t.row_digests);
  put(t);
  FileCreateRequest f;
  f.project_id = kProject;
  f.name = "obj.py";
  f.bytes = std::make_shared<const std::string>(std::string("print(1)\n\0\xff", 11));
  f.digest = file_digest(*f.bytes);
  put(f);
  for (int i = 0; i < 27; ++i) {
    put(end(i));
    put(start(i));
  }
  EXPECT_EQ(dl.written_total(), 59u);
}

void expect_workload_rows(const std::string& store) {
  Db db(store);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM objects"), 3);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM objects WHERE object_id = 'Model'"), 2);
  EXPECT_EQ(db.text("SELECT val_dump FROM objects WHERE object_id = 'Model' AND is_latest = 1"),
            "{\"_type\": \"Model\", \"temperature\": 0.7}");
  EXPECT_EQ(db.count("SELECT MAX(version_index) FROM objects WHERE object_id = 'Model'"), 1);
  EXPECT_EQ(db.text("SELECT kind FROM objects WHERE object_id = 'predict'"), "op");
  EXPECT_EQ(db.text("SELECT created_at FROM objects WHERE object_id = 'predict'"),
            "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM tables"), 1);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM table_rows"), 2);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM files"), 1);
  EXPECT_EQ(db.count("SELECT LENGTH(val) FROM files"), 11);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM calls"), 27);
  EXPECT_EQ(
      db.count("SELECT COUNT(*) FROM calls WHERE ended_at IS NOT NULL AND trace_id IS NOT NULL"),
      27);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM calls WHERE parent_id IS NULL"), 3);
  EXPECT_EQ(db.text("SELECT inputs FROM calls WHERE id = 'call-5'"), "{\"x\": 5, \"y\": NaN}");
  EXPECT_EQ(db.text("SELECT input_refs FROM calls WHERE id = 'call-5'"),
            "[\"weave:///ent/proj/object/Model:m\"]");
  EXPECT_EQ(db.text("SELECT output FROM calls WHERE id = 'call-5'"), "\"caf\\u00e9 5\"");
  EXPECT_EQ(db.text("SELECT started_at FROM calls WHERE id = 'call-5'"),
            "2023-11-14T22:13:20.123461Z");
}

TEST(Replay, WritesADeadLetterFileIntoAFreshStoreAndAgainChangesNothing) {
  TempDir dir("weft-replay");
  const fs::path dead = dir.path() / "dead.jsonl";
  const std::string store = (dir.path() / "weft.db").string();
  write_workload(dead);

  const std::string expected =
      "replayed 59 requests: obj_create 3, table_create 1, file_create 1, call_start 27, "
      "call_end 27; 0 failed\n";
  CliRun first = weft_cli(dir, {"replay", dead.string(), "--store", store});
  EXPECT_EQ(first.status, 0) << first.output;
  EXPECT_EQ(first.output, expected);
  expect_workload_rows(store);

  CliRun second = weft_cli(dir, {"replay", dead.string(), "--store=" + store});
  EXPECT_EQ(second.status, 0) << second.output;
  EXPECT_EQ(second.output, expected);  // every request is accepted again, as a no-op
  expect_workload_rows(store);
}

TEST(Replay, RotatedFilesOldestFirstAndAProjectFilter) {
  TempDir dir("weft-replay");
  const fs::path dead = dir.path() / "dead.jsonl";
  const std::string store = (dir.path() / "weft.db").string();
  {
    DeadLetterFile dl(dead.string(), 1500, 3);
    for (int i = 0; i < 6; ++i) {
      CallStartRequest s = start(i);
      if (i % 2 == 1) s.project_id = "other/proj";
      ASSERT_TRUE(dl.append(s, Status::unavailable("x"), 1));
    }
    ASSERT_GE(dl.rotations(), 1u);
  }
  std::vector<std::string> args{"replay"};
  for (const std::string suffix : {".2", ".1", ""})
    if (fs::exists(dead.string() + suffix)) args.push_back(dead.string() + suffix);
  args.insert(args.end(), {"--store", store, "--project", kProject});
  CliRun run = weft_cli(dir, args);
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_EQ(run.output,
            "replayed 3 requests: call_start 3; 0 failed; 3 skipped (other projects)\n");
  Db db(store);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM calls"), 3);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM calls WHERE project_id = 'other/proj'"), 0);
}

TEST(Replay, FailuresAreCountedPerReasonAndExitOne) {
  TempDir dir("weft-replay");
  const fs::path dead = dir.path() / "dead.jsonl";
  const std::string store = (dir.path() / "weft.db").string();
  {
    DeadLetterFile dl(dead.string(), 1 << 20);
    for (int i = 0; i < 3; ++i) {
      CallStartRequest s = start(i);
      s.trace_id.clear();
      ASSERT_TRUE(dl.append(s, Status::invalid_argument("refused"), 1));
    }
    ASSERT_TRUE(dl.append(object("m", "thing", "{}"), Status::invalid_argument("refused"), 1));
    ASSERT_TRUE(dl.append(end(1), Status::unavailable("x"), 1));
  }
  {
    std::ofstream f(dead, std::ios::app);
    f << "not json\n{\"at\": 1}\n";
  }
  CliRun run = weft_cli(dir, {"replay", dead.string(), "--store", store});
  EXPECT_EQ(run.status, 1);
  EXPECT_EQ(run.output,
            "replayed 1 requests: call_end 1; 6 failed\n"
            "  3 x call_start: invalid argument: trace_id is empty\n"
            "  1 x obj_create: invalid argument: kind must be \"object\" or \"op\"\n"
            "  2 x unreadable line (first: " +
                dead.string() + ": line 6: invalid JSON at byte 0: expected a value)\n");
  Db db(store);
  EXPECT_EQ(db.count("SELECT COUNT(*) FROM calls"), 1);
}

TEST(Replay, UsageAndOpenErrors) {
  TempDir dir("weft-replay");
  const std::string store = (dir.path() / "weft.db").string();
  CliRun help = weft_cli(dir, {"replay", "--help"});
  EXPECT_EQ(help.status, 0);
  EXPECT_TRUE(help.output.starts_with("usage: weft replay FILE... [--store PATH]")) << help.output;
  CliRun list = weft_cli(dir, {"--help"});
  EXPECT_NE(
      list.output.find("\n  replay     write the requests of dead-letter files into a store\n"),
      std::string::npos)
      << list.output;

  CliRun none = weft_cli(dir, {"replay", "--store", store});
  EXPECT_EQ(none.status, 2);
  EXPECT_EQ(none.output, "weft replay: missing FILE (see 'weft replay --help')\n");
  CliRun bad_flag = weft_cli(dir, {"replay", "x", "--stor", store});
  EXPECT_EQ(bad_flag.status, 2);
  EXPECT_EQ(bad_flag.output, "weft replay: unknown argument '--stor' (see 'weft replay --help')\n");
  const std::string missing = (dir.path() / "missing.jsonl").string();
  CliRun no_file = weft_cli(dir, {"replay", missing, "--store", store});
  EXPECT_EQ(no_file.status, 2);
  EXPECT_EQ(no_file.output, "weft replay: cannot open dead-letter file " + missing +
                                ": No such file or directory\n");
  EXPECT_FALSE(fs::exists(store));  // nothing opened, nothing created
}

}  // namespace
}  // namespace weft
