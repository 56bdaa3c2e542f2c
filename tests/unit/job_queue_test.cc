// JobQueue (actors/job_queue.h), the scheduler's run queue: every job pushed is popped
// exactly once, a parked worker is woken for a job however the push and the park
// interleave, and stop() ends the workers. The park timeout (the safety net) is an hour
// here, so a lost wake-up hangs the worker and fails the deadline instead of being
// rescued by it.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "actors/job_queue.h"

namespace weft {
namespace job_queue_test {

// Named (not in an anonymous namespace): TSan's symbolizer then prints moodycamel's frames
// with their class, which tests/support/tsan.supp's moodycamel entries match.
struct Job {
  std::atomic<int> runs{0};
};

}  // namespace job_queue_test

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using job_queue_test::Job;

constexpr std::chrono::microseconds kNoRescue = std::chrono::hours(1);

// Waits (yielding) until `done` holds, at most `limit`; false if the deadline passed.
template <class F>
bool wait_until(F done, std::chrono::seconds limit = 60s) {
  const auto deadline = Clock::now() + limit;
  while (!done()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Worker threads that pop until stop(), counting each job's runs.
class Workers {
 public:
  Workers(JobQueue<Job>& q, size_t n) : q_(q) {
    for (size_t i = 0; i < n; ++i) {
      threads_.emplace_back([this, i] {
        auto& w = q_.worker(i);
        while (Job* j = q_.pop(w)) {
          j->runs.fetch_add(1);
          popped.fetch_add(1);
        }
      });
    }
  }
  ~Workers() { join(); }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  std::atomic<uint64_t> popped{0};

 private:
  JobQueue<Job>& q_;
  std::vector<std::thread> threads_;
};

TEST(JobQueue, EveryJobFromManyProducersIsPoppedExactlyOnce) {
  constexpr int kProducers = 3, kPerProducer = 20'000;
  std::vector<Job> jobs(kProducers * kPerProducer);
  JobQueue<Job> q(2, kNoRescue);
  Workers workers(q, 2);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kPerProducer; ++i) q.push(&jobs[p * kPerProducer + i]);
    });
  }
  for (auto& t : producers) t.join();
  ASSERT_TRUE(wait_until([&] { return workers.popped.load() == jobs.size(); }));
  q.stop();
  workers.join();
  for (const auto& j : jobs) ASSERT_EQ(j.runs.load(), 1);
  EXPECT_EQ(workers.popped.load(), jobs.size());
}

// Ping-pong: one job at a time, the next pushed only once the last ran, so the workers
// run dry between jobs and park (or are about to) at every push: the interleaving where a
// wake-up can be lost. Some of the pushes must have found a worker parked.
TEST(JobQueue, AWorkerParkedOrParkingIsWokenForEachJob) {
  constexpr int kRounds = 3'000;
  std::vector<Job> jobs(kRounds);
  JobQueue<Job> q(2, kNoRescue);
  Workers workers(q, 2);
  for (int i = 0; i < kRounds; ++i) {
    // Every few rounds, let the workers go all the way to sleep first.
    if (i % 100 == 0) {
      ASSERT_TRUE(wait_until([&] { return q.counts().parks >= static_cast<uint64_t>(i / 100 + 1); }));
    }
    q.push(&jobs[i]);
    ASSERT_TRUE(wait_until([&] { return workers.popped.load() == static_cast<uint64_t>(i + 1); }))
        << "job " << i << " was never popped: a lost wake-up";
  }
  q.stop();
  workers.join();
  for (const auto& j : jobs) ASSERT_EQ(j.runs.load(), 1);
  const JobQueueCounts c = q.counts();
  EXPECT_GE(c.parks, static_cast<uint64_t>(kRounds / 100));
  EXPECT_GE(c.wakes, static_cast<uint64_t>(kRounds / 100));  // each of those woke one
  EXPECT_EQ(c.timeouts, 0u);                                    // nothing was rescued
}

// A worker's own pushes (a running job scheduling another) go to its producer slot and are
// popped like any other.
TEST(JobQueue, AWorkersOwnPushesArePopped) {
  std::vector<Job> jobs(1'000);
  JobQueue<Job> q(1, kNoRescue);
  std::atomic<uint64_t> popped{0};
  std::thread worker([&] {
    auto& w = q.worker(0);
    while (Job* j = q.pop(w)) {
      j->runs.fetch_add(1);
      const auto next = static_cast<size_t>(j - jobs.data()) + 1;
      if (next < jobs.size()) q.push(w, &jobs[next]);
      popped.fetch_add(1);
    }
  });
  q.push(&jobs[0]);
  ASSERT_TRUE(wait_until([&] { return popped.load() == jobs.size(); }));
  q.stop();
  worker.join();
  for (const auto& j : jobs) ASSERT_EQ(j.runs.load(), 1);
}

TEST(JobQueue, StopEndsParkedWorkersAndDrainHandsOverWhatIsLeft) {
  JobQueue<Job> q(2, kNoRescue);
  Workers workers(q, 2);
  ASSERT_TRUE(wait_until([&] { return q.counts().parks >= 2; }));  // both asleep
  q.stop();
  workers.join();  // a worker that missed the stop would sleep for an hour here
  Job left;
  q.push(&left);  // after the workers have gone
  int drained = 0;
  q.drain([&](Job* j) {
    EXPECT_EQ(j, &left);
    ++drained;
  });
  EXPECT_EQ(drained, 1);
  EXPECT_EQ(left.runs.load(), 0);
}

}  // namespace
}  // namespace weft
