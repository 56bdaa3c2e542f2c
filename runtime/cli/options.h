// Flag helpers shared by the CLI commands that take values ("--store PATH", "--ops=200").
#pragma once

#include <cerrno>
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

}  // namespace weft::cli
