// weft replay --outbox PATH: delivers what a remote store left in its outbox (the process
// was killed, the server was down past the retry timeout, the key was refused) to a Weave
// trace server. The remote store replays an outbox by itself when it opens one; this drives
// it on this thread until every entry has ended, then reports.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <weft/remote.h>
#include <weft/store.h>

#include "runtime/cli/commands.h"
#include "runtime/core/dead_letter.h"
#include "runtime/stores/remote/remote_store.h"

namespace weft::cli {

int replay_outbox(const std::string& outbox, const std::string& url, const std::string& dead_letter_path,
                  std::chrono::seconds timeout) {
  constexpr const char* kName = "replay";
  RemoteOptions o;
  o.url = url;
  o.outbox_path = outbox;
  o.retry_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(timeout);
  auto opened = open_remote_store("weft/replay", o);
  if (!opened) return fail(kName, opened.error());
  std::unique_ptr<Store> store = std::move(*opened);
  auto* async = dynamic_cast<AsyncStore*>(store.get());
  const RemoteCounters* c = remote_counters(*store);
  if (async == nullptr || c == nullptr) return fail(kName, "internal: not a remote store");
  std::string last_error;
  async->set_reporter([&](const std::string&, std::string m) { last_error = std::move(m); });

  const uint64_t total = c->replayed.load();
  std::printf("weft replay: %llu requests in the outbox %s, sending to %s\n", (unsigned long long)total,
              outbox.c_str(), store->describe().c_str() + 7);
  std::fflush(stdout);
  DeadLetterFile dead_letter(dead_letter_path, 64ull << 20);
  uint64_t dead_lettered = 0, kept = 0;
  std::vector<AsyncResult> results;
  const auto deadline = std::chrono::steady_clock::now() + timeout + std::chrono::seconds(5);
  auto next_progress = std::chrono::steady_clock::now() + std::chrono::seconds(2);
  auto pause = std::chrono::microseconds(100);
  while (c->replay_ended.load() < total && std::chrono::steady_clock::now() < deadline) {
    results.clear();
    if (async->poll(results) > 0) pause = std::chrono::microseconds(100);
    for (const AsyncResult& r : results) {
      if (r.status.is_ok() || !r.request) continue;
      if (dead_letter.append(*r.request, r.status, 1).is_ok()) ++dead_lettered;
    }
    if (std::chrono::steady_clock::now() >= next_progress) {
      std::printf("  %llu / %llu ended\n", (unsigned long long)c->replay_ended.load(), (unsigned long long)total);
      std::fflush(stdout);
      next_progress += std::chrono::seconds(2);
    }
    std::this_thread::sleep_for(pause);  // the CLI's own wait: nothing else runs on this thread
    pause = std::min(pause * 2, std::chrono::microseconds(5000));
  }
  results.clear();
  if (c->replay_ended.load() < total) async->abandon(results);
  kept = c->kept.load();
  const uint64_t delivered = c->replay_delivered.load();
  std::printf("replayed %llu of %llu requests: %llu delivered, %llu refused by the server (in %s), %llu still in "
              "the outbox\n",
              (unsigned long long)c->replay_ended.load(), (unsigned long long)total, (unsigned long long)delivered,
              (unsigned long long)dead_lettered, dead_letter_path.c_str(), (unsigned long long)kept);
  if (!last_error.empty() && delivered < total) std::printf("last error: %s\n", last_error.c_str());
  const int rc = finish_stdout(kName);
  if (rc != kExitOk) return rc;
  return delivered == total ? kExitOk : kExitFailure;
}

}  // namespace weft::cli
