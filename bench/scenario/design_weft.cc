// The `weft` design: the real weft::Runtime, driven through its public API only; and
// `weft-caf-sharing`, the same on CAF's own sharing scheduler (Config::Scheduler).
#include <algorithm>
#include <atomic>

#include <weft/runtime.h>

#include "bench/scenario/runner.h"

namespace weft_bench {

namespace {

class WeftDesign {
 public:
  using Call = weft::Call;

  WeftDesign(std::shared_ptr<weft::Store> store, unsigned threads, weft::Config::Scheduler scheduler)
      : rt_(config(std::move(store), threads, scheduler, errors_)) {}

  Call start(const weft::Value& op, weft::Value inputs, const Call* parent) {
    return parent != nullptr ? rt_.start_call(op, std::move(inputs), weft::CallOptions::child_of(*parent))
                             : rt_.start_call(op, std::move(inputs), weft::CallOptions::new_trace());
  }
  void finish(Call& call, weft::Value output) { (void)call.finish(std::move(output)); }

  void pause_store() { rt_.pause_store(); }
  void resume_store() { rt_.resume_store(); }
  DrainResult drain(Clock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    DrainResult r;
    if (!rt_.flush(std::max(left, std::chrono::milliseconds(1)))) {
      r.status = "TIMEOUT";
      r.detail = "flush did not finish by the drain limit (" + std::to_string(rt_.stats().outstanding_work) +
                 " units of work outstanding)";
    } else if (errors_->load() != 0) {
      r.detail = std::to_string(errors_->load()) + " errors reported by the runtime";
    }
    return r;
  }
  bool deadlocked() const { return false; }  // nothing in weft waits on a digest
  void after_step() {}
  void shutdown() { rt_.shutdown(std::chrono::seconds(10)); }
  uint64_t blocking_waits() const { return 0; }

 private:
  static weft::Config config(std::shared_ptr<weft::Store> store, unsigned threads,
                             weft::Config::Scheduler scheduler,
                             const std::shared_ptr<std::atomic<uint64_t>>& errors) {
    weft::Config c;
    c.scheduler = scheduler;
    c.project = "bench/seed";
    c.store = std::move(store);
    c.scheduler_threads = threads;
    c.destructor_flush_timeout = std::chrono::milliseconds(10'000);
    // Count errors instead of printing them: the harness reports the count.
    c.on_error = [errors](const std::string&) { errors->fetch_add(1); };
    return c;
  }

  std::shared_ptr<std::atomic<uint64_t>> errors_ = std::make_shared<std::atomic<uint64_t>>(0);
  weft::Runtime rt_;
};

RunResult run_main(const char* name, weft::Config::Scheduler scheduler, const std::string& store,
                   const Options& o) {
  return measure_main<WeftDesign>(name, store, o, [&](std::shared_ptr<weft::Store> s) {
    return std::make_unique<WeftDesign>(std::move(s), o.threads, scheduler);
  });
}

// One scheduler thread: a design that waited on another actor would deadlock here.
ScenarioResult run_paused(const char* name, weft::Config::Scheduler scheduler, const Options& o) {
  return measure_paused<WeftDesign>(name, 1, o, [&](std::shared_ptr<weft::Store> s) {
    return std::make_unique<WeftDesign>(std::move(s), 1u, scheduler);
  });
}

}  // namespace

RunResult run_main_weft(const std::string& store, const Options& o) {
  return run_main("weft", weft::Config::Scheduler::weft, store, o);
}
ScenarioResult run_paused_weft(const Options& o) { return run_paused("weft", weft::Config::Scheduler::weft, o); }

RunResult run_main_weft_caf_sharing(const std::string& store, const Options& o) {
  return run_main("weft-caf-sharing", weft::Config::Scheduler::caf_sharing, store, o);
}
ScenarioResult run_paused_weft_caf_sharing(const Options& o) {
  return run_paused("weft-caf-sharing", weft::Config::Scheduler::caf_sharing, o);
}

}  // namespace weft_bench
