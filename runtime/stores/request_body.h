// Weave trace-server request bodies (docs/COMPATIBILITY.md#request-bodies): what a
// remote store would POST for each request, compact JSON, and the way back from a body to
// the request. Internal: used by stores, the dead-letter file and the CLI, not part of the
// public API.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <weft/status.h>
#include <weft/store_requests.h>
#include <weft/value.h>

namespace weft {

// The number of request kinds, and the kind names by variant index: 0 "obj_create",
// 1 "table_create", 2 "file_create", 3 "call_start", 4 "call_end".
inline constexpr size_t kRequestKindCount = std::variant_size_v<StoreRequest>;
// REQUIRES: index < kRequestKindCount.
const char* request_kind_name_at(size_t index);
// The variant index of a kind name, or nullopt for a name that is none of the five.
std::optional<size_t> request_kind_index(std::string_view kind);

// The Weave trace-server request body for r (docs/COMPATIBILITY.md#request-bodies), compact JSON.
// file_create has no JSON body (it is multipart); its form fields are rendered as JSON.
std::string request_body_json(const StoreRequest& r);

// What the remote store POSTs: request_body_json's body as Weave's request models accept
// it. Unset optional fields are left out (a root call has no parent_id member), call_end
// has no started_at (the server's end model has none and refuses extra fields), and
// expected_digest is sent only when asked for (a value that holds refs gets its digest from
// the server: docs/COMPATIBILITY.md). file_create: its form fields, as request_body_json.
std::string wire_body_json(const StoreRequest& r, bool expected_digest);

// The calls-complete wire forms (docs/COMPATIBILITY.md#request-bodies), unset optional fields
// left out as in wire_body_json:
// - one item of POST /v2/{entity}/{project}/calls/complete: a finished call's start and end
//   fields in one object (Weave's CompletedCallSchemaForInsert);
// - the body of POST /v2/{entity}/{project}/call/end, {"end": {...}}, which carries the
//   call's started_at (the server locates the started row by it).
// The v2 call/start body is wire_body_json's {"start": {...}}.
std::string complete_call_json(const CallStartRequest& start, const CallEndRequest& end);
std::string v2_call_end_json(const CallEndRequest& end);

// request_body_json(r) with one more top-level member, "weft", holding what the Weave body
// leaves out, so that parse_request_body gives r back field by field (the dead-letter file's
// body; docs/COMPATIBILITY.md#request-bodies). Strip "weft" before sending it to a server:
// Weave's request models refuse unknown fields.
//   obj_create    "weft": {"kind", "base_object_class", "leaf_object_class", "refs", "created_at"}
//   table_create  "weft": {"digest", "row_digests"}
//   file_create   "weft": {"bytes_base64"}   (RFC 4648 base64 with padding; null: no bytes)
//   call_start    "weft": {"input_refs"}
//   call_end      "weft": {"output_refs"}
std::string dead_letter_body_json(const StoreRequest& r);

// The inverse of both renderings: the request of kind `kind` ("obj_create", ...) that
// `body_json` describes. Embedded values (val, rows, attributes, inputs, output, summary)
// come back as canonical JSON: for the canonical text weft writes, the very text that was
// rendered (NaN, big integers and \u escapes included); for a body some tool reformatted,
// its canonical form.
//
// What a body without "weft" does not say gets a default: obj_create kind "object", no
// classes, no refs, created_at 0; table_create's digests are computed from the rows (as
// the server would); file_create has no bytes (the store refuses it); no input/output refs.
// Absent optional fields read as unset, absent attributes/inputs/summary as {}, an absent
// output as null, call_end's absent started_at as 0. An embedded value rendered from empty
// text (a field nobody filled) comes back as its rendered fallback ("{}" or "null").
//
// Errors (invalid_argument) name the field: "call_start body: start.trace_id: expected a
// string".
Result<StoreRequest> parse_request_body(std::string_view kind, std::string_view body_json);
// The same for a body already parsed (by parse_json).
Result<StoreRequest> parse_request_body(std::string_view kind, const Value& body);

}  // namespace weft
