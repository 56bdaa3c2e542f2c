// WorkTracker and WorkToken on their own: the backpressure limit, derived work, token
// moves, and flush's two-epoch wait (work accepted after a flush started never delays it).
// The only deadlines here are flush's own: a short one where flush must give up, a long
// one (never reached) where another thread's release must let it finish.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <utility>
#include <vector>

#include "runtime/core/work_tracker.h"

namespace weft {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A deadline flush must not reach in a passing test.
Clock::time_point far() { return Clock::now() + 60s; }

// Spins (no sleeping) until a fresh token lands in an epoch other than `old`, i.e. until a
// flush running on another thread has closed `old`; returns that token.
WorkToken token_after_flip(WorkTracker& t, uint8_t old) {
  for (;;) {
    WorkToken probe = t.acquire_unbounded();
    if (probe.epoch() != old) return probe;
    probe.reset();
    std::this_thread::yield();
  }
}

TEST(WorkTracker, AcquireRefusesAtExactlyTheLimit) {
  WorkTracker t(3, WorkTracker::kMaxBytes);
  std::vector<WorkToken> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(t.acquire(0));
    ASSERT_TRUE(held.back()) << i;
  }
  EXPECT_EQ(t.outstanding(), 3);
  WorkToken refused = t.acquire(0);
  EXPECT_FALSE(refused);
  EXPECT_EQ(t.outstanding(), 3);  // the refusal undid its increment
  EXPECT_FALSE(t.acquire(0));
  EXPECT_EQ(t.outstanding(), 3);

  held.pop_back();  // one unit done: room for exactly one more
  EXPECT_EQ(t.outstanding(), 2);
  WorkToken again = t.acquire(0);
  EXPECT_TRUE(again);
  EXPECT_FALSE(t.acquire(0));
  EXPECT_EQ(t.outstanding(), 3);
}

TEST(WorkTracker, LimitOfOneAdmitsOneAtATime) {
  WorkTracker t(1, WorkTracker::kMaxBytes);
  WorkToken a = t.acquire(0);
  EXPECT_TRUE(a);
  EXPECT_FALSE(t.acquire(0));
  a.reset();
  EXPECT_TRUE(t.acquire(0));  // released at once (a temporary)
  EXPECT_EQ(t.outstanding(), 0);
}

TEST(WorkTracker, AcquireUnboundedAndDerivedWorkIgnoreTheLimit) {
  WorkTracker t(2, WorkTracker::kMaxBytes);
  WorkToken a = t.acquire(0);
  WorkToken b = t.acquire(0);
  ASSERT_FALSE(t.acquire(0));
  std::vector<WorkToken> extra;
  for (int i = 0; i < 5; ++i) {
    extra.push_back(t.acquire_unbounded());
    EXPECT_TRUE(extra.back());
  }
  extra.push_back(a.derive());
  EXPECT_TRUE(extra.back());
  EXPECT_EQ(t.outstanding(), 8);
  EXPECT_EQ(t.events_held(), 2u);  // derived work is not an event: the limit counts events
  EXPECT_FALSE(t.acquire(0));
  extra.clear();
  EXPECT_FALSE(t.acquire(0));  // still two events held
  a.reset();
  EXPECT_EQ(t.outstanding(), 1);
  EXPECT_TRUE(t.acquire(0));
}

TEST(WorkTracker, BytesAreAHardLimitToo) {
  WorkTracker t(100, 1000);
  Refusal why = Refusal::kNone;
  WorkToken a = t.acquire(600, &why);
  ASSERT_TRUE(a);
  EXPECT_EQ(t.bytes_held(), 600u);
  EXPECT_FALSE(t.acquire(401, &why));  // 1001 > 1000: refused whole
  EXPECT_EQ(why, Refusal::kTooManyBytes);
  EXPECT_EQ(t.bytes_held(), 600u);
  EXPECT_EQ(t.events_held(), 1u);
  WorkToken b = t.acquire(400, &why);  // exactly at the limit: admitted
  ASSERT_TRUE(b);
  EXPECT_EQ(t.bytes_held(), 1000u);
  WorkToken moved = std::move(a);  // the charge travels with the token
  EXPECT_EQ(t.bytes_held(), 1000u);
  moved.reset();
  EXPECT_EQ(t.bytes_held(), 400u);
  EXPECT_EQ(t.events_held(), 1u);
  // A forced charge (a call's end) is never refused, and then blocks new events.
  WorkToken forced = t.acquire_forced(700);
  EXPECT_TRUE(forced);
  EXPECT_EQ(t.bytes_held(), 1100u);
  EXPECT_FALSE(t.acquire(0, &why));
  EXPECT_EQ(why, Refusal::kTooManyBytes);
  forced.reset();
  b.reset();
  EXPECT_EQ(t.bytes_held(), 0u);
  EXPECT_EQ(t.events_held(), 0u);
}

TEST(WorkTracker, EventsLimitIsExactAcrossEpochs) {
  WorkTracker t(4, WorkTracker::kMaxBytes);
  std::vector<WorkToken> held;
  for (int i = 0; i < 2; ++i) held.push_back(t.acquire(0));
  EXPECT_FALSE(t.flush(std::chrono::steady_clock::now()).drained);  // flips the epoch
  for (int i = 0; i < 2; ++i) held.push_back(t.acquire(0));
  ASSERT_EQ(held.size(), 4u);
  for (const auto& h : held) EXPECT_TRUE(h);
  Refusal why = Refusal::kNone;
  EXPECT_FALSE(t.acquire(0, &why));  // two per epoch, four in all: the limit is the sum
  EXPECT_EQ(why, Refusal::kTooManyEvents);
}

TEST(WorkTracker, FlushReportsWrittenAndFailedOfItsEpoch) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  WorkToken a = t.acquire(0);
  WorkToken b = t.acquire(0);
  WorkToken c = t.acquire(0);
  t.record_written(a.epoch());
  a.reset();
  t.record_failed(b.epoch());
  b.reset();
  EpochOutcome held = t.flush(std::chrono::steady_clock::now());
  EXPECT_FALSE(held.drained);
  EXPECT_EQ(held.written, 1u);
  EXPECT_EQ(held.failed, 1u);
  EXPECT_EQ(held.pending, 1);
  WorkToken later = t.acquire(0);  // accepted after the first flush: in the other epoch
  EXPECT_NE(later.epoch(), c.epoch());
  t.record_written(later.epoch());
  later.reset();
  t.record_written(c.epoch());
  c.reset();
  // The second flush waits for the first one's stragglers (c) and for its own epoch
  // (later): it reports all of them, the counts the first flush saw included.
  EpochOutcome done = t.flush(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  EXPECT_TRUE(done.drained);
  EXPECT_EQ(done.written, 3u);
  EXPECT_EQ(done.failed, 1u);
  EXPECT_EQ(done.pending, 0);
  // Taken: a third flush has nothing to report.
  EpochOutcome empty = t.flush(std::chrono::steady_clock::now());
  EXPECT_TRUE(empty.drained);
  EXPECT_EQ(empty.written + empty.failed, 0u);
}

TEST(WorkTracker, DeriveStaysInTheTokensEpochAfterAFlushClosedIt) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  WorkToken old = t.acquire(0);
  ASSERT_TRUE(old);
  const uint8_t e = old.epoch();
  // Gives up at its deadline (old is held) but has closed e.
  EXPECT_FALSE(t.flush(Clock::now() + 20ms).drained);
  WorkToken fresh = t.acquire(0);
  ASSERT_TRUE(fresh);
  EXPECT_NE(fresh.epoch(), e);

  WorkToken derived = old.derive();
  ASSERT_TRUE(derived);
  EXPECT_EQ(derived.epoch(), e);
  EXPECT_EQ(fresh.derive().epoch(), fresh.epoch());
  EXPECT_EQ(t.outstanding(), 3);

  // An empty token derives nothing.
  WorkToken empty;
  EXPECT_FALSE(empty.derive());
  EXPECT_EQ(t.outstanding(), 3);
}

TEST(WorkTracker, TokenMoveSemantics) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  WorkToken a = t.acquire(0);
  ASSERT_TRUE(a);
  const uint8_t e = a.epoch();

  WorkToken b(std::move(a));
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_TRUE(b);
  EXPECT_EQ(b.epoch(), e);
  EXPECT_EQ(t.outstanding(), 1);
  a.reset();  // resetting an empty token releases nothing
  EXPECT_EQ(t.outstanding(), 1);

  // Move-assigning over a live token releases the overwritten one.
  WorkToken c = t.acquire(0);
  EXPECT_EQ(t.outstanding(), 2);
  c = std::move(b);
  EXPECT_FALSE(b);  // NOLINT(bugprone-use-after-move)
  EXPECT_TRUE(c);
  EXPECT_EQ(t.outstanding(), 1);

  // Self-move-assignment keeps the token.
  WorkToken& alias = c;
  c = std::move(alias);
  EXPECT_TRUE(c);
  EXPECT_EQ(t.outstanding(), 1);

  // Move-assigning an empty token releases the target.
  c = WorkToken();
  EXPECT_FALSE(c);
  EXPECT_EQ(t.outstanding(), 0);

  // Destruction releases; reset twice releases once.
  {
    WorkToken d = t.acquire(0);
    EXPECT_EQ(t.outstanding(), 1);
  }
  EXPECT_EQ(t.outstanding(), 0);
  WorkToken f = t.acquire(0);
  f.reset();
  f.reset();
  EXPECT_EQ(t.outstanding(), 0);

  // Tokens move into containers and out again without changing the count.
  std::vector<WorkToken> v;
  for (int i = 0; i < 10; ++i) v.push_back(t.acquire(0));  // reallocations move them
  EXPECT_EQ(t.outstanding(), 10);
  WorkToken taken = std::move(v.back());
  v.pop_back();
  EXPECT_EQ(t.outstanding(), 10);
  v.clear();
  EXPECT_EQ(t.outstanding(), 1);
}

TEST(WorkTracker, OutstandingCountsBothEpochs) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  EXPECT_EQ(t.outstanding(), 0);
  WorkToken a = t.acquire(0);
  WorkToken b = t.acquire(0);
  EXPECT_EQ(t.outstanding(), 2);
  EXPECT_FALSE(t.flush(Clock::now() + 20ms).drained);  // closes a's and b's epoch
  WorkToken c = t.acquire(0);
  ASSERT_NE(c.epoch(), a.epoch());
  EXPECT_EQ(t.outstanding(), 3);
  a.reset();
  EXPECT_EQ(t.outstanding(), 2);
  c.reset();
  EXPECT_EQ(t.outstanding(), 1);
  b.reset();
  EXPECT_EQ(t.outstanding(), 0);
}

TEST(WorkTrackerFlush, ReturnsTrueAtOnceWithNothingOutstanding) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  // A deadline that has already come: with nothing to wait for, flush never looks at it.
  EXPECT_TRUE(t.flush(Clock::now()).drained);
  EXPECT_TRUE(t.flush(Clock::now() - 1s).drained);
  // Work that came and went before the flush does not count either.
  { WorkToken a = t.acquire(0); }
  EXPECT_TRUE(t.flush(Clock::now()).drained);
  EXPECT_EQ(t.outstanding(), 0);
}

TEST(WorkTrackerFlush, ReturnsFalseAtTheDeadlineWhileAClosedEpochTokenIsHeld) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  WorkToken held = t.acquire(0);
  EXPECT_FALSE(t.flush(Clock::now() + 20ms).drained);
  // Still false on a second try: the straggler of the epoch the first flush closed was
  // accepted before this call too.
  EXPECT_FALSE(t.flush(Clock::now() + 20ms).drained);
  EXPECT_EQ(t.outstanding(), 1);
  held.reset();
  EXPECT_TRUE(t.flush(Clock::now()).drained);
}

TEST(WorkTrackerFlush, ReturnsTrueOnceTheTokenIsReleasedFromAnotherThread) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  WorkToken held = t.acquire(0);
  const uint8_t e = held.epoch();
  bool flushed = false;
  std::thread flusher([&] { flushed = t.flush(far()).drained; });
  // Wait (spinning, no sleep) until the flush has closed e, so it is really waiting on us.
  token_after_flip(t, e).reset();
  std::thread releaser([&] { held.reset(); });
  releaser.join();
  flusher.join();
  EXPECT_TRUE(flushed);
  EXPECT_EQ(t.outstanding(), 0);
}

TEST(WorkTrackerFlush, WorkAcquiredAfterTheFlushStartedDoesNotDelayIt) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  WorkToken old_a = t.acquire(0);
  WorkToken old_b = t.acquire(0);
  const uint8_t e = old_a.epoch();
  bool flushed = false;
  std::thread flusher([&] { flushed = t.flush(far()).drained; });

  // New work, in the epoch the flush opened: held throughout.
  WorkToken new_work = token_after_flip(t, e);
  WorkToken new_bounded = t.acquire(0);
  ASSERT_TRUE(new_bounded);
  EXPECT_EQ(new_bounded.epoch(), new_work.epoch());
  WorkToken new_derived = new_work.derive();
  // Old work derived after the flush started stays in the old epoch: it does delay it.
  WorkToken old_derived = old_a.derive();
  EXPECT_EQ(old_derived.epoch(), e);

  std::thread releaser([&] {
    old_a.reset();
    old_b.reset();
    old_derived.reset();
  });
  releaser.join();
  flusher.join();
  EXPECT_TRUE(flushed);
  EXPECT_EQ(t.outstanding(), 3);  // the new epoch's work, still held
}

TEST(WorkTrackerFlush, ASecondFlushWaitsForTheFirstFlushsNewEpochToo) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  WorkToken a = t.acquire(0);
  EXPECT_FALSE(t.flush(Clock::now() + 20ms).drained);  // closes a's epoch
  WorkToken b = t.acquire(0);                    // the new epoch
  ASSERT_NE(a.epoch(), b.epoch());
  a.reset();
  // b was accepted before this flush: it must wait for b as well.
  EXPECT_FALSE(t.flush(Clock::now() + 20ms).drained);
  bool flushed = false;
  std::thread flusher([&] { flushed = t.flush(far()).drained; });
  std::thread releaser([&] { b.reset(); });
  releaser.join();
  flusher.join();
  EXPECT_TRUE(flushed);
}

// The counts are per thread (work_tracker.h): a unit is counted as taken on the thread that
// took it and as released on the thread that released it. Here a chain of units hops around
// three threads (each taken on one, its successor derived on the next, released on the one
// after), so one unit is always held: every flush meanwhile must give up at its short
// deadline, never report the epoch drained. Then the chain is released and a flush drains
// with nothing outstanding: every take met its release, whichever threads counted them.
TEST(WorkTrackerFlush, UnitsHoppingAcrossThreadsNeverReadAsDrained) {
  WorkTracker t(100, WorkTracker::kMaxBytes);
  struct Msg {
    WorkToken old, cur;
  };
  constexpr int kThreads = 3;
  std::atomic<Msg*> inbox[kThreads] = {};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> hops{0};
  inbox[0].store(new Msg{WorkToken(), t.acquire(0)});
  std::vector<std::thread> relay;
  for (int k = 0; k < kThreads; ++k) {
    relay.emplace_back([&, k] {
      while (!stop.load(std::memory_order_acquire)) {
        Msg* m = inbox[k].exchange(nullptr, std::memory_order_acq_rel);
        if (m == nullptr) {
          std::this_thread::yield();
          continue;
        }
        m->old.reset();                  // taken two threads back, released here
        WorkToken next = m->cur.derive();  // taken here, while cur is still held
        inbox[(k + 1) % kThreads].store(new Msg{std::move(m->cur), std::move(next)},
                                        std::memory_order_release);
        delete m;
        hops.fetch_add(1, std::memory_order_relaxed);
      }
    });
  }
  int early = 0;
  for (int i = 0; i < 200; ++i)
    if (t.flush(Clock::now() + 1ms).drained) ++early;
  stop.store(true, std::memory_order_release);
  for (auto& th : relay) th.join();
  for (auto& box : inbox) delete box.exchange(nullptr);
  EXPECT_EQ(early, 0) << "a flush read the epoch as drained while a unit was held";
  EXPECT_GT(hops.load(), 0u);
  EXPECT_TRUE(t.flush(far()).drained);
  EXPECT_EQ(t.outstanding(), 0);
}

}  // namespace
}  // namespace weft
