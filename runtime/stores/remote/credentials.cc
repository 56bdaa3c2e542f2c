#include "runtime/stores/remote/credentials.h"

#include <cctype>
#include <vector>

namespace weft {

std::string url_host(std::string_view url) {
  size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (size_t at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  if (!rest.empty() && rest.front() == '[') {  // [::1]:8080
    size_t close = rest.find(']');
    return close == std::string_view::npos ? std::string() : std::string(rest.substr(1, close - 1));
  }
  return std::string(rest.substr(0, rest.find(':')));
}

std::optional<std::string> netrc_password(std::string_view text, std::string_view host) {
  // Tokens, except a macro's body: "macdef NAME" runs to the next blank line (as curl and
  // Python's netrc read it), and nothing inside it is an entry.
  std::vector<std::string_view> tokens;
  for (size_t i = 0; i < text.size();) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    if (i == start) continue;
    tokens.push_back(text.substr(start, i - start));
    if (tokens.back() == "macdef") {
      const size_t blank = text.find("\n\n", i);
      i = blank == std::string_view::npos ? text.size() : blank + 2;
    }
  }
  std::optional<std::string> fallback;
  bool in_match = false, in_default = false, matched = false;
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string_view t = tokens[i];
    if (t == "machine" && i + 1 < tokens.size()) {
      if (in_match) return std::nullopt;  // the host's entry had no password: no fallback
      in_match = tokens[++i] == host;
      matched |= in_match;
      in_default = false;
    } else if (t == "default") {
      if (in_match) return std::nullopt;
      in_default = true;
    } else if (t == "macdef") {
      if (in_match) return std::nullopt;
      in_default = false;
    } else if ((t == "password" || t == "login" || t == "account") && i + 1 < tokens.size()) {
      std::string_view v = tokens[++i];
      if (t != "password") continue;
      if (in_match) return std::string(v);
      if (in_default && !fallback) fallback = std::string(v);
    }
  }
  if (matched) return std::nullopt;
  return fallback;
}

}  // namespace weft
