// Runtime metrics (issue 4): exact depths and counts around a paused store, snapshots
// taken concurrently with the work, the shape of the Prometheus text, and the
// per-instance JSON.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>

#include <weft/json.h>
#include <weft/metrics.h>
#include <weft/runtime.h>

#include "runtime/cli/eval_workload.h"
#include "runtime/metrics/metrics_json.h"
#include "runtime/metrics/metrics_registry.h"
#include "tests/support/test_support.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using testing::TempStore;
using testing::test_config;

constexpr auto kDeadline = 120s;  // generous: sanitizer builds on 2 shared cores are slow

// Polls rt.metrics() until pred holds or the deadline passes; returns the last snapshot.
// The condition is what the test observes; nothing here sleeps to let things happen.
MetricsSnapshot wait_for_metrics(const Runtime& rt, const std::function<bool(const MetricsSnapshot&)>& pred,
                                 bool& met, std::chrono::steady_clock::duration deadline = kDeadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    MetricsSnapshot m = rt.metrics();
    met = pred(m);
    if (met || std::chrono::steady_clock::now() >= until) return m;
    std::this_thread::yield();
  }
}

const KindMetrics& kind(const MetricsSnapshot& m, const char* name) {
  const KindMetrics* k = m.kind(name);
  EXPECT_NE(k, nullptr) << name;
  static const KindMetrics kMissing;
  return k != nullptr ? *k : kMissing;
}

// What the evaluation workload of n examples sends to the store (eval_workload.h):
// objects: 5 ops + model + prompt + dataset, and per example ChatCompletion, Usage,
// Choice, Message; one table; files: 5 op sources + one image per row; 3n + 2 calls, each
// a call_start and a call_end.
struct Expected {
  explicit Expected(uint64_t n)
      : obj_create(8 + 4 * n), table_create(1), file_create(5 + n), calls(3 * n + 2) {}
  uint64_t obj_create, table_create, file_create, calls;
  uint64_t store_requests() const { return obj_create + table_create + file_create + 2 * calls; }
};

// With the store paused the whole evaluation is computed and queued for the store, and
// nothing waits on the store: the queue holds exactly every request, no dependency is
// pending, every actor has finished. After resume + flush every depth is 0 and the
// counters equal the workload.
TEST(MetricsRuntime, PausedStoreQueuesExactlyTheWorkloadThenDrainsToZero) {
  TempStore store;
  Config cfg = test_config(store);
  std::mutex errors_mu;  // on_error runs on runtime threads
  std::vector<std::string> errors;
  cfg.on_error = [&](const std::string& e) {
    std::lock_guard<std::mutex> lock(errors_mu);
    errors.push_back(e);
  };
  constexpr uint64_t n = 20;
  const Expected want(n);
  Runtime rt(cfg);
  rt.pause_store();
  EvalWorkloadResult r = run_eval_workload(rt, EvalWorkloadOptions{n, 11});
  ASSERT_EQ(r.calls, want.calls);

  // Quiescent: every request queued and every actor gone (an actor quits just after its
  // last submission, so the two are observed together).
  bool met = false;
  MetricsSnapshot m = wait_for_metrics(
      rt,
      [&](const MetricsSnapshot& s) {
        return s.store.queue_depth == want.store_requests() && kind(s, "object").alive == 0 &&
               kind(s, "table").alive == 0 && kind(s, "call").alive == 0;
      },
      met);
  ASSERT_TRUE(met) << "store queue " << m.store.queue_depth << " of " << want.store_requests()
                   << "; alive objects " << kind(m, "object").alive << ", tables " << kind(m, "table").alive
                   << ", calls " << kind(m, "call").alive;
  EXPECT_EQ(m.store.queue_depth, want.store_requests());
  EXPECT_TRUE(m.store.paused);
  EXPECT_EQ(m.store.rows_written, 0u);
  EXPECT_EQ(m.pending_dependencies, 0u) << "nothing waits on the store";
  EXPECT_EQ(m.parents_waiting, 0u);
  EXPECT_EQ(m.handoff_queue_depth, 0u);
  EXPECT_EQ(m.open_calls, 0u);
  EXPECT_EQ(m.events_refused, 0u);
  EXPECT_EQ(kind(m, "object").spawned, want.obj_create) << "one object actor per distinct object (ops too)";
  EXPECT_EQ(kind(m, "table").spawned, want.table_create);
  EXPECT_EQ(kind(m, "call").spawned, want.calls);
  for (const char* k : {"object", "table", "call"}) {
    EXPECT_EQ(kind(m, k).finished, kind(m, k).spawned) << k;
    EXPECT_EQ(kind(m, k).mailbox_depth, 0u) << k;
  }
  EXPECT_EQ(kind(m, "store_writer").mailbox_depth, want.store_requests());
  EXPECT_TRUE(m.deepest.empty());
  EXPECT_TRUE(m.oldest.empty());
  // The exposition says the same.
  std::string text = rt.metrics_text();
  EXPECT_NE(text.find("\nweft_store_queue_depth " + std::to_string(want.store_requests()) + "\n"), std::string::npos);
  EXPECT_NE(text.find("\nweft_store_paused 1\n"), std::string::npos);

  rt.resume_store();
  ASSERT_TRUE(rt.flush(kDeadline));
  m = wait_for_metrics(
      rt, [](const MetricsSnapshot& s) { return kind(s, "object").alive == 0 && kind(s, "call").alive == 0; }, met);
  ASSERT_TRUE(met);
  EXPECT_EQ(m.store.queue_depth, 0u);
  EXPECT_FALSE(m.store.paused);
  EXPECT_EQ(m.store.obj_create, want.obj_create);
  EXPECT_EQ(m.store.table_create, want.table_create);
  EXPECT_EQ(m.store.file_create, want.file_create);
  EXPECT_EQ(m.store.call_start, want.calls);
  EXPECT_EQ(m.store.call_end, want.calls);
  EXPECT_EQ(m.store.rows_written, want.store_requests());
  EXPECT_EQ(m.store.errors, 0u);
  EXPECT_GE(m.store.batches, 1u);
  EXPECT_EQ(m.store.write_latency.count, m.store.batches);
  EXPECT_EQ(m.pending_dependencies, 0u);
  EXPECT_EQ(m.parents_waiting, 0u);
  EXPECT_EQ(m.open_calls, 0u);
  EXPECT_EQ(m.outstanding_work, 0);
  EXPECT_EQ(m.handoff_queue_depth, 0u);
  EXPECT_EQ(m.events_accepted, 2 * want.calls) << "a start and an end per call; values ride in them";
  for (const KindMetrics& k : m.kinds) {
    EXPECT_EQ(k.mailbox_depth, 0u) << k.kind;
    EXPECT_EQ(k.queueing_delay_estimate_ns, 0.0) << k.kind;
  }
  // Objects hear from their children, calls from children, ends and summaries; the table's
  // children are files, hashed locally, so it receives no message at all.
  for (const char* k : {"object", "call", "dispatcher", "store_writer"}) EXPECT_GT(kind(m, k).processed, 0u) << k;
  for (const char* k : {"object", "call"}) {
    EXPECT_GE(kind(m, k).mailbox_high_water, 1u) << k;
    // Handler times are sampled per thread and kind: the first message and every 8th after
    // it, so at least processed / 8 (none bounced here) and at most one more per thread.
    const uint64_t timed = kind(m, k).handler.count;
    EXPECT_GE(timed * kHandlerSampleEvery, kind(m, k).processed) << k;
    EXPECT_LE(timed, kind(m, k).processed / kHandlerSampleEvery + m.scheduler_threads) << k;
    EXPECT_LE(kind(m, k).handler.p50_ns, kind(m, k).handler.p99_ns) << k;
    EXPECT_LE(kind(m, k).handler.p99_ns, static_cast<double>(kind(m, k).handler.max_ns)) << k;
  }
  EXPECT_EQ(kind(m, "store_writer").processed, want.store_requests());
  EXPECT_EQ(kind(m, "dispatcher").processed, 2 * want.calls);
  std::lock_guard<std::mutex> lock(errors_mu);
  EXPECT_TRUE(errors.empty()) << errors.front();
}

// An open call is listed among the oldest waiters, waiting for its end, until finished.
TEST(MetricsRuntime, AnUnfinishedCallIsListedAsWaitingForItsEnd) {
  TempStore store;
  Runtime rt(test_config(store));
  const Value op = make_op("slow_tool", "def slow_tool(): ...\n");
  Call call = rt.start_call(op, Value::dict({{"q", Value::string("x")}}));
  bool met = false;
  MetricsSnapshot m = wait_for_metrics(
      rt,
      [](const MetricsSnapshot& s) {
        // The dispatcher records the open call just after spawning its actor, which may
        // describe itself first: wait for both.
        return !s.oldest.empty() && !s.oldest.front().label.empty() && s.open_calls == 1;
      },
      met);
  ASSERT_TRUE(met);
  EXPECT_EQ(m.open_calls, 1u);
  EXPECT_EQ(kind(m, "call").alive, 1u);
  const InstanceMetrics& waiter = m.oldest.front();
  EXPECT_EQ(waiter.kind, "call");
  EXPECT_NE(waiter.label.find("slow_tool"), std::string::npos) << waiter.label;
  EXPECT_NE(waiter.waiting_for.find("the call's end"), std::string::npos) << waiter.waiting_for;
  // Also in the JSON the endpoint serves at /metrics/instances.
  MetricsSnapshot parsed;
  ASSERT_TRUE(parse_instances_json(render_instances_json(m), parsed).is_ok());
  ASSERT_EQ(parsed.oldest.size(), m.oldest.size());
  EXPECT_EQ(parsed.oldest.front().id, waiter.id);
  EXPECT_EQ(parsed.oldest.front().label, waiter.label);
  EXPECT_EQ(parsed.oldest.front().waiting_for, waiter.waiting_for);

  ASSERT_TRUE(call.finish(Value::string("done")).is_ok());
  ASSERT_TRUE(rt.flush(kDeadline));
  m = wait_for_metrics(rt, [](const MetricsSnapshot& s) { return s.oldest.empty() && s.open_calls == 0; }, met);
  EXPECT_TRUE(met);
  EXPECT_EQ(kind(m, "call").finished, 1u);
}

// metrics() and metrics_text() from another thread, as fast as it can, while the
// workload runs and drains: no crash, no race (ASan/TSan builds), and sane figures.
TEST(MetricsRuntime, SnapshotsFromAnotherThreadWhileTheWorkloadRuns) {
  TempStore store;
  Runtime rt(test_config(store));
  std::atomic<bool> done{false};
  uint64_t snapshots = 0;
  uint64_t max_spawned = 0;
  std::thread reader([&] {
    while (!done.load(std::memory_order_acquire)) {
      MetricsSnapshot m = rt.metrics(5);
      const KindMetrics* calls = m.kind("call");
      ASSERT_NE(calls, nullptr);
      EXPECT_LE(m.deepest.size(), 5u);
      EXPECT_GE(calls->spawned, max_spawned) << "a counter never goes back";
      max_spawned = calls->spawned;
      std::string text = render_prometheus(m);
      EXPECT_EQ(text.rfind("# HELP weft_", 0), 0u);
      std::string json = render_instances_json(m);
      EXPECT_TRUE(parse_json(json).is_ok()) << json;
      ++snapshots;
    }
  });
  constexpr uint64_t n = 200;
  run_eval_workload(rt, EvalWorkloadOptions{n, 5});
  bool flushed = rt.flush(kDeadline);
  done.store(true, std::memory_order_release);
  reader.join();
  ASSERT_TRUE(flushed);
  EXPECT_GT(snapshots, 0u);
  MetricsSnapshot m = rt.metrics();
  EXPECT_EQ(m.store.rows_written, Expected(n).store_requests());
  EXPECT_EQ(m.store.queue_depth, 0u);
}

// ---------------------------------------------------------------- the Prometheus text

struct Family {
  int help = 0, type = 0;
  std::string kind;
  int samples = 0;
};

// Checks the exposition's structure: every sample belongs to a family declared once (HELP
// and TYPE, before its samples), counters end in _total, histograms are complete.
void check_exposition(const std::string& text) {
  std::map<std::string, Family> families;
  std::string declared;  // the family whose samples may follow
  std::istringstream in(text);
  std::string line;
  ASSERT_FALSE(text.empty());
  ASSERT_EQ(text.back(), '\n');
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, rest;
      words >> name >> rest;
      ASSERT_EQ(name.rfind("weft_", 0), 0u) << line;
      Family& f = families[name];
      if (line[2] == 'H') {
        ++f.help;
        EXPECT_FALSE(rest.empty()) << "empty help: " << line;
      } else {
        ++f.type;
        f.kind = rest;
        EXPECT_TRUE(rest == "counter" || rest == "gauge" || rest == "histogram") << line;
        if (rest == "counter") EXPECT_TRUE(name.ends_with("_total")) << line;
        else EXPECT_FALSE(name.ends_with("_total")) << line;
      }
      declared = name;
      continue;
    }
    ASSERT_NE(line[0], '#') << line;
    std::string name = line.substr(0, line.find_first_of("{ "));
    std::string family = name;
    for (const char* suffix : {"_bucket", "_sum", "_count"})
      if (families.count(family) == 0 && name.ends_with(suffix)) family = name.substr(0, name.size() - strlen(suffix));
    EXPECT_EQ(family, declared) << "sample outside its family: " << line;
    families[family].samples++;
  }
  for (const auto& [name, f] : families) {
    EXPECT_EQ(f.help, 1) << name;
    EXPECT_EQ(f.type, 1) << name;
    EXPECT_GT(f.samples, 0) << name;
  }
  // Histograms: per kind, 16 finite buckets, +Inf, _sum, _count; +Inf equals _count.
  ASSERT_EQ(families["weft_handler_seconds"].kind, "histogram");
  for (const char* k : {"object", "table", "call", "dispatcher", "store_writer"}) {
    std::string labels = std::string("{kind=\"") + k + "\"";
    size_t inf = text.find("weft_handler_seconds_bucket" + labels + ",le=\"+Inf\"} ");
    size_t count = text.find("weft_handler_seconds_count" + labels + "} ");
    ASSERT_NE(inf, std::string::npos) << k;
    ASSERT_NE(count, std::string::npos) << k;
    auto value_at = [&](size_t pos) {
      size_t sp = text.find("} ", pos) + 2;
      return text.substr(sp, text.find('\n', sp) - sp);
    };
    EXPECT_EQ(value_at(inf), value_at(count)) << k;
  }
}

TEST(MetricsText, EveryFamilyHasHelpAndTypeOnceAndHistogramsAreComplete) {
  TempStore store;
  Runtime rt(test_config(store));
  check_exposition(rt.metrics_text());  // at rest, all zero
  run_eval_workload(rt, EvalWorkloadOptions{10, 3});
  ASSERT_TRUE(rt.flush(kDeadline));
  std::string text = rt.metrics_text();
  check_exposition(text);
  for (const char* family :
       {"weft_actors_spawned_total", "weft_actors_alive", "weft_mailbox_depth", "weft_mailbox_high_water",
        "weft_messages_processed_total", "weft_handler_seconds", "weft_store_queue_depth",
        "weft_pending_dependencies", "weft_store_requests_written_total", "weft_oldest_wait_seconds"})
    EXPECT_NE(text.find("# TYPE " + std::string(family) + " "), std::string::npos) << family;
  EXPECT_NE(text.find("weft_actors_spawned_total{kind=\"object\"} 48\n"), std::string::npos) << "8 + 4 * 10 objects";
  EXPECT_NE(text.find("weft_store_requests_written_total{request=\"call_end\"} 32\n"), std::string::npos);
}

TEST(MetricsText, BucketBoundsAndNumbersAreShortAndExact) {
  MetricsSnapshot s;
  KindMetrics k;
  k.kind = "object";
  k.handler.buckets[0] = 3;
  k.handler.buckets.back() = 1;  // the overflow bucket
  k.handler.sum_ns = 25'000'000'001;
  k.queueing_delay_estimate_ns = 1500;
  s.kinds.push_back(k);
  std::string text = render_prometheus(s);
  EXPECT_NE(text.find("weft_handler_seconds_bucket{kind=\"object\",le=\"1e-06\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("weft_handler_seconds_bucket{kind=\"object\",le=\"0.0025\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("weft_handler_seconds_bucket{kind=\"object\",le=\"10\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("weft_handler_seconds_bucket{kind=\"object\",le=\"+Inf\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("weft_handler_seconds_count{kind=\"object\"} 4\n"), std::string::npos);
  EXPECT_NE(text.find("weft_handler_seconds_sum{kind=\"object\"} 25.000000001\n"), std::string::npos);
  EXPECT_NE(text.find("weft_queueing_delay_estimate_seconds{kind=\"object\"} 1.5e-06\n"), std::string::npos);
}

// ---------------------------------------------------------------- instances JSON

TEST(MetricsJson, LabelsCutInsideAUtf8SequenceStillMakeValidJson) {
  MetricsSnapshot s;
  InstanceMetrics i;
  i.id = 42;
  i.kind = "object";
  i.label = "Object 'caf\xc3";  // "café" cut after the first byte of 'é'
  i.mailbox_depth = 7;
  i.waiting_seconds = 1.5;
  i.waiting_for = "2 child digests";
  s.deepest.push_back(i);
  i.label = "quote \" backslash \\ newline \n bad \xff\xfe";
  s.oldest.push_back(i);
  std::string json = render_instances_json(s);
  ASSERT_TRUE(parse_json(json).is_ok()) << json;
  MetricsSnapshot back;
  ASSERT_TRUE(parse_instances_json(json, back).is_ok());
  ASSERT_EQ(back.deepest.size(), 1u);
  EXPECT_EQ(back.deepest[0].id, 42u);
  EXPECT_EQ(back.deepest[0].label, "Object 'caf\xef\xbf\xbd");
  EXPECT_EQ(back.deepest[0].mailbox_depth, 7u);
  EXPECT_EQ(back.deepest[0].waiting_seconds, 1.5);
  EXPECT_EQ(back.deepest[0].waiting_for, "2 child digests");
  ASSERT_EQ(back.oldest.size(), 1u);
  EXPECT_EQ(back.oldest[0].label, "quote \" backslash \\ newline \n bad \xef\xbf\xbd\xef\xbf\xbd");
  EXPECT_FALSE(parse_instances_json("{\"deepest\": 3}", back).is_ok());
  EXPECT_FALSE(parse_instances_json("not json", back).is_ok());
}

}  // namespace
}  // namespace weft
