// Store faults: a database another connection holds locked, a store that keeps failing as
// a full disk does, a store that recovers, invalid requests. Each test asserts exact counts:
// what flush reported, what the store holds, what the dead-letter file holds.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <weft/runtime.h>
#include <weft/store.h>

#include "runtime/core/dead_letter.h"
#include "tests/support/test_support.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::Db;
using testing::ErrorLog;
using testing::TempStore;
using testing::test_config;
using testing::test_op;

void trace(Runtime& rt, int n) {
  for (int i = 0; i < n; ++i) {
    Call c = rt.start_call(test_op(), Value::dict({{"i", Value::integer(i)}}));
    ASSERT_TRUE(c.recorded());
    ASSERT_TRUE(c.finish(Value::integer(i)).is_ok());
  }
}

// Waits (polling, with a deadline) until pred holds. Returns pred().
template <class Pred>
bool eventually(Pred pred, std::chrono::seconds limit = 120s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  return pred();
}

// A store that answers every request with `code` for its first `failing_attempts` batches,
// then writes through (failing_attempts < 0: fails for ever).
class FlakyStore : public Store {
 public:
  FlakyStore(std::unique_ptr<Store> inner, StatusCode code, int failing_attempts)
      : inner_(std::move(inner)), code_(code), left_(failing_attempts) {}
  void write_batch(std::span<const StoreRequest> batch, std::vector<Status>& results) override {
    ++attempts_;
    if (left_ != 0) {
      if (left_ > 0) --left_;
      results.assign(batch.size(), Status(code_, "injected: disk full"));
      return;
    }
    inner_->write_batch(batch, results);
  }
  std::string describe() const override { return "flaky(" + inner_->describe() + ")"; }
  std::atomic<int> attempts_{0};

 private:
  std::unique_ptr<Store> inner_;
  StatusCode code_;
  std::atomic<int> left_;
};

std::shared_ptr<FlakyStore> flaky(const TempStore& store, StatusCode code, int failing) {
  auto inner = open_sqlite_store(store.path());
  EXPECT_TRUE(inner.is_ok()) << inner.error();
  return std::make_shared<FlakyStore>(std::move(inner.value()), code, failing);
}

// Another connection holds the database locked for longer than the busy timeout (5 s per
// attempt, so twice over): the writer retries, and once the lock is gone every call lands
// whole. Before, flush said true while 2,049 requests had failed.
TEST(StoreFaults, LockedDatabaseIsRetriedUntilItClears) {
  TempStore store;
  ErrorLog errors;
  Config cfg = test_config(store);
  cfg.on_error = errors.sink();
  Runtime rt(cfg);
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open(store.path().c_str(), &other), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(other, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  trace(rt, 2000);
  // Hold the lock until the writer has failed twice (each attempt waits out the busy timeout).
  ASSERT_TRUE(eventually([&] { return rt.stats().store_retries >= 2; }));
  EXPECT_TRUE(rt.stats().store_retrying);
  ASSERT_EQ(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);

  FlushResult r = rt.flush(120s);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.failed, 0u);
  EXPECT_EQ(r.written, 2u * 2000 + 2);  // starts, ends, the op and its source file
  RuntimeStats s = rt.stats();
  EXPECT_EQ(s.store_failures, 0u);
  EXPECT_GE(s.store_retries, 2u);
  EXPECT_FALSE(std::filesystem::exists(rt.dead_letter_path()));
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE started_at IS NOT NULL AND ended_at IS NOT NULL"), 2000);
  EXPECT_EQ(db.count("SELECT count(*) FROM objects WHERE kind = 'op'"), 1);
  EXPECT_TRUE(errors.contains("database is locked"));
  EXPECT_LT(errors.snapshot().size(), 10u);  // aggregated, not one per batch
}

// A store that keeps failing as a full disk does: retried until store_retry_timeout, then
// every request goes to the dead-letter file; flush says so with exact counts, and the
// errors arrive as a few aggregated lines (before: 57,357 lines and a flush of true).
TEST(StoreFaults, PersistentFailureIsDeadLetteredWithExactCounts) {
  TempStore store;
  ErrorLog errors;
  Config cfg = test_config(store);
  cfg.on_error = errors.sink();
  cfg.store = flaky(store, StatusCode::kResourceExhausted, -1);
  cfg.dead_letter_path = store.path() + ".dl.jsonl";
  cfg.store_retry_timeout = 200ms;
  cfg.store_batch_size = 500;
  cfg.error_report_interval = std::chrono::hours(1);  // aggregation by cause, not by time
  Runtime rt(cfg);
  trace(rt, 3000);
  FlushResult r = rt.flush(120s);
  EXPECT_FALSE(r.complete);
  EXPECT_EQ(r.written, 0u);
  EXPECT_EQ(r.failed, 2u * 3000 + 2);
  EXPECT_EQ(r.pending, 0);
  RuntimeStats s = rt.stats();
  EXPECT_EQ(s.store_failures, 6002u);
  EXPECT_EQ(s.dead_lettered, 6002u);
  EXPECT_EQ(s.lost, 0u);
  EXPECT_GE(s.store_retries, 1u);
  auto entries = DeadLetterFile::read(cfg.dead_letter_path);
  ASSERT_TRUE(entries.is_ok()) << entries.error();
  ASSERT_EQ(entries->size(), 6002u);
  // When a batch has failed for store_retry_timeout, it and everything queued behind it
  // are kept: requests that were never tried say attempts 0.
  size_t starts = 0, ends = 0, tried = 0;
  for (const auto& e : *entries) {
    EXPECT_EQ(e.code, StatusCode::kResourceExhausted);
    starts += e.kind == "call_start";
    ends += e.kind == "call_end";
    tried += e.attempts > 0;
  }
  EXPECT_GE(tried, 1u);
  EXPECT_EQ(starts, 3000u);
  EXPECT_EQ(ends, 3000u);
  EXPECT_LT(errors.snapshot().size(), 15u) << errors.snapshot().size();
  EXPECT_GE(rt.stats().errors_reported, 6002u);  // every failure counted, few emitted
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls"), 0);
}

// A store that fails three times and then recovers: nothing is lost, nothing dead-lettered.
TEST(StoreFaults, TransientFailureRecovers) {
  TempStore store;
  Config cfg = test_config(store);
  ErrorLog errors;
  cfg.on_error = errors.sink();
  auto s3 = flaky(store, StatusCode::kUnavailable, 3);
  cfg.store = s3;
  Runtime rt(cfg);
  trace(rt, 100);
  FlushResult r = rt.flush(120s);
  EXPECT_TRUE(r.complete);
  EXPECT_EQ(r.written, 202u);
  RuntimeStats s = rt.stats();
  EXPECT_EQ(s.store_retries, 3u);
  EXPECT_EQ(s.store_failures, 0u);
  EXPECT_FALSE(std::filesystem::exists(rt.dead_letter_path()));
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL"), 100);
}

}  // namespace
}  // namespace weft
