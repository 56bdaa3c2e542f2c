// ErrorReporter: every error is counted; what reaches the application's on_error (or
// stderr) is aggregated per cause, so a failing disk makes a few lines, not one per request.
//
// The first error of a cause is emitted at once. Later ones within `interval` are only
// counted; the next one after the interval is emitted with how many were held back
// ("... (and 57,356 more like this in the last 5.0 s)"), and emit_held() (flush, shutdown)
// emits what is still held. A cause is a short key naming the failure, e.g.
// "store call_end unavailable"; the message is the first instance's full text.
//
// Errors are cold: the mutex guards the per-cause table and the recent-errors ring, and is
// never taken on an event's path.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace weft {

class ErrorReporter {
 public:
  using Sink = std::function<void(const std::string&)>;
  using Clock = std::chrono::steady_clock;

  ErrorReporter(Sink sink, std::chrono::milliseconds interval);

  void report(const std::string& cause, std::string message);
  // Emits a count line for every cause with held-back errors.
  void emit_held();

  uint64_t reported() const;  // every error, held back or not
  uint64_t emitted() const;   // lines that reached the sink
  // The most recent emitted lines (at most 100), oldest first.
  std::vector<std::string> recent() const;
  // Per cause: how many errors, ever.
  std::map<std::string, uint64_t> counts() const;

 private:
  struct Cause {
    uint64_t total = 0;
    uint64_t held = 0;
    Clock::time_point last_emit;
    std::string last_message;
  };
  void emit(std::string line);  // REQUIRES mu_

  Sink sink_;
  const Clock::duration interval_;
  mutable std::mutex mu_;
  std::map<std::string, Cause> causes_;
  std::deque<std::string> recent_;
  uint64_t reported_ = 0;
  uint64_t emitted_ = 0;
};

}  // namespace weft
