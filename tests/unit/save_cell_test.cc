// SaveCell, Waiter, CellRef and claim_cell on their own: claiming, subscribing before and
// after the result, failure, concurrent subscribers, reference counts, and the commit pins
// that keep a flush epoch open (checked with WorkTracker::outstanding()).
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <weft/value.h>

#include "runtime/core/save_cell.h"
#include "runtime/core/work_tracker.h"

namespace weft {
namespace {

using detail::CellRef;
using detail::Claim;
using detail::SaveCell;
using detail::Waiter;
using detail::claim_cell;

// Arbitrary runtime ids: every test uses fresh nodes, so they never meet a real runtime's.
constexpr uint64_t kRuntimeA = 7001;
constexpr uint64_t kRuntimeB = 7002;

// What a waiter saw, kept outside the waiter (the cell deletes waiters after notify()).
struct Seen {
  std::atomic<int> notified{0};
  std::atomic<int> destroyed{0};
  SaveCell::State state = SaveCell::State::kPending;
  std::string ref_uri;
  std::string digest;
  std::string error;
  int order = -1;  // position among the cell's notifications
};

class RecordingWaiter final : public Waiter {
 public:
  RecordingWaiter(Seen* seen, std::atomic<int>* sequence = nullptr)
      : seen_(seen), sequence_(sequence) {}
  ~RecordingWaiter() override { seen_->destroyed.fetch_add(1); }
  void notify(SaveCell& cell) override {
    seen_->state = cell.state();
    seen_->ref_uri = cell.ref_uri();
    seen_->digest = cell.digest();
    seen_->error = cell.error();
    if (sequence_ != nullptr) seen_->order = sequence_->fetch_add(1);
    seen_->notified.fetch_add(1);
  }

 private:
  Seen* seen_;
  std::atomic<int>* sequence_;
};

Value fresh_object(int i = 0) { return make_object("Thing", {{"i", Value::integer(i)}}); }

TEST(SaveCellClaim, FirstClaimOwnsSecondClaimOfTheSameRuntimeSharesTheCell) {
  Value v = fresh_object();
  Claim first = claim_cell(v, kRuntimeA);
  ASSERT_TRUE(first.cell);
  EXPECT_TRUE(first.owner);
  EXPECT_EQ(first.cell->runtime_id, kRuntimeA);
  EXPECT_EQ(first.cell->state(), SaveCell::State::kPending);
  EXPECT_FALSE(first.cell->resolved());
  // The node's reference and the claim's.
  EXPECT_EQ(first.cell->refs.load(), 2u);

  Claim second = claim_cell(v, kRuntimeA);
  EXPECT_FALSE(second.owner);
  EXPECT_EQ(second.cell.get(), first.cell.get());
  EXPECT_EQ(first.cell->refs.load(), 3u);

  // Another Value handle of the same instance (same node) finds the same cell too.
  Value alias = v;
  Claim third = claim_cell(alias, kRuntimeA);
  EXPECT_FALSE(third.owner);
  EXPECT_EQ(third.cell.get(), first.cell.get());

  // Equal content built twice is another instance: another cell.
  Value twin = fresh_object();
  Claim other = claim_cell(twin, kRuntimeA);
  EXPECT_TRUE(other.owner);
  EXPECT_NE(other.cell.get(), first.cell.get());
}

TEST(SaveCellClaim, AnotherRuntimeGetsACellOfItsOwnThatItOwns) {
  Value v = fresh_object();
  Claim a = claim_cell(v, kRuntimeA);
  ASSERT_TRUE(a.owner);

  Claim b = claim_cell(v, kRuntimeB);
  EXPECT_TRUE(b.owner);
  ASSERT_TRUE(b.cell);
  EXPECT_NE(b.cell.get(), a.cell.get());
  EXPECT_EQ(b.cell->runtime_id, kRuntimeB);
  // Attached to the node after runtime A's: the node's reference and the claim's.
  EXPECT_EQ(b.cell->refs.load(), 2u);
  // A second meeting in runtime B shares B's cell (it used to get yet another private one,
  // so an op used from two runtimes was saved again by every call of the second).
  Claim b_again = claim_cell(v, kRuntimeB);
  EXPECT_FALSE(b_again.owner);
  EXPECT_EQ(b_again.cell.get(), b.cell.get());
  // The node still carries runtime A's cell, untouched.
  EXPECT_EQ(a.cell->refs.load(), 2u);
  Claim a_again = claim_cell(v, kRuntimeA);
  EXPECT_FALSE(a_again.owner);
  EXPECT_EQ(a_again.cell.get(), a.cell.get());

  // Resolving the private cell does not resolve runtime A's.
  b.cell->resolve("weave:///b/proj/object/Thing:bbb", "bbb");
  EXPECT_TRUE(b.cell->resolved());
  EXPECT_FALSE(a.cell->resolved());
}

TEST(SaveCellSubscribe, WaiterSubscribedBeforeResolveIsNotifiedOnceWithTheResult) {
  Value v = fresh_object();
  Claim c = claim_cell(v, kRuntimeA);
  Seen seen;
  ASSERT_TRUE(c.cell->subscribe(new RecordingWaiter(&seen)));
  EXPECT_EQ(seen.notified.load(), 0);

  c.cell->resolve("weave:///e/p/object/Thing:abc", "abc");
  EXPECT_EQ(seen.notified.load(), 1);
  EXPECT_EQ(seen.destroyed.load(), 1);  // the cell deletes the waiter after notify()
  EXPECT_EQ(seen.state, SaveCell::State::kDone);
  EXPECT_EQ(seen.ref_uri, "weave:///e/p/object/Thing:abc");
  EXPECT_EQ(seen.digest, "abc");
  EXPECT_TRUE(seen.error.empty());

  EXPECT_EQ(c.cell->state(), SaveCell::State::kDone);
  EXPECT_EQ(c.cell->ref_uri(), "weave:///e/p/object/Thing:abc");
  EXPECT_EQ(c.cell->digest(), "abc");
}

TEST(SaveCellSubscribe, WaitersAreNotifiedInSubscriptionOrder) {
  Value v = fresh_object();
  Claim c = claim_cell(v, kRuntimeA);
  std::atomic<int> sequence{0};
  std::vector<Seen> seen(5);
  for (auto& s : seen) ASSERT_TRUE(c.cell->subscribe(new RecordingWaiter(&s, &sequence)));
  c.cell->resolve("uri", "d");
  for (size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].notified.load(), 1) << i;
    EXPECT_EQ(seen[i].order, static_cast<int>(i));
  }
}

TEST(SaveCellSubscribe, SubscribeAfterResolveReturnsFalseAndLeavesTheWaiterWithTheCaller) {
  Value v = fresh_object();
  Claim c = claim_cell(v, kRuntimeA);
  c.cell->resolve("weave:///e/p/object/Thing:xyz", "xyz");

  Seen seen;
  auto* w = new RecordingWaiter(&seen);
  EXPECT_FALSE(c.cell->subscribe(w));
  EXPECT_EQ(seen.notified.load(), 0);
  EXPECT_EQ(seen.destroyed.load(), 0);  // still ours
  delete w;
  EXPECT_EQ(seen.destroyed.load(), 1);

  // The late party reads the result directly.
  EXPECT_TRUE(c.cell->resolved());
  EXPECT_EQ(c.cell->ref_uri(), "weave:///e/p/object/Thing:xyz");
  EXPECT_EQ(c.cell->digest(), "xyz");

  // A later claimer of the same runtime sees the resolved cell, and is not the owner.
  Claim late = claim_cell(v, kRuntimeA);
  EXPECT_FALSE(late.owner);
  EXPECT_EQ(late.cell->state(), SaveCell::State::kDone);
  EXPECT_EQ(late.cell->digest(), "xyz");
}

TEST(SaveCellSubscribe, FailNotifiesWaitersWithTheErrorAndClosesTheCell) {
  Value v = fresh_object();
  Claim c = claim_cell(v, kRuntimeA);
  Seen before;
  ASSERT_TRUE(c.cell->subscribe(new RecordingWaiter(&before)));

  c.cell->fail("store is on fire");
  EXPECT_EQ(before.notified.load(), 1);
  EXPECT_EQ(before.state, SaveCell::State::kFailed);
  EXPECT_EQ(before.error, "store is on fire");
  EXPECT_TRUE(before.ref_uri.empty());

  EXPECT_TRUE(c.cell->resolved());  // "resolved" means not pending: failed counts
  EXPECT_EQ(c.cell->state(), SaveCell::State::kFailed);
  EXPECT_EQ(c.cell->error(), "store is on fire");

  Seen after;
  RecordingWaiter late(&after);
  EXPECT_FALSE(c.cell->subscribe(&late));
  EXPECT_EQ(after.notified.load(), 0);
}

TEST(SaveCellSubscribe, ManyThreadsSubscribingWhileOneResolvesEachHearExactlyOnce) {
  constexpr int kSubscribers = 8;
  constexpr int kPerThread = 200;
  for (int round = 0; round < 20; ++round) {
    Value v = fresh_object(round);
    Claim c = claim_cell(v, kRuntimeA);
    std::vector<Seen> seen(kSubscribers * kPerThread);
    std::vector<std::atomic<int>> direct(kSubscribers * kPerThread);
    std::latch start(kSubscribers + 1);
    std::vector<std::thread> threads;
    for (int t = 0; t < kSubscribers; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (int k = 0; k < kPerThread; ++k) {
          int i = t * kPerThread + k;
          auto* w = new RecordingWaiter(&seen[i]);
          if (!c.cell->subscribe(w)) {
            delete w;
            // Closed: the result must already be readable.
            if (c.cell->resolved() && c.cell->digest() == "dd") direct[i].fetch_add(1);
          }
        }
      });
    }
    std::thread resolver([&] {
      start.arrive_and_wait();
      c.cell->resolve("uri-" + std::to_string(round), "dd");
    });
    for (auto& th : threads) th.join();
    resolver.join();

    for (size_t i = 0; i < seen.size(); ++i) {
      int notified = seen[i].notified.load();
      // Each party hears exactly once: by notification or by reading the closed cell.
      ASSERT_EQ(notified + direct[i].load(), 1) << "round " << round << " waiter " << i;
      ASSERT_EQ(seen[i].destroyed.load(), 1) << "round " << round << " waiter " << i;
      if (notified == 1) {
        ASSERT_EQ(seen[i].digest, "dd");
        ASSERT_EQ(seen[i].ref_uri, "uri-" + std::to_string(round));
      }
    }
  }
}

TEST(SaveCellRefs, CellRefCopiesMovesAndAdoptsCountCorrectly) {
  auto* cell = new SaveCell(kRuntimeA);  // born with one reference
  EXPECT_EQ(cell->refs.load(), 1u);
  {
    CellRef adopted(cell, /*adopt=*/true);  // takes over the birth reference
    EXPECT_EQ(cell->refs.load(), 1u);
    CellRef copy = adopted;
    EXPECT_EQ(cell->refs.load(), 2u);
    CellRef moved = std::move(copy);
    EXPECT_EQ(cell->refs.load(), 2u);
    EXPECT_FALSE(copy);  // NOLINT(bugprone-use-after-move): moved-from is empty
    EXPECT_EQ(moved.get(), cell);
    CellRef assigned;
    EXPECT_FALSE(assigned);
    assigned = moved;
    EXPECT_EQ(cell->refs.load(), 3u);
    assigned = CellRef();
    EXPECT_EQ(cell->refs.load(), 2u);
    EXPECT_EQ(&*moved, cell);
    EXPECT_EQ(moved->runtime_id, kRuntimeA);
  }
  // The last reference dropped: the cell is gone (ASan reports a leak otherwise).
}

TEST(SaveCellRefs, CellLivesWhileReferencedAndIsFreedWithItsLastReference) {
  Seen seen;
  CellRef kept;
  {
    Value v = fresh_object();
    Claim c = claim_cell(v, kRuntimeA);
    ASSERT_TRUE(c.owner);
    ASSERT_TRUE(c.cell->subscribe(new RecordingWaiter(&seen)));
    kept = c.cell;
    EXPECT_EQ(kept->refs.load(), 3u);  // node, claim, kept
  }
  // The node (and the claim) are gone; our reference keeps the cell.
  EXPECT_EQ(kept->refs.load(), 1u);
  EXPECT_EQ(seen.destroyed.load(), 0);
  kept = CellRef();
  // Freeing the cell freed the waiter that was never notified (its owner vanished).
  EXPECT_EQ(seen.notified.load(), 0);
  EXPECT_EQ(seen.destroyed.load(), 1);
}

TEST(SaveCellRefs, NodeReleasesItsReferenceWhenTheLastValueHandleGoes) {
  Seen seen;
  {
    Value v = fresh_object();
    {
      Claim c = claim_cell(v, kRuntimeA);
      ASSERT_TRUE(c.cell->subscribe(new RecordingWaiter(&seen)));
    }
    // The claim is gone; the node's reference keeps the cell and its waiter alive.
    EXPECT_EQ(seen.destroyed.load(), 0);
    Claim again = claim_cell(v, kRuntimeA);
    EXPECT_FALSE(again.owner);
    EXPECT_EQ(again.cell->refs.load(), 2u);
  }
  EXPECT_EQ(seen.destroyed.load(), 1);
  EXPECT_EQ(seen.notified.load(), 0);
}

TEST(SaveCellPins, PinBeforeCommitHoldsTheTokenUntilMarkCommitted) {
  WorkTracker tracker(100, WorkTracker::kMaxBytes);
  Value v = fresh_object();
  Claim c = claim_cell(v, kRuntimeA);
  c.cell->resolve("uri", "d");  // digest known, write not yet committed

  WorkToken t1 = tracker.acquire(0);
  WorkToken t2 = tracker.acquire(0);
  ASSERT_TRUE(t1 && t2);
  EXPECT_EQ(tracker.outstanding(), 2);
  EXPECT_TRUE(c.cell->pin_until_committed(std::move(t1)));
  EXPECT_TRUE(c.cell->pin_until_committed(std::move(t2)));
  EXPECT_FALSE(t1);  // NOLINT(bugprone-use-after-move): the cell has it
  EXPECT_FALSE(t2);  // NOLINT(bugprone-use-after-move)
  EXPECT_EQ(tracker.outstanding(), 2);  // still held, by the cell

  c.cell->mark_committed();
  EXPECT_EQ(tracker.outstanding(), 0);

  // Idempotent.
  c.cell->mark_committed();
  EXPECT_EQ(tracker.outstanding(), 0);
}

TEST(SaveCellPins, PinAfterCommitIsRefusedAndTheTokenStaysWithTheCaller) {
  WorkTracker tracker(100, WorkTracker::kMaxBytes);
  Value v = fresh_object();
  Claim c = claim_cell(v, kRuntimeA);
  c.cell->resolve("uri", "d");
  c.cell->mark_committed();

  WorkToken t = tracker.acquire(0);
  ASSERT_TRUE(t);
  EXPECT_FALSE(c.cell->pin_until_committed(std::move(t)));
  EXPECT_TRUE(t);  // NOLINT(bugprone-use-after-move): handed back
  EXPECT_EQ(tracker.outstanding(), 1);
  t.reset();
  EXPECT_EQ(tracker.outstanding(), 0);
}

TEST(SaveCellPins, FailReleasesPins) {
  WorkTracker tracker(100, WorkTracker::kMaxBytes);
  Value v = fresh_object();
  Claim c = claim_cell(v, kRuntimeA);
  EXPECT_TRUE(c.cell->pin_until_committed(tracker.acquire(0)));
  EXPECT_EQ(tracker.outstanding(), 1);
  c.cell->fail("nothing will be written");
  EXPECT_EQ(tracker.outstanding(), 0);
  // And refuses later pins.
  WorkToken t = tracker.acquire(0);
  EXPECT_FALSE(c.cell->pin_until_committed(std::move(t)));
  EXPECT_TRUE(t);  // NOLINT(bugprone-use-after-move)
}

TEST(SaveCellPins, FreeingAnUncommittedCellReleasesItsPins) {
  WorkTracker tracker(100, WorkTracker::kMaxBytes);
  {
    Value v = fresh_object();
    Claim c = claim_cell(v, kRuntimeA);
    EXPECT_TRUE(c.cell->pin_until_committed(tracker.acquire(0)));
    EXPECT_TRUE(c.cell->pin_until_committed(tracker.acquire_unbounded()));
    EXPECT_EQ(tracker.outstanding(), 2);
  }
  EXPECT_EQ(tracker.outstanding(), 0);
}

TEST(SaveCellPins, PinsFromConcurrentThreadsAreAllReleasedOrHandedBack) {
  WorkTracker tracker(1'000'000, WorkTracker::kMaxBytes);
  for (int round = 0; round < 20; ++round) {
    Value v = fresh_object(round);
    Claim c = claim_cell(v, kRuntimeA);
    c.cell->resolve("uri", "d");
    constexpr int kThreads = 4;
    constexpr int kPerThread = 250;
    std::latch start(kThreads + 1);
    std::atomic<int> refused{0};
    std::vector<WorkToken> handed_back[kThreads];
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        start.arrive_and_wait();
        for (int k = 0; k < kPerThread; ++k) {
          WorkToken tok = tracker.acquire(0);
          if (!c.cell->pin_until_committed(std::move(tok))) {
            refused.fetch_add(1);
            handed_back[t].push_back(std::move(tok));  // NOLINT(bugprone-use-after-move)
          }
        }
      });
    }
    std::thread committer([&] {
      start.arrive_and_wait();
      c.cell->mark_committed();
    });
    for (auto& th : threads) th.join();
    committer.join();
    // Pinned tokens were released at commit; refused ones are exactly the ones handed back.
    EXPECT_EQ(tracker.outstanding(), refused.load());
    for (auto& v_t : handed_back)
      for (auto& tok : v_t) EXPECT_TRUE(tok);
    for (auto& v_t : handed_back) v_t.clear();
    EXPECT_EQ(tracker.outstanding(), 0);
  }
}

}  // namespace
}  // namespace weft
