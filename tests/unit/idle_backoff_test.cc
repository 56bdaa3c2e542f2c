// IdleBackoff and IdleWaker (runtime/core/idle_backoff.h): a thread idle past `deep_after`
// parks, and a poke ends the park at once rather than at its cap.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

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

TEST(IdleBackoff, ParksOnlyAfterItsYieldsAndAPokeEndsThePark) {
  IdleWaker w;
  IdleBackoff idle(1us, &w, /*deep_cap=*/30s, /*deep_after=*/0us);
  for (int i = 0; i < 32; ++i) idle.wait();  // the yields of a new spell: no park
  EXPECT_FALSE(idle.parked());
  w.wake();
  idle.wait();  // past deep_after (0): parks, and the poke ends it at once, not in 30 s
  EXPECT_TRUE(idle.parked());
  idle.reset();  // work found: the next spell starts with its yields again
  EXPECT_FALSE(idle.parked());
}

TEST(IdleBackoff, WithoutAWakerItNeverParks) {
  IdleBackoff idle(1us, nullptr, 30s, 0us);
  for (int i = 0; i < 100; ++i) idle.wait();
  EXPECT_FALSE(idle.parked());
}

}  // namespace
}  // namespace weft
