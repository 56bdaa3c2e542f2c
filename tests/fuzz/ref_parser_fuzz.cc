// Ref::parse on arbitrary text. Errors are values (invalid argument, "invalid ref ..."); a
// ref that parses renders back with uri() to a URI that parses to an equal ref and renders
// to itself. Also percent_encode (its output is unreserved characters and %XX only) and
// sanitize_object_name (never crashes; a name it returns is non-empty and at most
// kMaxObjectNameLength code points).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <weft/ref.h>

#include "tests/fuzz/fuzz_check.h"

namespace {

using weft::fuzz::check;

bool is_unreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-' || c == '~';
}

bool is_upper_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

void check_percent_encode(std::string_view text) {
  const std::string e = weft::percent_encode(text);
  size_t decoded = 0;
  for (size_t i = 0; i < e.size(); ++decoded) {
    if (e[i] == '%') {
      check(i + 2 < e.size() && is_upper_hex(e[i + 1]) && is_upper_hex(e[i + 2]),
            "percent_encode wrote a bad escape", text, e);
      i += 3;
    } else {
      check(is_unreserved(e[i]), "percent_encode left a reserved character", text, e);
      i += 1;
    }
  }
  check(decoded == text.size(), "percent_encode changed the number of bytes", text, e);
}

void check_ref(std::string_view text) {
  const weft::Result<weft::Ref> r = weft::Ref::parse(text);
  if (!r) {
    check(r.code() == weft::StatusCode::kInvalidArgument, "ref error is not invalid-argument", text,
          r.error());
    check(r.error().starts_with("invalid ref \""), "ref error message of an unknown form", text,
          r.error());
    return;
  }
  const weft::Ref& ref = r.value();
  check(!ref.entity.empty() && !ref.project.empty() && !ref.digest.empty(),
        "parsed ref has an empty entity, project or digest", text, ref.uri());
  const bool named = ref.kind == weft::Ref::Kind::kObject || ref.kind == weft::Ref::Kind::kOp;
  check(named != ref.name.empty(), "parsed ref's name does not fit its kind", text, ref.uri());
  check(ref.kind != weft::Ref::Kind::kTable || ref.extra.empty(), "parsed table ref has extra path",
        text, ref.uri());

  const std::string uri = ref.uri();
  const weft::Result<weft::Ref> again = weft::Ref::parse(uri);
  if (!again) weft::fuzz::fail("uri() of a parsed ref does not parse: " + again.error(), text, uri);
  check(again.value() == ref, "uri() of a parsed ref parses to a different ref", text, uri);
  check(again.value().uri() == uri, "uri() is not a fixed point", uri, again.value().uri());
}

void check_sanitize(std::string_view text) {
  const weft::Result<std::string> s = weft::sanitize_object_name(text);
  if (!s) {
    check(s.code() == weft::StatusCode::kInvalidArgument, "sanitize error is not invalid-argument",
          text, s.error());
    return;
  }
  const std::string& name = s.value();
  check(!name.empty(), "sanitize_object_name returned an empty name", text);
  size_t code_points = 0;
  for (const char c : name) code_points += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  check(code_points <= weft::kMaxObjectNameLength, "sanitised name is too long", text, name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  check_ref(text);
  check_percent_encode(text);
  check_sanitize(text);
  return 0;
}
