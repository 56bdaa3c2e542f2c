// Call and trace ids (UUIDv7: time-ordered, so SQLite's index pages stay hot) and the
// timestamps Weave stores (ISO-8601 UTC with microseconds and a 'Z').
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace weft {

// A UUID as its 16 bytes, in RFC 9562 order. Binary, so the calling thread never formats
// it (hex formatting was 40 % of a call's instructions there); the text form is made where
// a store request is built, on the runtime's threads. Byte order is text order, so ids
// compare (operator<) as their text does.
struct Uuid {
  std::array<uint8_t, 16> bytes{};
  // The 36-character lowercase text form, e.g. "01936f5e-8c1a-7b2e-9f00-3c4d5e6f7a8b".
  std::string str() const;
  // Writes exactly those 36 characters at out (no terminator).
  void write_text(char* out) const;
  // The all-zero UUID (default-constructed: "no id"); never a UUIDv7, whose version is 7.
  bool empty() const {
    for (uint8_t b : bytes)
      if (b != 0) return false;
    return true;
  }
  // The text form back to bytes: exactly 36 lowercase characters (is_uuid_text), or nullopt.
  static std::optional<Uuid> parse(std::string_view text);
  friend bool operator==(const Uuid&, const Uuid&) = default;
  friend auto operator<=>(const Uuid&, const Uuid&) = default;
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
