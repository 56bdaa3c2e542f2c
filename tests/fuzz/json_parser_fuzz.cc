// parse_json on arbitrary bytes: it never crashes, never throws, never overflows the stack;
// every failure is a Result carrying an invalid-argument error whose message is one of the
// documented forms, with a byte offset inside the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <weft/json.h>

#include "tests/fuzz/fuzz_check.h"

namespace {

using weft::fuzz::check;

// "... at byte N" -> N, or npos if the message has no offset.
size_t offset_of(std::string_view message) {
  constexpr std::string_view kAt = " at byte ";
  const size_t at = message.find(kAt);
  if (at == std::string_view::npos) return std::string_view::npos;
  size_t n = 0;
  size_t i = at + kAt.size();
  check(i < message.size() && message[i] >= '0' && message[i] <= '9', "no digits after 'at byte'",
        message);
  for (; i < message.size() && message[i] >= '0' && message[i] <= '9'; ++i) {
    n = n * 10 + static_cast<size_t>(message[i] - '0');
  }
  return n;
}

void check_error(std::string_view text, const weft::Result<weft::Value>& r, size_t max_depth) {
  check(r.code() == weft::StatusCode::kInvalidArgument, "parse error is not invalid-argument",
        text, r.error());
  const std::string_view m = r.error();
  const std::string depth = "nesting deeper than " + std::to_string(max_depth) + " at byte ";
  const bool known = m.starts_with("invalid JSON at byte ") || m.starts_with("invalid UTF-8 at byte ") ||
                     m.starts_with(depth) || m.starts_with("cannot parse JSON: ");
  check(known, "parse error message of an unknown form", text, m);
  if (m.starts_with("cannot parse JSON: ")) return;  // allocation failure: no offset
  const size_t offset = offset_of(m);
  check(offset != std::string_view::npos && offset <= text.size(),
        "parse error offset outside the input", text, m);
  check(m.find('\n') == std::string_view::npos, "parse error message spans lines", text, m);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const weft::Result<weft::Value> r = weft::parse_json(text);
  if (!r) check_error(text, r, weft::kDefaultMaxJsonDepth);

  // A shallow limit exercises the depth error on small inputs. Whatever fails at the default
  // depth fails here too (a limit only takes away).
  weft::ParseOptions shallow;
  shallow.max_depth = 4;
  const weft::Result<weft::Value> s = weft::parse_json(text, shallow);
  if (!s) {
    check_error(text, s, shallow.max_depth);
  } else {
    check(r.is_ok(), "accepted with max_depth 4 but rejected with the default", text, r.error());
  }
  return 0;
}
