// Outbox: ids, byte and entry counts (exactly), reading in chunks, the byte cap, reopening,
// the lock against a second opener (in this process and from another one), files that are
// not an outbox, a failed transaction leaving nothing, and what a kill -9 leaves behind.
//
// The tests that need another process fork() one. The child touches nothing but SQLite
// (through Outbox) and its pipes, never the parent's connections (the parent has none open
// at the fork: SQLite's in-process lock table would otherwise be inherited), and it ends
// with _exit or SIGKILL, never by returning into gtest.
#include "runtime/stores/remote/outbox.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include <weft/ids.h>
#include <weft/store.h>

#include "tests/support/child_process.h"

namespace weft {
namespace {

namespace fs = std::filesystem;
using testing::read_file;
using testing::TempDir;

// A body that differs per n, in size too (so byte counts catch an off-by-one record).
std::string body_of(uint64_t n, size_t pad = 0) {
  return "{\"n\": " + std::to_string(n) + ", \"pad\": \"" + std::string(n % 37 + pad, 'x') + "\"}";
}

std::vector<OutboxRecord> records(uint64_t first, size_t count, size_t pad = 0) {
  std::vector<OutboxRecord> out;
  for (size_t i = 0; i < count; ++i) out.push_back({"call_start", body_of(first + i, pad)});
  return out;
}

uint64_t bytes_of(const std::vector<OutboxRecord>& rs) {
  uint64_t n = 0;
  for (const auto& r : rs) n += r.body.size();
  return n;
}

std::vector<uint64_t> iota_ids(uint64_t first, size_t count) {
  std::vector<uint64_t> out;
  for (size_t i = 0; i < count; ++i) out.push_back(first + i);
  return out;
}

std::vector<uint64_t> ids_of(const std::vector<OutboxEntry>& es) {
  std::vector<uint64_t> out;
  for (const auto& e : es) out.push_back(e.id);
  return out;
}

// Opening path fails with failed_precondition and "cannot open outbox PATH: why".
void expect_open_refused(const fs::path& path, const std::string& why) {
  auto r = Outbox::open(path.string(), 0);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(r.error(), "cannot open outbox " + path.string() + ": " + why);
}

constexpr const char* kInUse = "it is in use by another process (or by another Outbox in this one)";

// A child's wait status: killed by SIGKILL (else it says how it ended).
::testing::AssertionResult killed_by_sigkill(int status) {
  if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "child ended with " << (WIFEXITED(status) ? "exit code " : "signal ")
         << (WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
}

// Appends; the ids given (none, with a test failure, if the append failed).
std::vector<uint64_t> append_ok(Outbox& box, const std::vector<OutboxRecord>& rs) {
  std::vector<uint64_t> ids;
  const Status st = box.append(rs, ids);
  EXPECT_TRUE(st.is_ok()) << st.to_string();
  return ids;
}

// One record whose body is n times c.
std::vector<OutboxRecord> one(size_t n, char c) { return {{"call_end", std::string(n, c)}}; }

std::unique_ptr<Outbox> open_ok(const fs::path& path, uint64_t max_bytes = 0) {
  auto r = Outbox::open(path.string(), max_bytes);
  EXPECT_TRUE(r.is_ok()) << r.status().to_string();
  return r.is_ok() ? std::move(r).value() : nullptr;
}

// Runs SQL on a file with a connection of its own (to make files that are not outboxes).
void sql(const fs::path& path, const std::string& text) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << text;
  sqlite3_free(err);
  sqlite3_close(db);
}

std::string query_text(const fs::path& path, const std::string& text) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, text.c_str(), -1, &s, nullptr) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW && sqlite3_column_text(s, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
  }
  sqlite3_close(db);
  return out;
}

// A forked child running fn (its return value is the exit code), with a pipe from it.
struct Child {
  pid_t pid = -1;
  int from_child = -1;  // read end; the child writes to its copy of the other end

  // Blocks until the child has written n bytes (false if it closed the pipe first).
  bool read_exactly(std::string& out, size_t n) const {
    out.resize(n);
    size_t got = 0;
    while (got < n) {
      const ssize_t r = ::read(from_child, out.data() + got, n - got);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return true;
  }
  // Everything the child writes until it closes the pipe (or dies).
  std::string read_all() const {
    std::string out;
    char buf[4096];
    ssize_t r;
    while ((r = ::read(from_child, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(r));
    return out;
  }
  int wait() {
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
    return status;
  }
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (from_child >= 0) ::close(from_child);
  }
};

// fn gets the write end of the pipe. A child that throws exits with 100.
void start_child(Child& child, const std::function<int(int)>& fn) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    int code = 100;
    try {
      code = fn(fds[1]);
    } catch (...) {
    }
    ::_exit(code);
  }
  ::close(fds[1]);
  child.pid = pid;
  child.from_child = fds[0];
}

bool write_all(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    const ssize_t w = ::write(fd, s.data() + done, s.size() - done);
    if (w <= 0) return false;
    done += static_cast<size_t>(w);
  }
  return true;
}

TEST(Outbox, OpenCreatesAnEmptyOutbox) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  auto box = open_ok(path);
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->path(), path.string());
  EXPECT_EQ(box->depth(), 0u);
  EXPECT_EQ(box->bytes(), 0u);
  auto all = box->read(0, 100);
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  EXPECT_TRUE(all->empty());
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(path.string() + "-shm"));  // exclusive: WAL's index is in memory
  box.reset();
  EXPECT_EQ(query_text(path, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_text(path, "SELECT value FROM outbox_meta WHERE key = 'format_version'"), "1");
}

TEST(Outbox, AppendAssignsIncreasingIdsAndCountsBodyBytes) {
  TempDir dir("weft-outbox");
  auto box = open_ok(dir.path() / "outbox.db");
  ASSERT_NE(box, nullptr);
  // "é" is two bytes, one character: bytes() counts bytes. An empty body is a record too.
  const std::vector<OutboxRecord> first = {
      {"obj_create", "{\"name\": \"caf\xc3\xa9\"}"}, {"call_start", ""}, {"call_end", "{}"}};
  std::vector<uint64_t> ids = {77, 78};  // overwritten
  const int64_t before = now_unix_micros();
  ASSERT_TRUE(box->append(first, ids).is_ok());
  const int64_t after = now_unix_micros();
  EXPECT_EQ(ids, iota_ids(1, 3));
  EXPECT_EQ(box->depth(), 3u);
  EXPECT_EQ(box->bytes(), 17u + 0u + 2u);

  EXPECT_EQ(append_ok(*box, records(10, 2)), iota_ids(4, 2));
  EXPECT_EQ(box->depth(), 5u);
  EXPECT_EQ(box->bytes(), 19u + bytes_of(records(10, 2)));

  auto all = box->read(0, 10);
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ(ids_of(*all), iota_ids(1, 5));
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*all)[i].kind, first[i].kind);
    EXPECT_EQ((*all)[i].body, first[i].body);
    EXPECT_GE((*all)[i].appended_at_us, before);
    EXPECT_LE((*all)[i].appended_at_us, after);
  }
  EXPECT_EQ((*all)[3].body, body_of(10));
  EXPECT_EQ((*all)[4].body, body_of(11));
}

TEST(Outbox, EmptyAppendAndRemoveChangeNothing) {
  TempDir dir("weft-outbox");
  auto box = open_ok(dir.path() / "outbox.db", 100);
  ASSERT_NE(box, nullptr);
  std::vector<uint64_t> ids = {5};
  EXPECT_TRUE(box->append({}, ids).is_ok());
  EXPECT_TRUE(ids.empty());
  EXPECT_TRUE(box->remove({}).is_ok());
  EXPECT_EQ(box->depth(), 0u);
  EXPECT_EQ(append_ok(*box, records(0, 1)), iota_ids(1, 1));  // the empty batch spent no id
}

TEST(Outbox, ReadGivesIdOrderInChunks) {
  TempDir dir("weft-outbox");
  auto box = open_ok(dir.path() / "outbox.db");
  ASSERT_NE(box, nullptr);
  ASSERT_EQ(append_ok(*box, records(0, 10)).size(), 10u);
  ASSERT_TRUE(box->remove(std::vector<uint64_t>{5}).is_ok());

  auto chunk = box->read(0, 3);
  ASSERT_TRUE(chunk.is_ok());
  EXPECT_EQ(ids_of(*chunk), (std::vector<uint64_t>{1, 2, 3}));
  chunk = box->read(3, 3);
  ASSERT_TRUE(chunk.is_ok());
  EXPECT_EQ(ids_of(*chunk), (std::vector<uint64_t>{4, 6, 7}));  // 5 was removed
  EXPECT_EQ((*chunk)[1].body, body_of(5));                      // id 6 is record 5
  chunk = box->read(7, 100);
  ASSERT_TRUE(chunk.is_ok());
  EXPECT_EQ(ids_of(*chunk), (std::vector<uint64_t>{8, 9, 10}));
  for (auto [after, limit] : {std::pair<uint64_t, size_t>{10, 100},
                              {0, 0},
                              {std::numeric_limits<uint64_t>::max(), 100}}) {
    chunk = box->read(after, limit);
    ASSERT_TRUE(chunk.is_ok());
    EXPECT_TRUE(chunk->empty()) << "after " << after << " limit " << limit;
  }
  chunk = box->read(0, std::numeric_limits<size_t>::max());
  ASSERT_TRUE(chunk.is_ok());
  EXPECT_EQ(chunk->size(), 9u);
}

TEST(Outbox, RemoveIgnoresUnknownIdsAndCountsExactly) {
  TempDir dir("weft-outbox");
  auto box = open_ok(dir.path() / "outbox.db");
  ASSERT_NE(box, nullptr);
  const auto rs = records(0, 5);
  ASSERT_EQ(append_ok(*box, rs).size(), 5u);
  // 2 twice, ids never stored, 0, and one beyond SQLite's integer range.
  const std::vector<uint64_t> gone = {2, 4, 99, 2, 0, std::numeric_limits<uint64_t>::max()};
  ASSERT_TRUE(box->remove(gone).is_ok());
  EXPECT_EQ(box->depth(), 3u);
  EXPECT_EQ(box->bytes(), rs[0].body.size() + rs[2].body.size() + rs[4].body.size());
  auto all = box->read(0, 10);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(ids_of(*all), (std::vector<uint64_t>{1, 3, 5}));
  ASSERT_TRUE(box->remove(std::vector<uint64_t>{1, 3, 5}).is_ok());
  EXPECT_EQ(box->depth(), 0u);
  EXPECT_EQ(box->bytes(), 0u);
}

TEST(Outbox, IdsAreNeverReusedEvenAcrossReopen) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  {
    auto box = open_ok(path);
    ASSERT_NE(box, nullptr);
    ASSERT_TRUE(box->remove(append_ok(*box, records(0, 3))).is_ok());  // the highest id too
    const auto fourth = append_ok(*box, records(3, 1));
    EXPECT_EQ(fourth, iota_ids(4, 1));
    ASSERT_TRUE(box->remove(fourth).is_ok());
  }
  auto box = open_ok(path);
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->depth(), 0u);
  EXPECT_EQ(append_ok(*box, records(4, 2)), iota_ids(5, 2));
}

TEST(Outbox, CapRefusesTheWholeBatchAndSaysHowFull) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  auto box = open_ok(path, 100);
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(append_ok(*box, one(60, 'a')), iota_ids(1, 1));

  std::vector<uint64_t> ids = {42};
  const std::vector<OutboxRecord> two = {{"call_end", std::string(30, 'b')},
                                         {"call_end", std::string(11, 'c')}};
  Status st = box->append(two, ids);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), "outbox " + path.string() +
                              " is full: 60 of 100 bytes used, refusing 2 records of 41 bytes");
  EXPECT_TRUE(ids.empty());
  EXPECT_EQ(box->depth(), 1u);
  EXPECT_EQ(box->bytes(), 60u);
  auto all = box->read(0, 10);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(ids_of(*all), iota_ids(1, 1));

  // Up to the cap exactly is allowed; one byte more is not.
  EXPECT_EQ(append_ok(*box, one(40, 'd')), iota_ids(2, 1));  // the refused batch spent no ids
  EXPECT_EQ(box->bytes(), 100u);
  st = box->append(one(1, 'e'), ids);
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(st.message(), "outbox " + path.string() +
                              " is full: 100 of 100 bytes used, refusing 1 record of 1 bytes");

  // Removing makes room again.
  ASSERT_TRUE(box->remove(std::vector<uint64_t>{1}).is_ok());
  EXPECT_EQ(box->bytes(), 40u);
  EXPECT_EQ(append_ok(*box, two), iota_ids(3, 2));
  EXPECT_EQ(box->bytes(), 81u);
  EXPECT_EQ(box->depth(), 3u);
}

TEST(Outbox, ReopenRestoresEntriesAndCounts) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  std::vector<OutboxEntry> before;
  uint64_t bytes = 0;
  {
    auto box = open_ok(path);
    ASSERT_NE(box, nullptr);
    ASSERT_EQ(append_ok(*box, records(0, 50)).size(), 50u);
    ASSERT_EQ(append_ok(*box, {{"file_create", "caf\xc3\xa9"}}).size(), 1u);
    ASSERT_TRUE(box->remove(iota_ids(1, 20)).is_ok());
    bytes = box->bytes();
    EXPECT_EQ(bytes, bytes_of(records(20, 30)) + 5);
    before = box->read(0, 1000).value();
  }
  // Reopened with a cap below what is stored: it opens, refuses appends, and lets the
  // entries drain.
  auto box = open_ok(path, bytes - 1);
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->depth(), 31u);
  EXPECT_EQ(box->bytes(), bytes);
  auto after = box->read(0, 1000);
  ASSERT_TRUE(after.is_ok());
  ASSERT_EQ(after->size(), before.size());
  for (size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ((*after)[i].id, before[i].id);
    EXPECT_EQ((*after)[i].kind, before[i].kind);
    EXPECT_EQ((*after)[i].body, before[i].body);
    EXPECT_EQ((*after)[i].appended_at_us, before[i].appended_at_us);
  }
  std::vector<uint64_t> ids;
  EXPECT_EQ(box->append(one(0, 'z'), ids).code(),
            StatusCode::kResourceExhausted);  // even an empty body: the cap is already passed
  ASSERT_TRUE(box->remove(std::vector<uint64_t>{51}).is_ok());
  EXPECT_EQ(box->bytes(), bytes - 5);
  EXPECT_EQ(append_ok(*box, one(1, 'z')), iota_ids(52, 1));
}

TEST(Outbox, SecondOpenInThisProcessFailsNamingThePath) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  auto first = open_ok(path);
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(append_ok(*first, records(0, 2)).size(), 2u);
  expect_open_refused(path, kInUse);
  // The first is unaffected, and once it is closed the file opens again.
  EXPECT_EQ(append_ok(*first, records(2, 1)), iota_ids(3, 1));
  first.reset();
  auto again = open_ok(path);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->depth(), 3u);
}

TEST(Outbox, OpenFailsWhileAnotherProcessHoldsTheFile) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  {
    auto box = open_ok(path);  // an existing outbox, with one entry, closed before the fork
    ASSERT_NE(box, nullptr);
    ASSERT_EQ(append_ok(*box, records(0, 1)).size(), 1u);
  }
  Child child;
  // The child opens it, appends one record, fails a second open of its own (which must not
  // drop its lock: POSIX locks belong to the process), says so, and waits to be killed.
  start_child(child, [&](int to_parent) {
    auto box = Outbox::open(path.string(), 0);
    if (!box) return 2;
    std::vector<uint64_t> ids;
    if (!(*box)->append(records(1, 1), ids)) return 3;
    if (Outbox::open(path.string(), 0).code() != StatusCode::kFailedPrecondition) return 4;
    if (!write_all(to_parent, "held")) return 5;
    for (;;) ::pause();
  });
  std::string said;
  ASSERT_TRUE(child.read_exactly(said, 4)) << "child exited early";
  ASSERT_EQ(said, "held");

  expect_open_refused(path, kInUse);

  // The lock dies with its holder; its committed append is there.
  ::kill(child.pid, SIGKILL);
  const int status = child.wait();
  ASSERT_TRUE(killed_by_sigkill(status));
  auto box = open_ok(path);
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->depth(), 2u);
  EXPECT_EQ(box->bytes(), bytes_of(records(0, 2)));
}

// The child appends 5 batches of 200 and removes 100 + every 7th of the rest, in separate
// transactions, then is SIGKILLed without closing: everything it committed is there.
TEST(OutboxCrash, KillNineKeepsExactlyTheCommittedEntries) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  std::vector<uint64_t> removed = iota_ids(1, 100);
  for (uint64_t id = 101; id <= 1000; id += 7) removed.push_back(id);

  Child child;
  start_child(child, [&](int) {
    auto opened = Outbox::open(path.string(), 0);
    if (!opened) return 2;
    Outbox& box = **opened;
    std::vector<uint64_t> ids;
    for (uint64_t b = 0; b < 5; ++b) {
      if (!box.append(records(b * 200, 200), ids)) return 3;
      if (ids != iota_ids(b * 200 + 1, 200)) return 4;
    }
    if (!box.remove(std::span(removed).first(100))) return 5;
    if (!box.remove(std::span(removed).subspan(100))) return 6;
    ::raise(SIGKILL);
    return 7;
  });
  const int status = child.wait();
  ASSERT_TRUE(killed_by_sigkill(status));
  // Not closed: the WAL is left behind (a clean close checkpoints it and deletes it).
  ASSERT_TRUE(fs::exists(path.string() + "-wal"));
  EXPECT_GT(fs::file_size(path.string() + "-wal"), 0u);

  std::vector<uint64_t> expected_ids;
  uint64_t expected_bytes = 0;
  for (uint64_t id = 101; id <= 1000; ++id) {
    if ((id - 101) % 7 == 0) continue;  // removed
    expected_ids.push_back(id);
    expected_bytes += body_of(id - 1).size();
  }
  ASSERT_EQ(expected_ids.size(), 1000u - removed.size());

  auto box = open_ok(path);
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->depth(), expected_ids.size());
  EXPECT_EQ(box->bytes(), expected_bytes);
  auto all = box->read(0, 2000);
  ASSERT_TRUE(all.is_ok()) << all.status().to_string();
  ASSERT_EQ(ids_of(*all), expected_ids);
  for (const auto& e : *all) {
    ASSERT_EQ(e.body, body_of(e.id - 1)) << e.id;
    ASSERT_EQ(e.kind, "call_start");
  }
  EXPECT_EQ(append_ok(*box, records(0, 1)), iota_ids(1001, 1));
}

// The child appends batches of 50 and reports each commit; it is SIGKILLed at an arbitrary
// moment, likely inside a transaction. What survives is whole batches: every one it
// reported, and at most the one it committed but had no time to report.
TEST(OutboxCrash, KillDuringAppendsLeavesWholeBatchesOnly) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  constexpr size_t kBatch = 50;
  constexpr size_t kPad = 300;  // bigger transactions: more of the time is spent inside one
  Child child;
  start_child(child, [&](int to_parent) {
    auto opened = Outbox::open(path.string(), 0);
    if (!opened) return 2;
    std::vector<uint64_t> ids;
    for (uint64_t b = 0; b < 100000; ++b) {
      if (!(*opened)->append(records(b * kBatch, kBatch, kPad), ids)) return 3;
      if (!write_all(to_parent, "c")) return 4;
    }
    return 5;
  });
  std::string seen;
  ASSERT_TRUE(child.read_exactly(seen, 20)) << "the child stopped early";
  ::kill(child.pid, SIGKILL);
  const int status = child.wait();
  ASSERT_TRUE(killed_by_sigkill(status));
  const size_t reported = 20 + child.read_all().size();

  auto box = open_ok(path);
  ASSERT_NE(box, nullptr);
  const uint64_t depth = box->depth();
  ASSERT_EQ(depth % kBatch, 0u) << "a torn batch: " << depth;
  const uint64_t batches = depth / kBatch;
  EXPECT_TRUE(batches == reported || batches == reported + 1)
      << batches << " batches stored, " << reported << " reported";
  auto all = box->read(0, depth + 10);
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->size(), depth);
  uint64_t bytes = 0;
  for (size_t i = 0; i < all->size(); ++i) {
    ASSERT_EQ((*all)[i].id, i + 1);
    ASSERT_EQ((*all)[i].body, body_of(i, kPad));
    bytes += (*all)[i].body.size();
  }
  EXPECT_EQ(box->bytes(), bytes);
}

// A transaction that fails (here: the file-size limit stops the WAL from growing) leaves
// nothing behind, neither rows nor ids nor counts, and the outbox goes on working. In a
// child, because RLIMIT_FSIZE applies to the whole process.
TEST(OutboxCrash, FailedAppendLeavesNothingAndTheOutboxGoesOn) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  Child child;
  start_child(child, [&](int to_parent) {
    ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails with EFBIG instead
    auto opened = Outbox::open(path.string(), 0);
    if (!opened) return 2;
    Outbox& box = **opened;
    std::vector<uint64_t> ids;
    if (!box.append(records(0, 10), ids)) return 3;
    const uint64_t bytes = box.bytes();
    rlimit old{};
    ::getrlimit(RLIMIT_FSIZE, &old);
    const auto biggest = std::max(fs::file_size(path), fs::file_size(path.string() + "-wal"));
    rlimit tight = old;
    tight.rlim_cur = biggest + 8192;
    if (::setrlimit(RLIMIT_FSIZE, &tight) != 0) return 4;
    ids = {9};
    const Status failed = box.append(records(10, 1000, 1000), ids);  // ~1.3 MB
    ::setrlimit(RLIMIT_FSIZE, &old);
    auto after_failure = box.read(0, 2000);
    std::string report = std::string(status_code_name(failed.code())) + "|" + failed.message() +
                         "|ids " + std::to_string(ids.size()) + "|depth " +
                         std::to_string(box.depth()) + "|bytes " +
                         std::to_string(box.bytes() == bytes) + "|read " +
                         (after_failure ? std::to_string(after_failure->size()) : "error");
    const Status again = box.append(records(10, 5), ids);
    report += "|again " + std::string(status_code_name(again.code())) + " " +
              (ids.empty() ? "-" : std::to_string(ids.front())) + ".." +
              (ids.empty() ? "-" : std::to_string(ids.back()));
    if (!write_all(to_parent, report)) return 5;
    ::raise(SIGKILL);
    return 6;
  });
  const std::string report = child.read_all();
  const int status = child.wait();
  ASSERT_TRUE(killed_by_sigkill(status));
  EXPECT_EQ(report, "unavailable|outbox " + path.string() +
                        ": append of 1000 records rolled back: sqlite: disk I/O error"
                        "|ids 0|depth 10|bytes 1|read 10|again ok 11..15");

  auto box = open_ok(path);
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(box->depth(), 15u);
  EXPECT_EQ(box->bytes(), bytes_of(records(0, 15)));
  auto all = box->read(0, 2000);
  ASSERT_TRUE(all.is_ok());
  EXPECT_EQ(ids_of(*all), iota_ids(1, 15));
}

TEST(Outbox, AnEmptyFileBecomesAnOutbox) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  std::ofstream(path, std::ios::binary).flush();
  ASSERT_EQ(fs::file_size(path), 0u);
  auto box = open_ok(path);
  ASSERT_NE(box, nullptr);
  EXPECT_EQ(append_ok(*box, records(0, 1)), iota_ids(1, 1));
}

TEST(Outbox, AFileOfGarbageIsNotAnOutbox) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  std::string garbage;
  for (int i = 0; i < 400; ++i) garbage += "this is not a database. ";
  std::ofstream(path, std::ios::binary) << garbage;
  expect_open_refused(path, "not an outbox: sqlite: file is not a database");
  EXPECT_EQ(read_file(path), garbage);  // left as it was
  EXPECT_FALSE(fs::exists(path.string() + "-wal"));
}

TEST(Outbox, AWeftStoreIsNotAnOutbox) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "store.db";
  {
    auto store = open_sqlite_store(path.string());
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  }
  expect_open_refused(path,
                      "not an outbox: an SQLite database without the outbox tables (it has "
                      "calls, objects, tables, table_rows, files, weft_meta)");
  EXPECT_EQ(query_text(path, "SELECT count(*) FROM sqlite_master WHERE name LIKE 'outbox%'"), "0");
}

TEST(Outbox, AForeignDatabaseIsRefusedAndLeftInItsJournalMode) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "other.db";
  sql(path, "CREATE TABLE outbox (id INTEGER PRIMARY KEY, payload TEXT)");
  expect_open_refused(path,
                      "not an outbox: an SQLite database without the outbox tables (it has "
                      "outbox)");
  EXPECT_EQ(query_text(path, "PRAGMA journal_mode"), "delete");  // not switched to WAL
}

TEST(Outbox, ANewerFormatIsRefused) {
  TempDir dir("weft-outbox");
  const fs::path path = dir.path() / "outbox.db";
  ASSERT_NE(open_ok(path), nullptr);
  sql(path, "UPDATE outbox_meta SET value = '2' WHERE key = 'format_version'");
  expect_open_refused(path, "format version 2 was written by a newer weft (this one reads 1)");
  sql(path, "UPDATE outbox_meta SET value = 'one' WHERE key = 'format_version'");
  expect_open_refused(path, "not an outbox: outbox_meta holds no valid format_version");
}

TEST(Outbox, AMissingDirectoryIsNamed) {
  TempDir dir("weft-outbox");
  const fs::path missing = dir.path() / "no-such-dir";
  const fs::path path = missing / "outbox.db";
  expect_open_refused(path, "directory " + missing.string() + " does not exist");
  EXPECT_FALSE(fs::exists(missing));
}

}  // namespace
}  // namespace weft
