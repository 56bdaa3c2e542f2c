// Weave refs: weave:///{entity}/{project}/{object|op|table|call}/... URIs.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <weft/status.h>

namespace weft {

struct Ref {
  enum class Kind { kObject, kOp, kTable, kCall };

  std::string entity;
  std::string project;
  Kind kind = Kind::kObject;
  std::string name;    // object/op name; empty for tables and calls
  std::string digest;  // object/op digest, table hex digest, or call id
  // Extra path after an object/op/call ref: (edge, value) pairs, edge one of
  // "key", "index", "attr", "id". Values are stored decoded.
  std::vector<std::pair<std::string, std::string>> extra;

  // The URI, with extra path values percent-encoded (only ASCII letters, digits
  // and "_.-~" left as they are).
  std::string uri() const;
  // Parses a URI built by uri() (or by Weave). Clear error for anything else.
  static Result<Ref> parse(std::string_view uri);

  friend bool operator==(const Ref&, const Ref&) = default;
};

const char* ref_kind_name(Ref::Kind kind);  // "object", "op", "table", "call"

// Percent-encodes everything but ASCII letters, digits and "_.-~".
std::string percent_encode(std::string_view s);

// Weave's object-name sanitising: runs of characters other than word characters, '.',
// '_' become '-'; runs of two or more of "._-" become one '-'; leading/trailing '-' and
// '_' are stripped; an empty result is an error; the result is truncated to
// kMaxObjectNameLength characters (code points, as Python counts). Deviation: every
// non-ASCII character counts as a word character (see ref.cc).
inline constexpr size_t kMaxObjectNameLength = 128;
Result<std::string> sanitize_object_name(std::string_view name);

}  // namespace weft
