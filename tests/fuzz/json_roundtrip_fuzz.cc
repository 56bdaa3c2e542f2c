// Canonical JSON is a fixed point: whatever parse_json accepts, its canonical JSON c parses
// again, to an equal value, and writing that value again gives c byte for byte. And c is
// printable ASCII (everything else is escaped).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <weft/json.h>

#include "tests/fuzz/fuzz_check.h"

using weft::fuzz::check;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const weft::Result<weft::Value> v = weft::parse_json(text);
  if (!v) return 0;

  const std::string c = weft::canonical_json(v.value());
  for (const char ch : c) {
    check(ch >= 0x20 && ch <= 0x7E, "canonical JSON has a byte outside printable ASCII", text, c);
  }
  const weft::Result<weft::Value> again = weft::parse_json(c);
  if (!again) weft::fuzz::fail("canonical JSON does not parse: " + again.error(), text, c);
  const std::string c2 = weft::canonical_json(again.value());
  check(c2 == c, "canonical JSON is not a fixed point (a: first, b: second)", c, c2);
  check(again.value() == v.value(), "the canonical JSON parses to a different value", text, c);

  // write_canonical_json appends: the same bytes after whatever is already there.
  std::string appended = "x";
  weft::write_canonical_json(v.value(), appended);
  check(std::string_view(appended).substr(1) == c, "write_canonical_json differs from canonical_json",
        c, appended);
  return 0;
}
