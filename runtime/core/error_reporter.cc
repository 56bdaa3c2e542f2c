#include "runtime/core/error_reporter.h"

#include <cstdio>

namespace weft {

namespace {
std::string seconds_text(ErrorReporter::Clock::duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", std::chrono::duration<double>(d).count());
  return buf;
}
std::string held_text(uint64_t n, ErrorReporter::Clock::duration over) {
  return " (and " + std::to_string(n) + " more like this in the last " + seconds_text(over) + ")";
}
}  // namespace

ErrorReporter::ErrorReporter(Sink sink, std::chrono::milliseconds interval)
    : sink_(std::move(sink)), interval_(interval) {}

void ErrorReporter::report(const std::string& cause, std::string message) {
  std::lock_guard<std::mutex> lock(mu_);
  ++reported_;
  const auto now = Clock::now();
  auto [it, fresh] = causes_.try_emplace(cause);
  Cause& c = it->second;
  ++c.total;
  if (!fresh && now - c.last_emit < interval_) {
    ++c.held;
    c.last_message = std::move(message);
    return;
  }
  std::string line = std::move(message);
  if (c.held > 0) line += held_text(c.held, now - c.last_emit);
  c.held = 0;
  c.last_emit = now;
  emit(std::move(line));
}

void ErrorReporter::emit_held() {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Clock::now();
  for (auto& [cause, c] : causes_) {
    if (c.held == 0) continue;
    // The held errors' last instance stands for them; the count says how many.
    std::string line = c.last_message;
    line += c.held == 1 ? std::string() : held_text(c.held - 1, now - c.last_emit);
    c.held = 0;
    c.last_emit = now;
    emit(std::move(line));
  }
}

void ErrorReporter::emit(std::string line) {
  ++emitted_;
  if (sink_)
    sink_(line);
  else
    std::fprintf(stderr, "weft: error: %s\n", line.c_str());
  recent_.push_back(std::move(line));
  if (recent_.size() > 100) recent_.pop_front();
}

uint64_t ErrorReporter::reported() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reported_;
}

uint64_t ErrorReporter::emitted() const {
  std::lock_guard<std::mutex> lock(mu_);
  return emitted_;
}

std::vector<std::string> ErrorReporter::recent() const {
  std::lock_guard<std::mutex> lock(mu_);
  return {recent_.begin(), recent_.end()};
}

std::map<std::string, uint64_t> ErrorReporter::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, uint64_t> out;
  for (const auto& [cause, c] : causes_) out[cause] = c.total;
  return out;
}

}  // namespace weft
