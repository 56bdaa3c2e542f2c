// RuntimeImpl: the state behind a weft::Runtime handle. Internal to runtime/core: the
// facade (runtime.cc), calls (call.cc) and saved refs (saved_ref.cc) share it.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <weft/runtime.h>

#include "runtime/core/dispatcher.h"
#include "runtime/core/event_queue.h"
#include "runtime/core/runtime_core.h"
#include "runtime/metrics/metrics_server.h"

namespace weft {

namespace detail {

struct RuntimeImpl {
  explicit RuntimeImpl(Config cfg, std::shared_ptr<Store> store)
      : core(std::move(cfg), std::move(store)) {}

  moodycamel::ProducerToken& producer_token();
  bool enqueue(Event&& e);
  SavedRef refused_ref(const std::string& why);
  // A SavedRef on `cell` (SavedRef's constructor is private to the runtime).
  static SavedRef saved_ref(detail::CellRef cell);
  void refuse(const std::string& why);

  RuntimeCore core;
  EventQueue queue;
  std::unique_ptr<Dispatcher> dispatcher;
  std::unique_ptr<MetricsServer> metrics_server;  // last to start, first to stop
  std::atomic<bool> accepting{true};
  std::mutex tokens_mu;  // taken once per application thread, when it first traces here
  std::vector<std::unique_ptr<moodycamel::ProducerToken>> tokens;
  std::mutex shutdown_mu;  // serialises shutdown() callers (application threads, the destructor)
  bool shut_down = false;
  bool shutdown_result = true;
};

}  // namespace detail
}  // namespace weft
