// Sampled handler timing (runtime/metrics/metrics_registry.h): each thread times the first
// message of a kind and every kHandlerSampleEvery-th after it, counting per kind, so one
// kind's traffic never shifts another's samples.
#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "runtime/metrics/metrics_registry.h"

namespace weft {
namespace {

std::vector<bool> decisions(size_t kind, size_t n) {
  std::vector<bool> out;
  for (size_t i = 0; i < n; ++i) out.push_back(time_this_message(kind));
  return out;
}

TEST(HandlerSampling, TheFirstAndThenEveryEighthPerThreadAndKind) {
  std::vector<bool> object, call;
  // A fresh thread: its counters start at zero whatever this thread did before.
  std::thread t([&] {
    object = decisions(static_cast<size_t>(ActorKind::kObject), 17);
    call = decisions(static_cast<size_t>(ActorKind::kCall), 9);
  });
  t.join();
  std::vector<bool> want_object(17, false), want_call(9, false);
  want_object[0] = want_object[8] = want_object[16] = true;
  want_call[0] = want_call[8] = true;
  EXPECT_EQ(object, want_object);
  EXPECT_EQ(call, want_call) << "the call kind counts on its own, not after the objects";
  static_assert(kHandlerSampleEvery == 8, "the expectations above assume 1 in 8");
}

TEST(HandlerSampling, EachThreadStartsWithATimedMessage) {
  bool a = false, b = false;
  std::thread ta([&] { a = time_this_message(kDispatcherSampleIndex); });
  std::thread tb([&] { b = time_this_message(kDispatcherSampleIndex); });
  ta.join();
  tb.join();
  EXPECT_TRUE(a);
  EXPECT_TRUE(b);
}

}  // namespace
}  // namespace weft
