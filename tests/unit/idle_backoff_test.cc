// IdleBackoff and IdleWaker (runtime/core/idle_backoff.h): sleeps that double up to their
// longest, and a poke that ends a sleep at once rather than at its end.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

#include "runtime/core/idle_backoff.h"

namespace weft {
namespace {

using namespace std::chrono_literals;

TEST(IdleWaker, APokeBeforeTheParkIsNotLost) {
  IdleWaker w;
  w.wake();
  EXPECT_TRUE(w.park_for(30s));   // returns at once: the poke was kept
  EXPECT_FALSE(w.park_for(1ms));  // and used up
}

TEST(IdleWaker, APokeFromAnotherThreadEndsThePark) {
  IdleWaker w;
  std::thread poker([&] { w.wake(); });
  // Whether the poke lands before or during the park, it ends it (a lost poke would
  // sleep the whole 30 s and return false).
  EXPECT_TRUE(w.park_for(30s));
  poker.join();
}

TEST(IdleBackoff, SleepsOnlyAfterItsYieldsAndAPokeEndsTheSleep) {
  IdleWaker w;
  IdleBackoff idle(&w, /*longest=*/30s, /*first=*/30s);
  for (int i = 0; i < IdleBackoff::kYields; ++i) idle.wait();  // the yields of a new spell: no sleep
  EXPECT_EQ(idle.last_sleep(), 0us);
  w.wake();
  idle.wait();  // sleeps (30 s), and the poke ends it at once: a lost poke fails the test's deadline
  EXPECT_EQ(idle.last_sleep(), 30s);
  idle.reset();  // work found: the next spell starts with its yields again
  EXPECT_EQ(idle.last_sleep(), 0us);
}

TEST(IdleBackoff, StepsDoubleUpToTheLongestAndALimitCapsOneStep) {
  IdleBackoff idle(nullptr, /*longest=*/8us, /*first=*/1us);
  for (int i = 0; i < IdleBackoff::kYields; ++i) idle.wait();
  std::vector<std::chrono::microseconds> steps;
  for (int i = 0; i < 6; ++i) {
    idle.wait();
    steps.push_back(idle.last_sleep());
  }
  EXPECT_EQ(steps, (std::vector<std::chrono::microseconds>{1us, 2us, 4us, 8us, 8us, 8us}));
  idle.wait(/*limit=*/3us);  // a retry due in 3 µs: this step only
  EXPECT_EQ(idle.last_sleep(), 3us);
  idle.wait();
  EXPECT_EQ(idle.last_sleep(), 8us);
}

TEST(IdleBackoff, APokeStartsTheStepsAgainFromTheFirst) {
  IdleWaker w;
  IdleBackoff idle(&w, /*longest=*/30s, /*first=*/1us);
  for (int i = 0; i < IdleBackoff::kYields + 10; ++i) idle.wait();  // yields, then 1, 2, ... 512 µs
  EXPECT_EQ(idle.last_sleep(), 512us);
  w.wake();
  idle.wait();  // ends at once (poked)
  idle.wait();  // back to the first step: work is likely coming
  EXPECT_EQ(idle.last_sleep(), 1us);
}

}  // namespace
}  // namespace weft
