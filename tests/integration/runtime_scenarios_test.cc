// The runtime's scenarios from Weave's own tests (weave PR 6740) and issue 3:
// a paused-store evaluation with exact request counts, deep chains and wide trees on one
// scheduler thread, concurrent finishes, store failures, shutdown deadlines.
#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include <weft/runtime.h>
#include <weft/store.h>

#include "runtime/cli/eval_workload.h"
#include "runtime/core/dead_letter.h"
#include "tests/support/test_support.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::Db;
using testing::ErrorLog;
using testing::TempStore;
using testing::test_config;

constexpr auto kFlush = 120s;  // generous: sanitizer builds on 2 shared cores are slow

// (a) The whole evaluation returns to the caller with the store paused and nothing
// written; after resume + flush, the exact count of each request kind and of each table's
// rows. Expected counts follow from the workload's shape (eval_workload.h), not from it:
//   ops: 5 objects (kind op) + 5 source files; model + nested prompt: 2 objects;
//   dataset: 1 object + 1 table of N rows + N image files;
//   per example: ChatCompletion, Usage, Choice, Message objects; 3 calls;
//   plus the evaluation and summary calls.
TEST(RuntimeScenarios, PausedStoreEvaluationCountsEveryRequest) {
  TempStore store;
  ErrorLog errors;
  Config cfg = test_config(store);
  cfg.on_error = errors.sink();
  const int64_t n = 20;
  {
    Runtime rt(cfg);
    rt.pause_store();
    EvalWorkloadResult r = run_eval_workload(rt, EvalWorkloadOptions{static_cast<size_t>(n), 7});
    EXPECT_EQ(r.calls, static_cast<size_t>(3 * n + 2));

    // Returned to the caller; the store has received nothing.
    RuntimeStats before = rt.stats();
    EXPECT_EQ(before.obj_create + before.table_create + before.file_create + before.call_start +
                  before.call_end,
              0u);
    {
      Db db(store.path());
      EXPECT_EQ(db.count("SELECT count(*) FROM calls"), 0);
      EXPECT_EQ(db.count("SELECT count(*) FROM objects"), 0);
    }
    EXPECT_FALSE(rt.flush(50ms)) << "flush must not report done while the store is paused";

    rt.resume_store();
    ASSERT_TRUE(rt.flush(kFlush));
    RuntimeStats s = rt.stats();
    EXPECT_EQ(s.table_create, 1u);
    EXPECT_EQ(s.obj_create, static_cast<uint64_t>(5 + 2 + 1 + 4 * n));
    EXPECT_EQ(s.file_create, static_cast<uint64_t>(5 + n));
    EXPECT_EQ(s.call_start, static_cast<uint64_t>(3 * n + 2));
    EXPECT_EQ(s.call_end, static_cast<uint64_t>(3 * n + 2));
    EXPECT_EQ(s.store_failures, 0u);
    EXPECT_EQ(s.store_queue_depth, 0u);
  }
  EXPECT_TRUE(errors.snapshot().empty()) << errors.snapshot().front();

  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM objects WHERE kind='op'"), 5);
  EXPECT_EQ(db.count("SELECT count(*) FROM objects WHERE kind='object'"), 3 + 4 * n);
  EXPECT_EQ(db.count("SELECT count(*) FROM objects WHERE leaf_object_class='ChatCompletion'"), n);
  EXPECT_EQ(db.count("SELECT count(*) FROM tables"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM table_rows"), n);
  EXPECT_EQ(db.count("SELECT count(*) FROM files"), 5 + n);
  EXPECT_EQ(db.count("SELECT count(*) FROM calls"), 3 * n + 2);
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE ended_at IS NULL OR started_at IS NULL"), 0);
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE parent_id IS NULL"), 1);
  // The evaluation's summary rolls up every predict call's usage and every status.
  std::string summary = db.text("SELECT summary FROM calls WHERE display_name='evaluation'");
  EXPECT_NE(summary.find("\"requests\": " + std::to_string(n)), std::string::npos) << summary;
  EXPECT_NE(summary.find("\"success\": " + std::to_string(3 * n + 2)), std::string::npos) << summary;
  // The dataset refers to its table by the table's digest.
  std::string dataset = db.text("SELECT val_dump FROM objects WHERE object_id='capitals-dataset'");
  std::string table_digest = db.text("SELECT digest FROM tables");
  EXPECT_NE(dataset.find("/table/" + table_digest), std::string::npos) << dataset;
}

// (b) One scheduler thread: a chain of 10,000 nested objects completes and flushes.
TEST(RuntimeScenarios, ChainOfTenThousandNestedObjectsOnOneThread) {
  TempStore store;
  Config cfg = test_config(store);
  cfg.scheduler_threads = 1;
  Runtime rt(cfg);
  Value v = make_object("Node", {{"i", Value::integer(0)}});
  for (int i = 1; i < 10'000; ++i) v = make_object("Node", {{"i", Value::integer(i)}, {"child", v}});
  SavedRef ref = rt.save(v);
  ASSERT_TRUE(rt.flush(kFlush));
  ASSERT_TRUE(ref.ok()) << ref.error();
  EXPECT_EQ(rt.stats().obj_create, 10'000u);
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM objects WHERE object_id='Node'"), 10'000);
  EXPECT_EQ(db.text("SELECT digest FROM objects WHERE object_id='Node' AND is_latest=1"), ref.digest());
}

// (b) One scheduler thread: a tree of 100,001 objects (a root, 100 branches of 999 leaves).
TEST(RuntimeScenarios, TreeOfHundredThousandObjectsOnOneThread) {
  TempStore store;
  Config cfg = test_config(store);
  cfg.scheduler_threads = 1;
  Runtime rt(cfg);
  std::vector<Value> branches;
  for (int b = 0; b < 100; ++b) {
    std::vector<Value> leaves;
    for (int l = 0; l < 999; ++l)
      leaves.push_back(make_object("Leaf", {{"b", Value::integer(b)}, {"l", Value::integer(l)}}));
    branches.push_back(make_object("Branch", {{"b", Value::integer(b)}, {"leaves", Value::list(std::move(leaves))}}));
  }
  SavedRef ref = rt.save(make_object("Root", {{"branches", Value::list(std::move(branches))}}));
  ASSERT_TRUE(rt.flush(kFlush));
  ASSERT_TRUE(ref.ok()) << ref.error();
  EXPECT_EQ(rt.stats().obj_create, 100'001u);
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM objects"), 100'001);
}

// (c) 1,000 calls finishing at once from 8 application threads all drain.
TEST(RuntimeScenarios, ThousandConcurrentFinishesFromEightThreadsDrain) {
  TempStore store;
  Runtime rt(test_config(store));
  const Value op = make_op("work", "def work(i): return i\n");
  constexpr int kThreads = 8, kPerThread = 125;
  std::vector<std::vector<Call>> calls(kThreads);
  for (int t = 0; t < kThreads; ++t)
    for (int i = 0; i < kPerThread; ++i)
      calls[t].push_back(rt.start_call(op, Value::dict({{"i", Value::integer(t * kPerThread + i)}})));
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();  // release all at once
      for (auto& c : calls[t])
        EXPECT_TRUE(c.finish(Value::dict({{"out", Value::integer(1)}, {"usage_free", Value::boolean(true)}})).is_ok());
    });
  for (auto& th : threads) th.join();
  ASSERT_TRUE(rt.flush(kFlush));
  EXPECT_EQ(rt.stats().call_end, 1000u);
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL"), 1000);
}

// A store that fails every call_end of one call id, and otherwise writes through.
class FailingCallEndStore : public Store {
 public:
  FailingCallEndStore(std::unique_ptr<Store> inner, std::string call_id)
      : inner_(std::move(inner)), call_id_(std::move(call_id)) {}
  void write_batch(std::span<const StoreRequest> batch, std::vector<Status>& results) override {
    std::vector<StoreRequest> pass;
    std::vector<size_t> where;
    results.assign(batch.size(), Status::ok());
    for (size_t i = 0; i < batch.size(); ++i) {
      const auto* end = std::get_if<CallEndRequest>(&batch[i]);
      if (end != nullptr && end->id == call_id_) {
        results[i] = Status::invalid_argument("injected failure for call " + call_id_);
      } else {
        pass.push_back(batch[i]);
        where.push_back(i);
      }
    }
    std::vector<Status> inner_results;
    inner_->write_batch(pass, inner_results);
    for (size_t k = 0; k < where.size(); ++k) results[where[k]] = inner_results[k];
  }
  std::string describe() const override { return "failing(" + inner_->describe() + ")"; }

 private:
  std::unique_ptr<Store> inner_;
  std::string call_id_;
};

// (d) A store failure on call_end is reported once, with its cause; everything else lands.
TEST(RuntimeScenarios, StoreFailureOnCallEndIsReportedAndTheRestLands) {
  TempStore store;
  ErrorLog errors;
  Config cfg = test_config(store);
  cfg.on_error = errors.sink();
  cfg.dead_letter_path = store.path() + ".dl.jsonl";
  auto sqlite = open_sqlite_store(store.path());
  ASSERT_TRUE(sqlite.is_ok()) << sqlite.error();
  // The failing call's id is only known after start: build the store around a holder.
  struct Holder : Store {
    std::unique_ptr<Store> inner;
    std::string id;
    std::unique_ptr<FailingCallEndStore> failing;
    void write_batch(std::span<const StoreRequest> b, std::vector<Status>& r) override {
      failing->write_batch(b, r);
    }
    std::string describe() const override { return failing->describe(); }
  };
  auto holder = std::make_shared<Holder>();
  cfg.store = holder;
  Runtime rt(cfg);
  rt.pause_store();  // nothing is written before the failing store is in place
  const Value op = make_op("llm", "def llm(q): ...\n");
  Call bad = rt.start_call(op, Value::dict({{"q", Value::string("fails")}}));
  Call good = rt.start_call(op, Value::dict({{"q", Value::string("works")}}));
  holder->failing = std::make_unique<FailingCallEndStore>(std::move(sqlite.value()), bad.id().str());
  bad.finish(make_object("Answer", {{"text", Value::string("lost")}}));
  good.finish(make_object("Answer", {{"text", Value::string("kept")}}));
  rt.resume_store();
  FlushResult r = rt.flush(kFlush);
  EXPECT_FALSE(r.complete);  // it tells the truth
  EXPECT_EQ(r.failed, 1u);
  EXPECT_EQ(r.written, 7u);  // the op (object + source file), two answers, two call_starts, one call_end
  EXPECT_EQ(r.pending, 0);
  RuntimeStats s = rt.stats();
  EXPECT_EQ(s.store_failures, 1u);
  EXPECT_EQ(s.call_end, 1u);
  EXPECT_EQ(s.call_start, 2u);
  EXPECT_EQ(s.obj_create, 3u);  // the op and both answers
  auto lines = errors.snapshot();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("call_end not written"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("injected failure for call " + bad.id().str()), std::string::npos) << lines[0];
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE id='" + good.id().str() + "' AND ended_at IS NOT NULL"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE id='" + bad.id().str() + "' AND ended_at IS NULL"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM objects WHERE object_id='Answer'"), 2);
  // Refused as invalid: not retried, kept at once with its reason and request.
  EXPECT_EQ(s.store_retries, 0u);
  EXPECT_EQ(s.dead_lettered, 1u);
  auto kept = DeadLetterFile::read(cfg.dead_letter_path);
  ASSERT_TRUE(kept.is_ok()) << kept.error();
  ASSERT_EQ(kept->size(), 1u);
  EXPECT_EQ((*kept)[0].kind, "call_end");
  EXPECT_EQ((*kept)[0].code, StatusCode::kInvalidArgument);
  EXPECT_EQ((*kept)[0].attempts, 1u);
  EXPECT_EQ(std::get<CallEndRequest>((*kept)[0].request).id, bad.id().str());
}

// (e) finish returns before the deferred work (saving the output, writing call_end) runs.
TEST(RuntimeScenarios, FinishReturnsBeforeDeferredWorkRuns) {
  TempStore store;
  Runtime rt(test_config(store));
  rt.pause_store();
  const Value op = make_op("f", "def f(): ...\n");
  Call c = rt.start_call(op, Value::dict({}));
  EXPECT_TRUE(c.finish(make_object("Out", {{"x", Value::integer(1)}})).is_ok());
  // Returned; with the store paused none of the call's writes can have happened.
  EXPECT_EQ(rt.stats().call_end, 0u);
  {
    Db db(store.path());
    EXPECT_EQ(db.count("SELECT count(*) FROM calls"), 0);
  }
  rt.resume_store();
  ASSERT_TRUE(rt.flush(kFlush));
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL"), 1);
  std::string output = db.text("SELECT output FROM calls");
  EXPECT_EQ(output.rfind("\"weave:///test-entity/test-project/object/Out:", 0), 0u) << output;
}

// (g) One Object instance used by two parents is stored once; equal content built twice
// is two requests but one row (dedup by digest).
TEST(RuntimeScenarios, SharedInstanceIsSavedOnce) {
  TempStore store;
  Runtime rt(test_config(store));
  Value shared = make_object("Shared", {{"v", Value::integer(42)}});
  SavedRef a = rt.save(make_object("ParentA", {{"s", shared}}));
  SavedRef b = rt.save(make_object("ParentB", {{"s", shared}}));
  ASSERT_TRUE(rt.flush(kFlush));
  EXPECT_EQ(rt.stats().obj_create, 3u);
  Value twin1 = make_object("Twin", {{"v", Value::integer(1)}});
  Value twin2 = make_object("Twin", {{"v", Value::integer(1)}});
  rt.save(twin1);
  rt.save(twin2);
  ASSERT_TRUE(rt.flush(kFlush));
  EXPECT_EQ(rt.stats().obj_create, 5u);
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM objects WHERE object_id='Shared'"), 1);
  EXPECT_EQ(db.count("SELECT count(*) FROM objects WHERE object_id='Twin'"), 1);
  // Both parents point at the one Shared row.
  std::string ref = db.text("SELECT 'weave:///test-entity/test-project/object/Shared:' || digest FROM objects WHERE object_id='Shared'");
  EXPECT_NE(db.text("SELECT val_dump FROM objects WHERE object_id='ParentA'").find(ref), std::string::npos);
  EXPECT_NE(db.text("SELECT val_dump FROM objects WHERE object_id='ParentB'").find(ref), std::string::npos);
}

// (h) Shutdown within its deadline loses nothing.
TEST(RuntimeScenarios, ShutdownWithinDeadlineLosesNothing) {
  TempStore store;
  ErrorLog errors;
  Config cfg = test_config(store);
  cfg.on_error = errors.sink();
  Runtime rt(cfg);
  run_eval_workload(rt, EvalWorkloadOptions{10, 3});
  EXPECT_TRUE(rt.shutdown(kFlush));
  EXPECT_TRUE(errors.snapshot().empty());
  Db db(store.path());
  EXPECT_EQ(db.count("SELECT count(*) FROM calls WHERE ended_at IS NOT NULL"), 32);
  EXPECT_EQ(db.count("SELECT count(*) FROM objects"), 5 + 2 + 1 + 4 * 10);
}

// (h) Past its deadline (the store is paused), shutdown reports what was not written.
TEST(RuntimeScenarios, ShutdownPastDeadlineReportsWhatWasNotWritten) {
  TempStore store;
  ErrorLog errors;
  Config cfg = test_config(store);
  cfg.on_error = errors.sink();
  Runtime rt(cfg);
  rt.pause_store();
  const Value op = make_op("f", "def f(): ...\n");
  Call c = rt.start_call(op, Value::dict({}));
  c.finish(Value::integer(1));
  // Wait (with a deadline) until all four requests are queued for the paused store, so the
  // report below does not depend on how fast the actors ran.
  auto until = std::chrono::steady_clock::now() + kFlush;
  while (rt.stats().store_queue_depth < 4 && std::chrono::steady_clock::now() < until)
    std::this_thread::yield();
  ASSERT_EQ(rt.stats().store_queue_depth, 4u);
  EXPECT_FALSE(rt.shutdown(300ms));
  auto lines = errors.snapshot();
  bool reported = false;
  for (const auto& l : lines)
    if (l.find("not written") != std::string::npos && l.find("call_start: 1") != std::string::npos &&
        l.find("call_end: 1") != std::string::npos && l.find("obj_create: 1") != std::string::npos)
      reported = true;
  EXPECT_TRUE(reported) << (lines.empty() ? std::string("no errors") : lines.back());
  // Further events are refused, visibly.
  Call late = rt.start_call(op, Value::dict({}));
  EXPECT_FALSE(late.recorded());
  EXPECT_GE(rt.stats().events_refused, 1u);
}

}  // namespace
}  // namespace weft
