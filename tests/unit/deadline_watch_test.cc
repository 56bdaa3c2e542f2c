// DeadlineWatch (actors/deadline_watch.h) on its own: with nothing watched it sleeps half
// the timeout (30 s here), and a registration must end that sleep, since the registered
// weak handle keeps the actor's memory until a sweep drops it. The test registers an actor
// that is not (any more) waiting and waits, with a deadline far below the long sleep, for
// the sweep that drops it.
#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <chrono>
#include <thread>

#include "actors/deadline_watch.h"
#include "tests/support/caf_test_system.h"

namespace weft {
namespace {

bool dropped_within(const InstanceSlot& slot, std::chrono::seconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (slot.deadline_watched.load(std::memory_order_acquire)) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(DeadlineWatch, ARegistrationEndsTheLongIdleSleep) {
  caf::actor_system_config cfg = testing::sharing_system_config(1);
  caf::actor_system sys{cfg};
  caf::scoped_actor self{sys};  // the registered actor (a spawned zero-argument lambda
                                // trips UBSan inside CAF 0.17's init_fun_factory)
  const caf::actor someone = caf::actor_cast<caf::actor>(self);
  DeadlineWatch watch(std::chrono::seconds(60));  // long idle sleep: 30 s
  for (int round = 0; round < 3; ++round) {
    InstanceSlot slot;
    slot.live.store(true);
    watch.waiting(someone, &slot);  // registers (and stamps the wait)
    ASSERT_TRUE(slot.deadline_watched.load());
    DeadlineWatch::done(&slot);  // no longer waiting: the next sweep drops it
    EXPECT_TRUE(dropped_within(slot, std::chrono::seconds(10)))
        << "round " << round << ": the registration waited out the watch's 30 s idle sleep";
  }
  watch.stop();
}

}  // namespace
}  // namespace weft
