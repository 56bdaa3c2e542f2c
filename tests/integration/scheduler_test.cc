// weft's CAF scheduler module (actors/scheduler.h): actors' cleanup never pushes to CAF's
// clock thread. In CAF 0.17 every actor's cleanup cancels its timeouts through the clock, a
// mutex-guarded ring whose pusher blocks while it is full; weft's clock drops those
// cancellations while no timer was ever set, and weft sets none on this path.
#include <gtest/gtest.h>

#include <weft/runtime.h>

#include "actors/scheduler.h"
#include "tests/support/test_support.h"

namespace weft {
namespace {

using testing::TempStore;
using testing::test_config;
using testing::test_op;

TEST(Scheduler, ActorsCleanupNeverPushesToTheClock) {
  TempStore store;
  constexpr int kCalls = 300;
  const ClockCounts before = clock_counts();
  uint64_t objects = 0, calls = 0;
  {
    Runtime rt(test_config(store));
    for (int i = 0; i < kCalls; ++i) {
      Call c = rt.start_call(test_op(), Value::dict({{"i", Value::integer(i)}}));
      Value usage = make_object("Usage", {{"tokens", Value::integer(i)}});
      ASSERT_TRUE(c.finish(make_object("Reply", {{"usage", usage}, {"n", Value::integer(i)}})).is_ok());
    }
    ASSERT_TRUE(rt.flush(std::chrono::seconds(60)).complete);
    RuntimeStats s = rt.stats();
    objects = s.obj_create;
    calls = s.call_end;
  }
  const ClockCounts after = clock_counts();
  EXPECT_EQ(calls, static_cast<uint64_t>(kCalls));
  EXPECT_EQ(objects, 2u * kCalls + 1);  // Reply and Usage, each its own actor, and the op
  // Not one timer operation reached CAF's clock thread...
  EXPECT_EQ(after.pushes - before.pushes, 0u);
  // ...though every actor (a call and its two objects, at least) cancelled at its cleanup.
  EXPECT_GE(after.skipped_cancels - before.skipped_cancels, 3u * kCalls);
}

}  // namespace
}  // namespace weft
