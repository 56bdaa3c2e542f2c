// WorkTracker and WorkToken on their own: the backpressure limit, derived work, token
// moves, and flush's two-epoch wait (work accepted after a flush started never delays it).
// The only deadlines here are flush's own: a short one where flush must give up, a long
// one (never reached) where another thread's release must let it finish.
#include <gtest/gtest.h>

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
  WorkTracker t(3);
  std::vector<WorkToken> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(t.acquire());
    ASSERT_TRUE(held.back()) << i;
  }
  EXPECT_EQ(t.outstanding(), 3);
  WorkToken refused = t.acquire();
  EXPECT_FALSE(refused);
  EXPECT_EQ(t.outstanding(), 3);  // the refusal undid its increment
  EXPECT_FALSE(t.acquire());
  EXPECT_EQ(t.outstanding(), 3);

  held.pop_back();  // one unit done: room for exactly one more
  EXPECT_EQ(t.outstanding(), 2);
  WorkToken again = t.acquire();
  EXPECT_TRUE(again);
  EXPECT_FALSE(t.acquire());
  EXPECT_EQ(t.outstanding(), 3);
}

TEST(WorkTracker, LimitOfOneAdmitsOneAtATime) {
  WorkTracker t(1);
  WorkToken a = t.acquire();
  EXPECT_TRUE(a);
  EXPECT_FALSE(t.acquire());
  a.reset();
  EXPECT_TRUE(t.acquire());  // released at once (a temporary)
  EXPECT_EQ(t.outstanding(), 0);
}

TEST(WorkTracker, AcquireUnboundedAndDerivedWorkIgnoreTheLimit) {
  WorkTracker t(2);
  WorkToken a = t.acquire();
  WorkToken b = t.acquire();
  ASSERT_FALSE(t.acquire());
  std::vector<WorkToken> extra;
  for (int i = 0; i < 5; ++i) {
    extra.push_back(t.acquire_unbounded());
    EXPECT_TRUE(extra.back());
  }
  extra.push_back(a.derive());
  EXPECT_TRUE(extra.back());
  extra.push_back(t.acquire_in(a.epoch()));
  EXPECT_TRUE(extra.back());
  EXPECT_EQ(t.outstanding(), 9);
  // ... but they count against it: the bounded acquire still refuses.
  EXPECT_FALSE(t.acquire());
  extra.clear();
  a.reset();
  EXPECT_EQ(t.outstanding(), 1);
  EXPECT_TRUE(t.acquire());
}

TEST(WorkTracker, DeriveStaysInTheTokensEpochAfterAFlushClosedIt) {
  WorkTracker t(100);
  WorkToken old = t.acquire();
  ASSERT_TRUE(old);
  const uint8_t e = old.epoch();
  // Gives up at its deadline (old is held) but has closed e.
  EXPECT_FALSE(t.flush(Clock::now() + 20ms));
  WorkToken fresh = t.acquire();
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
  WorkTracker t(100);
  WorkToken a = t.acquire();
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
  WorkToken c = t.acquire();
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
    WorkToken d = t.acquire();
    EXPECT_EQ(t.outstanding(), 1);
  }
  EXPECT_EQ(t.outstanding(), 0);
  WorkToken f = t.acquire();
  f.reset();
  f.reset();
  EXPECT_EQ(t.outstanding(), 0);

  // Tokens move into containers and out again without changing the count.
  std::vector<WorkToken> v;
  for (int i = 0; i < 10; ++i) v.push_back(t.acquire());  // reallocations move them
  EXPECT_EQ(t.outstanding(), 10);
  WorkToken taken = std::move(v.back());
  v.pop_back();
  EXPECT_EQ(t.outstanding(), 10);
  v.clear();
  EXPECT_EQ(t.outstanding(), 1);
}

TEST(WorkTracker, OutstandingCountsBothEpochs) {
  WorkTracker t(100);
  EXPECT_EQ(t.outstanding(), 0);
  WorkToken a = t.acquire();
  WorkToken b = t.acquire();
  EXPECT_EQ(t.outstanding(), 2);
  EXPECT_FALSE(t.flush(Clock::now() + 20ms));  // closes a's and b's epoch
  WorkToken c = t.acquire();
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
  WorkTracker t(100);
  // A deadline that has already come: with nothing to wait for, flush never looks at it.
  EXPECT_TRUE(t.flush(Clock::now()));
  EXPECT_TRUE(t.flush(Clock::now() - 1s));
  // Work that came and went before the flush does not count either.
  { WorkToken a = t.acquire(); }
  EXPECT_TRUE(t.flush(Clock::now()));
  EXPECT_EQ(t.outstanding(), 0);
}

TEST(WorkTrackerFlush, ReturnsFalseAtTheDeadlineWhileAClosedEpochTokenIsHeld) {
  WorkTracker t(100);
  WorkToken held = t.acquire();
  EXPECT_FALSE(t.flush(Clock::now() + 20ms));
  // Still false on a second try: the straggler of the epoch the first flush closed was
  // accepted before this call too.
  EXPECT_FALSE(t.flush(Clock::now() + 20ms));
  EXPECT_EQ(t.outstanding(), 1);
  held.reset();
  EXPECT_TRUE(t.flush(Clock::now()));
}

TEST(WorkTrackerFlush, ReturnsTrueOnceTheTokenIsReleasedFromAnotherThread) {
  WorkTracker t(100);
  WorkToken held = t.acquire();
  const uint8_t e = held.epoch();
  bool flushed = false;
  std::thread flusher([&] { flushed = t.flush(far()); });
  // Wait (spinning, no sleep) until the flush has closed e, so it is really waiting on us.
  token_after_flip(t, e).reset();
  std::thread releaser([&] { held.reset(); });
  releaser.join();
  flusher.join();
  EXPECT_TRUE(flushed);
  EXPECT_EQ(t.outstanding(), 0);
}

TEST(WorkTrackerFlush, WorkAcquiredAfterTheFlushStartedDoesNotDelayIt) {
  WorkTracker t(100);
  WorkToken old_a = t.acquire();
  WorkToken old_b = t.acquire();
  const uint8_t e = old_a.epoch();
  bool flushed = false;
  std::thread flusher([&] { flushed = t.flush(far()); });

  // New work, in the epoch the flush opened: held throughout.
  WorkToken new_work = token_after_flip(t, e);
  WorkToken new_bounded = t.acquire();
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
  WorkTracker t(100);
  WorkToken a = t.acquire();
  EXPECT_FALSE(t.flush(Clock::now() + 20ms));  // closes a's epoch
  WorkToken b = t.acquire();                    // the new epoch
  ASSERT_NE(a.epoch(), b.epoch());
  a.reset();
  // b was accepted before this flush: it must wait for b as well.
  EXPECT_FALSE(t.flush(Clock::now() + 20ms));
  bool flushed = false;
  std::thread flusher([&] { flushed = t.flush(far()); });
  std::thread releaser([&] { b.reset(); });
  releaser.join();
  flusher.join();
  EXPECT_TRUE(flushed);
}

}  // namespace
}  // namespace weft
