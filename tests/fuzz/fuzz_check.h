// What the fuzz targets share: a check that reports what went wrong and aborts (libFuzzer
// then saves the input as crash-<sha1>), and printable forms of byte strings.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace weft::fuzz {

// At most 300 bytes of s, with non-printable bytes as \xHH.
inline std::string printable(std::string_view s) {
  std::string out;
  const size_t n = s.size() < 300 ? s.size() : 300;
  for (size_t i = 0; i < n; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c < 0x7F && c != '\\') {
      out.push_back(static_cast<char>(c));
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    }
  }
  if (n < s.size()) out += "... (" + std::to_string(s.size()) + " bytes)";
  return out;
}

[[noreturn]] inline void fail(std::string_view what, std::string_view a = {},
                              std::string_view b = {}) {
  std::fprintf(stderr, "\n== weft fuzz check failed: %.*s\n", static_cast<int>(what.size()),
               what.data());
  if (!a.empty()) std::fprintf(stderr, "   a: \"%s\"\n", printable(a).c_str());
  if (!b.empty()) std::fprintf(stderr, "   b: \"%s\"\n", printable(b).c_str());
  std::abort();
}

inline void check(bool ok, std::string_view what, std::string_view a = {},
                  std::string_view b = {}) {
  if (!ok) fail(what, a, b);
}

inline bool is_base_digest(std::string_view d) {
  if (d.size() != 43) return false;
  for (const char c : d) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum) return false;  // '-' and '_' are replaced by 'X' and 'Y', '=' dropped
  }
  return true;
}

inline bool is_table_digest(std::string_view d) {
  if (d.size() != 64) return false;
  for (const char c : d) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace weft::fuzz
