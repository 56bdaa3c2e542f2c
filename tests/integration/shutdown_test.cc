// Shutdown and destruction at any moment: with the store paused and a deadline too short,
// while other threads trace and flush, and after it (every call refused and counted).
// Each test asserts what became of every event: written, dead-lettered, or refused.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

// 50,000 calls into a paused store, then a shutdown with too short a deadline, then the
// destructor: nothing crashes, shutdown says it did not complete, and every request is
// accounted for in the dead-letter file (the store holds none of them).
TEST(RuntimeShutdown, PausedStoreShortDeadlineThenDestroy) {
  TempStore store;
  ErrorLog errors;
  Config cfg = test_config(store);
  cfg.on_error = errors.sink();
  cfg.dead_letter_path = store.path() + ".dl.jsonl";
  cfg.error_report_interval = std::chrono::hours(1);  // aggregation by cause, not by time
  constexpr int kCalls = 50'000;
  uint64_t dead_lettered = 0, failures = 0;
  {
    Runtime rt(cfg);
    rt.pause_store();
    for (int i = 0; i < kCalls; ++i) {
      Call c = rt.start_call(test_op(), Value::dict({{"i", Value::integer(i)}}));
      ASSERT_TRUE(c.recorded());
      ASSERT_TRUE(c.finish(Value::integer(i)).is_ok());
    }
    FlushResult r = rt.shutdown(100ms);
    EXPECT_FALSE(r.complete);
    EXPECT_FALSE(r);
    EXPECT_EQ(r.written, 0u);
    RuntimeStats s = rt.stats();
    EXPECT_EQ(s.call_start + s.call_end + s.obj_create + s.file_create, 0u);
    dead_lettered = s.dead_lettered;
    failures = s.store_failures;
    // After shutdown every call is refused, and counted.
    Call late = rt.start_call(test_op(), Value::dict({}));
    EXPECT_FALSE(late.recorded());
    EXPECT_EQ(rt.stats().refused_shut_down, 1u);
  }  // the destructor: actors cut short at the deadline are stopped; what they sent is kept
  auto entries = DeadLetterFile::read(cfg.dead_letter_path);
  ASSERT_TRUE(entries.is_ok()) << entries.error();
  // Each of the 50,000 calls is two requests, plus the op's object and its source file;
  // all of them are in the dead-letter file once the runtime is gone (none was written).
  EXPECT_EQ(entries->size(), 2u * kCalls + 2u);
  EXPECT_GE(entries->size(), dead_lettered);
  EXPECT_EQ(dead_lettered, failures);  // nothing was lost: every failure was kept
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls"), 0);
  // Reported, aggregated: a handful of lines, not one per request.
  EXPECT_LT(errors.snapshot().size(), 20u);
  EXPECT_TRUE(errors.contains("not written before the store writer stopped"));
}

// Three threads trace while four threads flush and shut down: no crash, and every call a
// thread saw recorded was written whole (start and end): nothing half-accepted.
TEST(RuntimeShutdown, ShutdownRacesTracingAndFlushing) {
  for (int round = 0; round < 5; ++round) {
    TempStore store;
    Config cfg = test_config(store);
    ErrorLog errors;
    cfg.on_error = errors.sink();
    cfg.dead_letter_path = store.path() + ".dl.jsonl";
    auto rt = std::make_unique<Runtime>(cfg);
    std::atomic<bool> go{false};
    std::atomic<uint64_t> recorded{0}, refused{0}, finished{0}, end_refused{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t)
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        for (int i = 0; i < 3000; ++i) {
          Call c = rt->start_call(test_op(), Value::dict({{"t", Value::integer(t)}, {"i", Value::integer(i)}}));
          if (!c.recorded()) {
            ++refused;
            continue;
          }
          ++recorded;
          Status st = c.finish(Value::integer(i));
          if (st.is_ok()) {
            ++finished;
          } else {
            EXPECT_EQ(st.code(), StatusCode::kCancelled);
            ++end_refused;
          }
        }
      });
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        while (!go.load()) std::this_thread::yield();
        if (t % 2 == 0)
          (void)rt->flush(30s);
        else
          (void)rt->shutdown(30s);
      });
    go = true;
    for (auto& th : threads) th.join();
    FlushResult last = rt->shutdown(30s);  // idempotent: the first shutdown's result
    RuntimeStats s = rt->stats();
    EXPECT_EQ(s.refused_calls, refused.load());
    EXPECT_EQ(s.refused_ends, end_refused.load());
    EXPECT_EQ(s.call_start, recorded.load()) << "round " << round;
    EXPECT_EQ(s.call_end, finished.load()) << "round " << round;
    EXPECT_EQ(s.store_failures, 0u);
    EXPECT_TRUE(last.complete || end_refused.load() > 0) << "round " << round;
    rt.reset();
    Db db(store.path());
    EXPECT_EQ(db.count("SELECT count(*) FROM calls"), static_cast<int64_t>(recorded.load()));
    EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL"),
              static_cast<int64_t>(finished.load()));
  }
}

// Destroying a runtime while other threads are mid-way through a burst of tracing is the
// application's bug; destroying it right after they stop, with work still in flight, is not.
TEST(RuntimeShutdown, DestroyWithWorkInFlight) {
  TempStore store;
  Config cfg = test_config(store);
  cfg.dead_letter_path = store.path() + ".dl.jsonl";
  cfg.destructor_flush_timeout = 30s;
  uint64_t recorded = 0;
  {
    Runtime rt(cfg);
    for (int i = 0; i < 20'000; ++i) {
      Call c = rt.start_call(test_op(), Value::dict({{"i", Value::integer(i)}}));
      recorded += c.recorded() ? 1 : 0;
      c.finish(make_object("Out", {{"i", Value::integer(i)}}));
    }
  }
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL"), static_cast<int64_t>(recorded));
  EXPECT_EQ(recorded, 20'000u);
}

// finish() after shutdown says it was not recorded (it used to return ok and drop the end).
TEST(RuntimeShutdown, FinishAfterShutdownIsRefusedAndCounted) {
  TempStore store;
  Config cfg = test_config(store);
  ErrorLog errors;
  cfg.on_error = errors.sink();
  Runtime rt(cfg);
  Call open = rt.start_call(test_op(), Value::dict({}));
  ASSERT_TRUE(open.recorded());
  FlushResult r = rt.shutdown(30s);
  EXPECT_FALSE(r.complete);  // the open call's end was never written
  Status st = open.finish(Value::integer(1));
  EXPECT_EQ(st.code(), StatusCode::kCancelled);
  RuntimeStats s = rt.stats();
  EXPECT_EQ(s.refused_ends, 1u);
  EXPECT_EQ(s.refused_shut_down, 1u);
  EXPECT_EQ(s.call_start, 1u);
  EXPECT_EQ(s.call_end, 0u);
  EXPECT_TRUE(errors.contains("1 calls were never finished"));
  SavedRef late = rt.save(make_object("Late", {}));
  EXPECT_TRUE(late.ready());
  EXPECT_FALSE(late.ok());
  EXPECT_EQ(rt.stats().refused_saves, 1u);
}

// An explicit parent from another runtime would give a dangling parent_id and a trace id
// of another store: refused, counted as invalid.
TEST(RuntimeShutdown, ForeignParentIsRefused) {
  TempStore a, b;
  Runtime ra(test_config(a));
  Runtime rb(test_config(b));
  Call parent = ra.start_call(test_op(), Value::dict({}));
  ASSERT_TRUE(parent.recorded());
  Call child = rb.start_call(test_op(), Value::dict({}), CallOptions::child_of(parent));
  EXPECT_FALSE(child.recorded());
  EXPECT_EQ(rb.stats().refused_invalid, 1u);
  // The same parent in its own runtime is fine.
  Call own = ra.start_call(test_op(), Value::dict({}), CallOptions::child_of(parent));
  EXPECT_TRUE(own.recorded());
  own.finish(Value());
  parent.finish(Value());
  EXPECT_TRUE(ra.flush(30s));
  Db db(a.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE parent_id = '" + parent.id().str() + "'"), 1);
}

}  // namespace
}  // namespace weft
