// Flag helpers shared by the CLI commands that take values ("--store PATH", "--ops=200").
#pragma once

#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace weft::cli {

// If argv[i] is "--name VALUE" or "--name=VALUE": sets value (consuming VALUE), returns 1.
// If it is "--name" with nothing after it: returns -1. Otherwise 0.
inline int flag_value(int& i, int argc, char** argv, std::string_view name, std::string& value) {
  std::string_view a = argv[i];
  if (a.size() < 2 + name.size() || a.substr(0, 2) != "--" || a.substr(2, name.size()) != name) return 0;
  std::string_view rest = a.substr(2 + name.size());
  if (rest.empty()) {
    if (i + 1 >= argc) return -1;
    value = argv[++i];
    return 1;
  }
  if (rest[0] != '=') return 0;
  value = std::string(rest.substr(1));
  return 1;
}

// Parses an integer in [min, max]; false if it is not one.
inline bool parse_int(const std::string& s, long long min, long long max, long long& out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0' || v < min || v > max) return false;
  out = v;
  return true;
}

// Parses a byte count: decimal digits, optionally followed by K, M or G (KiB, MiB, GiB;
// either case). False if it is not one or does not fit in 63 bits.
inline bool parse_bytes(const std::string& s, uint64_t& out) {
  size_t digits = 0;
  uint64_t v = 0;
  for (; digits < s.size() && s[digits] >= '0' && s[digits] <= '9'; ++digits) {
    if (v > (uint64_t{1} << 59)) return false;  // v * 10 would pass 2^63
    v = v * 10 + static_cast<uint64_t>(s[digits] - '0');
  }
  if (digits == 0 || s.size() > digits + 1) return false;
  unsigned shift = 0;
  if (s.size() == digits + 1) {
    switch (s[digits]) {
      case 'K': case 'k': shift = 10; break;
      case 'M': case 'm': shift = 20; break;
      case 'G': case 'g': shift = 30; break;
      default: return false;
    }
  }
  if (v >= (uint64_t{1} << (63 - shift))) return false;
  out = v << shift;
  return true;
}

// The --max-input flag of the commands that read stdin. If argv[i] is it, parses its value
// into max_input and returns 1, or returns -1 with `error` set; otherwise returns 0.
inline int max_input_flag(int& i, int argc, char** argv, uint64_t& max_input,
                          std::string& error) {
  std::string value;
  const int r = flag_value(i, argc, argv, "max-input", value);
  if (r == 0) return 0;
  if (r < 0 || !parse_bytes(value, max_input)) {
    error = "--max-input needs a size in bytes, like 1048576, 64K, 256M or 2G" +
            (r < 0 ? std::string() : " (got '" + value + "')");
    return -1;
  }
  return 1;
}

}  // namespace weft::cli
