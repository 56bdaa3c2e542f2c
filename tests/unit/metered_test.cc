// Metered (actors/metered.h): every actor counts in its kind; only an actor that describes
// itself (begins to wait) takes an instance slot, and a message is counted exactly once
// either way, so the kind's depth returns to zero even for messages bounced at exit.
// The actors run in a minimal actor system; their end is awaited with a monitor and a
// deadline, never slept for.
#include <gtest/gtest.h>

#include <caf/all.hpp>

#include <chrono>
#include <string>
#include <thread>

#include "actors/metered.h"
#include "tests/support/caf_test_system.h"

namespace weft {
namespace {

// Paused until it gets `ok_atom`: it skips every int meanwhile (they stay queued), so a
// test can queue a known set of messages before the actor handles any, and never sends
// while the actor exits. Running: 0 quits (what is still queued is bounced), 1 describes
// itself (takes its slot), 2 pauses again, anything else is just handled.
class TestActor : public Metered<caf::event_based_actor, ActorKind::kObject> {
 public:
  explicit TestActor(caf::actor_config& cfg) : Metered(cfg) {}
  caf::behavior make_behavior() override {
    set_default_handler(caf::skip);
    return paused();
  }

 private:
  caf::behavior paused() {
    return {[this](caf::ok_atom) { become(running()); }};
  }
  caf::behavior running() {
    return {[this](int x) {
      if (x == 0) quit();
      if (x == 1) describe("test actor");
      if (x == 2) become(paused());
    }};
  }
};

class MeteredTest : public ::testing::Test {
 protected:
  caf::actor spawn() {
    SpawningWith metering(&metrics_);  // the constructor, inside spawn, finds the metrics
    return sys_.spawn<TestActor>();
  }
  // Waits (with a deadline) until `a` has exited; false if it did not.
  bool exited(const caf::actor& a) {
    caf::scoped_actor self{sys_};
    self->monitor(a);
    bool down = false;
    self->receive([&](const caf::down_msg&) { down = true; }, caf::after(std::chrono::seconds(30)) >> [] {});
    return down;
  }
  const KindStats& objects() const { return metrics_.kinds[static_cast<size_t>(ActorKind::kObject)]; }

  // Before the actor system: an actor's last reference may drop on a worker after the test
  // body, and its destructor releases its slot into these metrics.
  Metrics metrics_;
  caf::actor_system_config cfg_{testing::sharing_system_config(1)};
  caf::actor_system sys_{cfg_};
};

TEST_F(MeteredTest, AnActorThatNeverWaitsTakesNoSlotAndItsBouncedMessagesCount) {
  caf::actor a = spawn();
  // All queued before any is handled: 0 quits on the 3rd, and the last 2 are bounced.
  for (int x : {5, 6, 0, 7, 8}) caf::anon_send(a, x);
  caf::anon_send(a, caf::ok_atom::value);
  ASSERT_TRUE(exited(a));
  a = nullptr;
  EXPECT_EQ(metrics_.instances.slots_created(), 0u) << "a leaf never takes an instance slot";
  EXPECT_EQ(objects().spawned.load(), 1u);
  EXPECT_EQ(objects().finished.load(), 1u);
  EXPECT_EQ(objects().enqueued.load(), 6u);  // the five ints and ok_atom
  EXPECT_EQ(objects().processed.load(), 6u) << "4 handled and 2 bounced: the depth is back to 0";
}

TEST_F(MeteredTest, AnActorThatDescribesItselfIsListedAndCountsInItsSlot) {
  caf::actor a = spawn();
  for (int x : {1, 9, 2}) caf::anon_send(a, x);  // describes itself (takes a slot), then pauses
  caf::anon_send(a, caf::ok_atom::value);
  // Wait (deadline) until the four are handled, reading only the kind's counters.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (objects().processed.load() < 4 && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
  ASSERT_EQ(objects().processed.load(), 4u);
  EXPECT_EQ(metrics_.instances.slots_created(), 1u);
  int listed = 0;
  metrics_.instances.scan([&](const InstanceMetrics& m, const InstanceSlot&) {
    ++listed;
    EXPECT_EQ(m.label, "test actor");
    EXPECT_EQ(m.kind, "object");
    EXPECT_EQ(m.mailbox_depth, 0u);
  });
  EXPECT_EQ(listed, 1);
  // Paused: all queued before any is handled; 0 quits, and 3 and 4 are bounced, counted in
  // the slot this time.
  for (int x : {0, 3, 4}) caf::anon_send(a, x);
  caf::anon_send(a, caf::ok_atom::value);
  ASSERT_TRUE(exited(a));
  a = nullptr;
  EXPECT_EQ(objects().enqueued.load(), 8u);
  EXPECT_EQ(objects().processed.load(), 8u) << "6 handled and 2 bounced: the depth is back to 0";
}

}  // namespace
}  // namespace weft
