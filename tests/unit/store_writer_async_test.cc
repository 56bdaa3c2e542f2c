// The store writer's asynchronous path (runtime/core/store_writer.cc: hand_over,
// collect_async, complete) over a scripted AsyncStore: acknowledged requests, digests the
// store assigns (a deferred SaveCell resolved or failed by the writer), failures kept by the
// store or dead-lettered, refusals at send() (transient: retried; otherwise dead-lettered),
// stop() with answers outstanding (abandon), a result for a ticket the writer never issued,
// and 10,000 answers out of order. A real WorkTracker says when the work has ended: the
// tests wait with tracker.flush(deadline) or a polled condition, never a bare sleep.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <weft/status.h>
#include <weft/store_requests.h>

#include "runtime/core/save_cell.h"
#include "runtime/core/store_writer.h"
#include "runtime/core/work_tracker.h"
#include "runtime/stores/async_store.h"

namespace weft {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;
using detail::CellRef;
using detail::SaveCell;
using detail::Waiter;

constexpr size_t kObj = 0;  // ObjCreateRequest's index in StoreRequest
constexpr uint64_t kRuntimeId = 9101;
const std::string kPrefix = "weave:///e/p/object/x:";

steady_clock::time_point in(milliseconds d) { return steady_clock::now() + d; }

// Polls `done` until it holds or the deadline passes; returns its last value.
template <class F>
bool eventually(F done, milliseconds within = milliseconds(10'000)) {
  const auto deadline = in(within);
  while (!done()) {
    if (steady_clock::now() >= deadline) return done();
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

StoreRequest obj(const std::string& object_id) {
  ObjCreateRequest r;
  r.project_id = "e/p";
  r.object_id = object_id;
  r.kind = "object";
  r.val_json = R"({"a":1})";
  r.digest = "local-" + object_id;
  return r;
}

const std::string& object_id_of(const StoreRequest& r) { return std::get<ObjCreateRequest>(r).object_id; }

// How the fake behaves; fixed before the writer starts.
struct Script {
  enum class Answer { kOk, kFail, kFailKept };
  Answer answer = Answer::kOk;
  Status fail_status = Status::unavailable("server said no");
  // The first `refuse_first` items offered to send() are refused with `refuse_status`.
  int refuse_first = 0;
  Status refuse_status = Status::unavailable("outbox busy");
  // Answers wait until release() (an atomic flag set by the test).
  bool hold = false;
  // Each poll ends at most this many pending tickets; shuffle: picked at random (out of
  // order), else newest first.
  size_t per_poll = SIZE_MAX;
  bool shuffle = false;
  // The digest the store assigns: by default "D<n>", n = 1, 2, ... in acceptance order.
  std::function<std::string(const StoreRequest&, uint64_t n)> digest;
  // Results for tickets the writer never issued, given on the first poll.
  std::vector<AsyncResult> orphans;
};

// An AsyncStore whose every answer is scripted. send/poll/abandon run on the writer thread
// only (the AsyncStore contract); the test reads the atomics at any time and the rest once
// the writer has stopped (or after a flush, whose acquire load orders it).
class FakeAsyncStore final : public AsyncStore {
 public:
  explicit FakeAsyncStore(Script s) : script_(std::move(s)) {}

  void send(std::span<AsyncItem> items, std::vector<Status>& accepted) override {
    send_calls.fetch_add(1);
    accepted.clear();
    for (auto& item : items) {
      if (refused.load() < script_.refuse_first) {
        refused.fetch_add(1);
        accepted.push_back(script_.refuse_status);  // request left in place
        continue;
      }
      const uint64_t n = accepted_count.fetch_add(1) + 1;
      if (!issued_.insert(item.ticket).second) duplicate_tickets.fetch_add(1);
      pending_.push_back(Pending{item.ticket, n, std::move(item.request)});
      accepted.push_back(Status::ok());
    }
  }

  size_t poll(std::vector<AsyncResult>& out) override {
    poll_calls.fetch_add(1);
    size_t n = 0;
    if (!orphans_given_) {
      orphans_given_ = true;
      for (auto& o : script_.orphans) {
        out.push_back(std::move(o));
        ++n;
      }
    }
    if (script_.hold && !released_.load(std::memory_order_acquire)) return n;
    const size_t take = std::min(pending_.size(), script_.per_poll);
    for (size_t i = 0; i < take; ++i) {
      if (script_.shuffle) {  // a random one of those pending: swapped to the back
        std::uniform_int_distribution<size_t> pick(0, pending_.size() - 1);
        std::swap(pending_[pick(rng_)], pending_.back());
      }
      out.push_back(answer(std::move(pending_.back())));
      pending_.pop_back();
      ++n;
    }
    return n;
  }

  uint64_t pending() const override { return pending_.size(); }

  void abandon(std::vector<AsyncResult>& out) override {
    abandon_calls.fetch_add(1);
    for (auto& p : pending_) {
      AsyncResult r;
      r.ticket = p.ticket;
      r.status = Status::unavailable("abandoned: still in the outbox");
      r.kept = true;
      r.request = std::move(p.request);
      end(r.ticket);
      out.push_back(std::move(r));
      abandoned.fetch_add(1);
    }
    pending_.clear();
  }

  bool assigns_ref_digests() const override { return true; }
  std::chrono::milliseconds longest_pending() const override { return std::chrono::milliseconds(0); }
  std::string describe() const override { return "fake-async"; }

  void release() { released_.store(true, std::memory_order_release); }

  std::atomic<int> send_calls{0};
  std::atomic<int> poll_calls{0};
  std::atomic<int> abandon_calls{0};
  std::atomic<int> refused{0};
  std::atomic<uint64_t> accepted_count{0};
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> abandoned{0};
  std::atomic<uint64_t> duplicate_tickets{0};  // a ticket issued twice by the writer
  std::atomic<uint64_t> ended_twice{0};        // a ticket this store ended twice (its own bug)

 private:
  struct Pending {
    uint64_t ticket;
    uint64_t n;
    StoreRequest request;
  };

  void end(uint64_t ticket) {
    if (!ended_.insert(ticket).second) ended_twice.fetch_add(1);
  }

  AsyncResult answer(Pending p) {
    AsyncResult r;
    r.ticket = p.ticket;
    end(p.ticket);
    answered.fetch_add(1);
    switch (script_.answer) {
      case Script::Answer::kOk:
        r.digest = script_.digest ? script_.digest(p.request, p.n) : "D" + std::to_string(p.n);
        break;
      case Script::Answer::kFail:
      case Script::Answer::kFailKept:
        r.status = script_.fail_status;
        r.kept = script_.answer == Script::Answer::kFailKept;
        r.request = std::move(p.request);
        break;
    }
    return r;
  }

  Script script_;
  std::vector<Pending> pending_;
  std::set<uint64_t> issued_, ended_;
  bool orphans_given_ = false;
  std::minstd_rand rng_{42};
  std::atomic<bool> released_{false};
};

// Counts its notifications in a counter that outlives it (the cell deletes its waiters).
class CountingWaiter final : public Waiter {
 public:
  explicit CountingWaiter(std::atomic<int>* count) : count_(count) {}
  void notify(SaveCell& cell) override {
    if (cell.resolved()) count_->fetch_add(1);
  }

 private:
  std::atomic<int>* count_;
};

struct DeadLetter {
  std::string kind;
  std::string object_id;
  Status reason;
  uint32_t attempts;
};

// The writer over a FakeAsyncStore, a real WorkTracker, and sinks that record.
struct Harness {
  explicit Harness(Script script, StoreWriterOptions options = fast_options())
      : store(std::make_shared<FakeAsyncStore>(std::move(script))),
        writer(store, options, tracker, [this](const std::string& cause, std::string message) {
          std::lock_guard<std::mutex> lock(mu);
          reports.push_back(cause + ": " + message);
        }) {
    writer.set_dead_letter([this](const StoreRequest& r, const Status& reason, uint32_t attempts) {
      std::lock_guard<std::mutex> lock(mu);
      dead_letters.push_back(DeadLetter{request_kind_name(r), object_id_of(r), reason, attempts});
      return Status::ok();
    });
  }
  ~Harness() { writer.stop(in(milliseconds(5'000))); }

  static StoreWriterOptions fast_options() {
    StoreWriterOptions o;
    o.first_backoff = milliseconds(1);
    o.max_backoff = milliseconds(4);
    o.retry_timeout = milliseconds(30'000);
    return o;
  }

  StoreItem item(const std::string& object_id) {
    StoreItem it;
    it.request = obj(object_id);
    it.token = tracker.acquire(64);
    EXPECT_TRUE(it.token);
    return it;
  }

  StoreItem deferred(const std::string& object_id, const CellRef& cell) {
    StoreItem it = item(object_id);
    it.cell = cell;
    it.resolve_prefix = kPrefix;
    return it;
  }

  std::vector<DeadLetter> letters() {
    std::lock_guard<std::mutex> lock(mu);
    return dead_letters;
  }

  EpochOutcome flush() { return tracker.flush(in(milliseconds(10'000))); }

  WorkTracker tracker{100'000, uint64_t{1} << 30};
  std::shared_ptr<FakeAsyncStore> store;
  std::mutex mu;
  std::vector<std::string> reports;
  std::vector<DeadLetter> dead_letters;
  StoreWriter writer;  // last: stopped (by ~Harness) before the rest goes
};

CellRef pending_cell() { return CellRef(new SaveCell(kRuntimeId), /*adopt=*/true); }

TEST(StoreWriterAsync, AcceptedAndAcknowledgedIsWrittenOnce) {
  Harness h(Script{});
  h.writer.start();
  h.writer.submit(h.item("x"));
  EpochOutcome out = h.flush();
  EXPECT_TRUE(out.drained);
  EXPECT_EQ(out.written, 1u);
  EXPECT_EQ(out.failed, 0u);
  EXPECT_EQ(h.writer.written(kObj), 1u);
  EXPECT_EQ(h.writer.failures(), 0u);
  EXPECT_EQ(h.writer.in_flight(), 0u);
  EXPECT_EQ(h.writer.queue_depth(), 0u);
  EXPECT_EQ(h.writer.store_digests(), 0u);  // no deferred cell: the store's digest is unused
  EXPECT_EQ(h.tracker.outstanding(), 0);
  EXPECT_EQ(h.writer.stop(in(milliseconds(5'000))), "");
  EXPECT_EQ(h.store->accepted_count.load(), 1u);
  EXPECT_EQ(h.store->answered.load(), 1u);
  EXPECT_EQ(h.store->abandoned.load(), 0u);
  EXPECT_TRUE(h.letters().empty());
}

TEST(StoreWriterAsync, StoreDigestResolvesTheDeferredCellAndNotifiesItsWaiterOnce) {
  Harness h(Script{});
  CellRef cell = pending_cell();
  std::atomic<int> notified{0};
  ASSERT_TRUE(cell->subscribe(new CountingWaiter(&notified)));
  h.writer.start();
  h.writer.submit(h.deferred("x", cell));
  EpochOutcome out = h.flush();
  ASSERT_TRUE(out.drained);
  EXPECT_EQ(out.written, 1u);
  EXPECT_EQ(out.failed, 0u);
  ASSERT_EQ(cell->state(), SaveCell::State::kDone);
  EXPECT_EQ(cell->digest(), "D1");
  EXPECT_EQ(cell->ref_uri(), kPrefix + "D1");
  EXPECT_EQ(h.writer.store_digests(), 1u);
  EXPECT_EQ(h.writer.written(kObj), 1u);
  EXPECT_EQ(h.writer.in_flight(), 0u);
  EXPECT_EQ(notified.load(), 1);
  // A later subscriber finds the cell closed and reads it directly: no second notification.
  auto* late = new CountingWaiter(&notified);
  if (cell->subscribe(late)) {
    ADD_FAILURE() << "subscribed to a resolved cell";
  } else {
    delete late;
  }
  h.writer.stop(in(milliseconds(5'000)));
  EXPECT_EQ(notified.load(), 1);
}

TEST(StoreWriterAsync, FailedNotKeptFailsTheCellAndDeadLettersTheRequestOnce) {
  Script s;
  s.answer = Script::Answer::kFail;
  s.fail_status = Status::invalid_argument("server said no: bad val");
  Harness h(std::move(s));
  CellRef cell = pending_cell();
  std::atomic<int> notified{0};
  ASSERT_TRUE(cell->subscribe(new CountingWaiter(&notified)));
  h.writer.start();
  h.writer.submit(h.deferred("x", cell));
  EpochOutcome out = h.flush();
  ASSERT_TRUE(out.drained);
  EXPECT_EQ(out.written, 0u);
  EXPECT_EQ(out.failed, 1u);
  ASSERT_EQ(cell->state(), SaveCell::State::kFailed);
  EXPECT_NE(cell->error().find("server said no: bad val"), std::string::npos) << cell->error();
  EXPECT_EQ(notified.load(), 1);
  auto letters = h.letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].kind, "obj_create");
  EXPECT_EQ(letters[0].object_id, "x");  // the request the store gave back, not a moved-from one
  EXPECT_EQ(letters[0].reason.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(h.writer.failures(), 1u);
  EXPECT_EQ(h.writer.failures(kObj), 1u);
  EXPECT_EQ(h.writer.dead_lettered(), 1u);
  EXPECT_EQ(h.writer.kept_by_store(), 0u);
  EXPECT_EQ(h.writer.lost(), 0u);
  EXPECT_EQ(h.writer.written(kObj), 0u);
  EXPECT_EQ(h.writer.store_digests(), 0u);
  EXPECT_EQ(h.writer.in_flight(), 0u);
  h.writer.stop(in(milliseconds(5'000)));
  EXPECT_EQ(h.letters().size(), 1u);
}

TEST(StoreWriterAsync, FailedButKeptByTheStoreIsNotDeadLettered) {
  Script s;
  s.answer = Script::Answer::kFailKept;
  s.fail_status = Status::unavailable("server down; kept in the outbox");
  Harness h(std::move(s));
  h.writer.start();
  h.writer.submit(h.item("x"));
  EpochOutcome out = h.flush();
  ASSERT_TRUE(out.drained);
  EXPECT_EQ(out.written, 0u);
  EXPECT_EQ(out.failed, 1u);
  EXPECT_EQ(h.writer.kept_by_store(), 1u);
  EXPECT_EQ(h.writer.failures(), 1u);
  EXPECT_EQ(h.writer.dead_lettered(), 0u);
  EXPECT_EQ(h.writer.lost(), 0u);
  EXPECT_EQ(h.writer.in_flight(), 0u);
  h.writer.stop(in(milliseconds(5'000)));
  EXPECT_TRUE(h.letters().empty());
}

TEST(StoreWriterAsync, TransientRefusalAtSendIsRetriedUntilAccepted) {
  Script s;
  s.refuse_first = 2;
  s.refuse_status = Status::unavailable("outbox busy");
  Harness h(std::move(s));
  h.writer.start();
  h.writer.submit(h.item("x"));
  EpochOutcome out = h.flush();
  ASSERT_TRUE(out.drained);
  EXPECT_EQ(out.written, 1u);
  EXPECT_EQ(out.failed, 0u);
  EXPECT_EQ(h.writer.written(kObj), 1u);
  EXPECT_EQ(h.writer.retries(), 2u);
  EXPECT_FALSE(h.writer.retrying());
  EXPECT_EQ(h.writer.failures(), 0u);
  EXPECT_EQ(h.writer.in_flight(), 0u);
  h.writer.stop(in(milliseconds(5'000)));
  EXPECT_EQ(h.store->send_calls.load(), 3);
  EXPECT_EQ(h.store->refused.load(), 2);
  EXPECT_EQ(h.store->accepted_count.load(), 1u);
  EXPECT_EQ(h.store->duplicate_tickets.load(), 0u);
  EXPECT_TRUE(h.letters().empty());
}

TEST(StoreWriterAsync, InvalidRefusalAtSendIsDeadLetteredAtOnceWithoutRetry) {
  Script s;
  s.refuse_first = 1'000;
  s.refuse_status = Status::invalid_argument("request too large");
  Harness h(std::move(s));
  CellRef cell = pending_cell();
  h.writer.start();
  h.writer.submit(h.deferred("x", cell));
  EpochOutcome out = h.flush();
  ASSERT_TRUE(out.drained);
  EXPECT_EQ(out.written, 0u);
  EXPECT_EQ(out.failed, 1u);
  EXPECT_EQ(h.writer.retries(), 0u);
  EXPECT_EQ(h.writer.dead_lettered(), 1u);
  EXPECT_EQ(h.writer.failures(), 1u);
  EXPECT_EQ(h.writer.in_flight(), 0u);
  EXPECT_EQ(cell->state(), SaveCell::State::kFailed);
  auto letters = h.letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].object_id, "x");  // left in place by the refusal
  EXPECT_EQ(letters[0].reason.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(letters[0].attempts, 1u);
  h.writer.stop(in(milliseconds(5'000)));
  EXPECT_EQ(h.store->send_calls.load(), 1);
  EXPECT_EQ(h.store->accepted_count.load(), 0u);
}

TEST(StoreWriterAsync, StopWithAnswersHeldBackAbandonsThemAsKept) {
  Script s;
  s.hold = true;  // never released
  Harness h(std::move(s));
  constexpr uint64_t kHeld = 5;
  h.writer.start();
  for (uint64_t i = 0; i < kHeld; ++i) h.writer.submit(h.item("x" + std::to_string(i)));
  ASSERT_TRUE(eventually([&] { return h.writer.in_flight() == kHeld; }));
  EXPECT_EQ(h.writer.queue_depth(), kHeld);
  EXPECT_EQ(h.tracker.outstanding(), static_cast<int64_t>(kHeld));
  // A flush cannot drain while the answers are held.
  EpochOutcome early = h.tracker.flush(in(milliseconds(20)));
  EXPECT_FALSE(early.drained);

  EXPECT_EQ(h.writer.stop(in(milliseconds(100))), "");  // nothing left unsent
  EXPECT_EQ(h.store->abandon_calls.load(), 1);
  EXPECT_EQ(h.store->abandoned.load(), kHeld);
  EXPECT_EQ(h.store->answered.load(), 0u);
  EXPECT_EQ(h.writer.kept_by_store(), kHeld);
  EXPECT_EQ(h.writer.failures(), kHeld);
  EXPECT_EQ(h.writer.dead_lettered(), 0u);
  EXPECT_EQ(h.writer.lost(), 0u);
  EXPECT_EQ(h.writer.in_flight(), 0u);
  EXPECT_EQ(h.writer.queue_depth(), 0u);
  EXPECT_EQ(h.tracker.outstanding(), 0);
  EXPECT_TRUE(h.letters().empty());
  EpochOutcome out = h.flush();
  EXPECT_TRUE(out.drained);
  EXPECT_EQ(out.failed, kHeld);
  EXPECT_EQ(out.written, 0u);
}

TEST(StoreWriterAsync, ResultForATicketNeverIssuedIsDeadLetteredOnceWithoutUnderflow) {
  Script s;
  AsyncResult orphan;
  orphan.ticket = 0;
  orphan.status = Status::invalid_argument("rejected on replay");
  orphan.kept = false;
  orphan.request = obj("left-by-an-earlier-process");
  s.orphans.push_back(std::move(orphan));
  AsyncResult kept_orphan;  // failed but still in the outbox: not dead-lettered here
  kept_orphan.ticket = 0;
  kept_orphan.status = Status::unavailable("server down");
  kept_orphan.kept = true;
  kept_orphan.request = obj("still-in-the-outbox");
  s.orphans.push_back(std::move(kept_orphan));
  AsyncResult delivered_orphan;  // delivered: nothing to do
  delivered_orphan.ticket = 0;
  s.orphans.push_back(std::move(delivered_orphan));
  Harness h(std::move(s));
  h.writer.start();
  ASSERT_TRUE(eventually([&] { return h.writer.dead_lettered() == 1; }));
  EXPECT_EQ(h.writer.queue_depth(), 0u);
  // The writer's own work afterwards is counted as usual.
  h.writer.submit(h.item("mine"));
  EpochOutcome out = h.flush();
  ASSERT_TRUE(out.drained);
  EXPECT_EQ(out.written, 1u);
  EXPECT_EQ(out.failed, 0u);  // the orphan had no token: no flush counts it
  EXPECT_EQ(h.writer.stop(in(milliseconds(5'000))), "");
  auto letters = h.letters();
  ASSERT_EQ(letters.size(), 1u);
  EXPECT_EQ(letters[0].object_id, "left-by-an-earlier-process");
  EXPECT_EQ(letters[0].reason.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(h.writer.dead_lettered(), 1u);
  EXPECT_EQ(h.writer.kept_by_store(), 0u);
  EXPECT_EQ(h.writer.written(kObj), 1u);
  EXPECT_EQ(h.writer.in_flight(), 0u);
  EXPECT_EQ(h.writer.queue_depth(), 0u);
  EXPECT_EQ(h.tracker.outstanding(), 0);
}

TEST(StoreWriterAsync, TenThousandAnswersOutOfOrderEachWrittenOnceToItsOwnCell) {
  constexpr int kN = 10'000;
  Script s;
  s.hold = true;  // released once all are in flight, so answers cross batches
  s.shuffle = true;
  s.per_poll = 97;
  s.digest = [](const StoreRequest& r, uint64_t) { return "D-" + object_id_of(r); };
  StoreWriterOptions o = Harness::fast_options();
  o.batch_size = 256;
  Harness h(std::move(s), o);
  std::vector<CellRef> cells;
  cells.reserve(kN);
  h.writer.start();
  for (int i = 0; i < kN; ++i) {
    cells.push_back(pending_cell());
    h.writer.submit(h.deferred("o" + std::to_string(i), cells.back()));
  }
  ASSERT_TRUE(eventually([&] { return h.writer.in_flight() == static_cast<uint64_t>(kN); }));
  h.store->release();
  EpochOutcome out = h.flush();
  ASSERT_TRUE(out.drained);
  EXPECT_EQ(out.written, static_cast<uint64_t>(kN));
  EXPECT_EQ(out.failed, 0u);
  EXPECT_EQ(h.writer.written(kObj), static_cast<uint64_t>(kN));
  EXPECT_EQ(h.writer.store_digests(), static_cast<uint64_t>(kN));
  EXPECT_EQ(h.writer.failures(), 0u);
  EXPECT_EQ(h.writer.in_flight(), 0u);
  EXPECT_EQ(h.writer.queue_depth(), 0u);
  int wrong = 0;
  for (int i = 0; i < kN; ++i) {
    const std::string d = "D-o" + std::to_string(i);
    if (cells[i]->state() != SaveCell::State::kDone || cells[i]->digest() != d ||
        cells[i]->ref_uri() != kPrefix + d) {
      if (++wrong <= 5) ADD_FAILURE() << "cell " << i << ": " << cells[i]->ref_uri();
    }
  }
  EXPECT_EQ(wrong, 0);
  h.writer.stop(in(milliseconds(5'000)));
  EXPECT_EQ(h.store->accepted_count.load(), static_cast<uint64_t>(kN));
  EXPECT_EQ(h.store->answered.load(), static_cast<uint64_t>(kN));
  EXPECT_EQ(h.store->duplicate_tickets.load(), 0u);
  EXPECT_EQ(h.store->ended_twice.load(), 0u);
  EXPECT_EQ(h.store->abandoned.load(), 0u);
  EXPECT_GT(h.writer.batches(), 1u);
  EXPECT_TRUE(h.letters().empty());
}

}  // namespace
}  // namespace weft
