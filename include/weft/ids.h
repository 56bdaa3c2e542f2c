// Call and trace ids (UUIDv7: time-ordered, so SQLite's index pages stay hot) and the
// timestamps Weave stores (ISO-8601 UTC with microseconds and a 'Z').
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

// A UUID in its 36-character text form, stored inline (no allocation on the calling thread).
struct Uuid {
  std::array<char, 36> text{};
  std::string_view view() const { return {text.data(), text.size()}; }
  std::string str() const { return std::string(view()); }
  bool empty() const { return text[0] == '\0'; }
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// A new UUIDv7 (RFC 9562): 48-bit Unix milliseconds, version 7, 12 bits of sub-millisecond
// ordering within this thread, variant 10, then random bits from a per-thread generator.
// Lock-free and allocation-free.
Uuid new_uuid_v7();
// The same at a given instant (microseconds since the Unix epoch), so a caller that also
// needs a timestamp reads the clock once (~26 ns per read on these VMs).
Uuid new_uuid_v7(int64_t unix_micros);
bool is_uuid_text(std::string_view s);

// Microseconds since the Unix epoch, from the system clock.
int64_t now_unix_micros();
// "2026-11-27T10:38:23.123456Z". Pre-1970 instants are exact (proleptic Gregorian).
std::string format_iso8601_micros(int64_t unix_micros);
// The inverse, for exactly that 27-character form (years 0000..9999); nullopt otherwise.
std::optional<int64_t> parse_iso8601_micros(std::string_view text);

}  // namespace weft
