// Request names and Weave request bodies (docs/COMPATIBILITY.md#request-bodies), and
// the way back from a body to its request.
//
// Bodies are compact JSON around embedded values: val, rows, attributes, inputs, output
// and summary are already JSON text (canonical JSON from our own writer), so they are
// copied in verbatim rather than re-parsed. That keeps ", " separators inside them and
// lets NaN/Infinity through, exactly as Weave's Python client would send them.
//
// Reading a body back parses it whole (parse_json) and writes each embedded value out
// again with the canonical writer. For canonical text that is the identity: keys are
// already sorted, floats already in their shortest repr (which parses back to the same
// double), integers of any size are kept as text, strings re-escape to the same \uXXXX.
#include "runtime/stores/request_body.h"

#include <array>
#include <cstdint>
#include <limits>
#include <memory>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <weft/digest.h>
#include <weft/ids.h>
#include <weft/json.h>

#include "runtime/model/json_escape.h"

namespace weft {
namespace {

constexpr std::array<const char*, kRequestKindCount> kKindNames = {
    "obj_create", "table_create", "file_create", "call_start", "call_end"};

}  // namespace

const char* request_kind_name_at(size_t index) { return kKindNames[index]; }

std::optional<size_t> request_kind_index(std::string_view kind) {
  for (size_t i = 0; i < kKindNames.size(); ++i)
    if (kind == kKindNames[i]) return i;
  return std::nullopt;
}

const char* request_kind_name(const StoreRequest& r) { return kKindNames[r.index()]; }

namespace {

// Appends `"key":value` pairs to one JSON object; the caller writes the braces.
class FieldWriter {
 public:
  // omit_absent: an unset optional field is left out rather than written as null (Weave's
  // request models refuse nothing for that, and it is what the official clients send).
  explicit FieldWriter(std::string& out, bool omit_absent = false)
      : out_(out), omit_absent_(omit_absent) {}

  void key(std::string_view k) {
    if (!first_) out_ += ',';
    first_ = false;
    append_json_string(k, out_);
    out_ += ':';
  }
  void str(std::string_view k, std::string_view v) {
    key(k);
    append_json_string(v, out_);
  }
  void opt_str(std::string_view k, const std::optional<std::string>& v) {
    if (v) return str(k, *v);
    if (omit_absent_) return;
    key(k);
    out_ += "null";
  }
  void opt_int(std::string_view k, const std::optional<int64_t>& v) {
    if (!v && omit_absent_) return;
    key(k);
    out_ += v ? std::to_string(*v) : "null";
  }
  void time(std::string_view k, int64_t unix_micros) { str(k, format_iso8601_micros(unix_micros)); }
  void str_list(std::string_view k, const std::vector<std::string>& items) {
    key(k);
    out_ += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) out_ += ',';
      append_json_string(items[i], out_);
    }
    out_ += ']';
  }
  // Embeds JSON text as a value. Empty text (a field nobody filled) becomes `fallback`.
  void raw(std::string_view k, std::string_view json, std::string_view fallback) {
    key(k);
    out_ += json.empty() ? fallback : json;
  }

 private:
  std::string& out_;
  const bool omit_absent_;
  bool first_ = true;
};

// How a body is rendered: as the dead-letter file and docs show it (every field), or as the
// remote store sends it (wire_body_json).
struct Style {
  bool wire = false;
  bool expected_digest = true;
};

void body(const ObjCreateRequest& r, std::string& out, Style style) {
  out += "{\"obj\":{";
  FieldWriter f(out, style.wire);
  f.str("project_id", r.project_id);
  f.str("object_id", r.object_id);
  f.raw("val", r.val_json, "null");
  if (style.expected_digest) f.str("expected_digest", r.digest);
  out += "}}";
}

void body(const TableCreateRequest& r, std::string& out, Style style) {
  out += "{\"table\":{";
  FieldWriter f(out, style.wire);
  f.str("project_id", r.project_id);
  f.key("rows");
  out += '[';
  for (size_t i = 0; i < r.rows_json.size(); ++i) {
    if (i) out += ',';
    out += r.rows_json[i].empty() ? std::string_view("{}") : std::string_view(r.rows_json[i]);
  }
  out += "]}}";
}

// file_create is multipart on the wire; this renders its form fields for logs and tests.
void body(const FileCreateRequest& r, std::string& out, Style style) {
  out += '{';
  FieldWriter f(out, style.wire);
  f.str("project_id", r.project_id);
  if (style.expected_digest) f.str("expected_digest", r.digest);
  f.key("file");
  out += '{';
  FieldWriter file(out);
  file.str("name", r.name);
  file.key("size");
  out += std::to_string(r.bytes ? r.bytes->size() : 0);
  out += "}}";
}

// The start's fields, then the end's: shared by the start and end bodies and by the one
// item of /v2/{entity}/{project}/calls/complete that holds both.
void start_fields(const CallStartRequest& r, FieldWriter& f) {
  f.str("project_id", r.project_id);
  f.str("id", r.id);
  f.str("op_name", r.op_name);
  f.opt_str("display_name", r.display_name);
  f.str("trace_id", r.trace_id);
  f.opt_str("parent_id", r.parent_id);
  f.opt_str("thread_id", r.thread_id);
  f.opt_str("turn_id", r.turn_id);
  f.time("started_at", r.started_at_us);
  f.raw("attributes", r.attributes_json, "{}");
  f.raw("inputs", r.inputs_json, "{}");
  f.opt_str("wb_run_id", r.wb_run_id);
  f.opt_int("wb_run_step", r.wb_run_step);
}

void end_fields(const CallEndRequest& r, FieldWriter& f) {
  f.time("ended_at", r.ended_at_us);
  f.opt_str("exception", r.exception_json);  // a JSON string holding JSON, as Weave sends it
  f.raw("output", r.output_json, "null");
  f.raw("summary", r.summary_json, "{}");
  f.opt_int("wb_run_step_end", r.wb_run_step_end);
}

void body(const CallStartRequest& r, std::string& out, Style style) {
  out += "{\"start\":{";
  FieldWriter f(out, style.wire);
  start_fields(r, f);
  out += "}}";
}

void body(const CallEndRequest& r, std::string& out, Style style) {
  out += "{\"end\":{";
  FieldWriter f(out, style.wire);
  f.str("project_id", r.project_id);
  f.str("id", r.id);
  if (!style.wire) f.time("started_at", r.started_at_us);  // Weave's v1 end model has none
  end_fields(r, f);
  out += "}}";
}

// --- The dead-letter extension: what the Weave body leaves out -------------------------

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// RFC 4648 base64 with '=' padding.
void append_base64(std::string_view bytes, std::string& out) {
  out.reserve(out.size() + (bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = uint32_t{static_cast<unsigned char>(bytes[i])} << 16 |
                       uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8 |
                       uint32_t{static_cast<unsigned char>(bytes[i + 2])};
    out += kBase64Alphabet[n >> 18];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += kBase64Alphabet[(n >> 6) & 63];
    out += kBase64Alphabet[n & 63];
  }
  if (const size_t rest = bytes.size() - i; rest > 0) {
    uint32_t n = uint32_t{static_cast<unsigned char>(bytes[i])} << 16;
    if (rest == 2) n |= uint32_t{static_cast<unsigned char>(bytes[i + 1])} << 8;
    out += kBase64Alphabet[n >> 18];
    out += kBase64Alphabet[(n >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
}

// The inverse of append_base64; nullopt for anything it would not have written.
std::optional<std::string> decode_base64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::array<int8_t, 256> value;
  value.fill(-1);
  for (int i = 0; i < 64; ++i)
    value[static_cast<unsigned char>(kBase64Alphabet[i])] = static_cast<int8_t>(i);
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const size_t pad = !last ? 0 : text[i + 3] != '=' ? 0 : text[i + 2] != '=' ? 1 : 2;
    uint32_t n = 0;
    for (size_t j = 0; j < 4; ++j) {
      const int8_t v = j < 4 - pad ? value[static_cast<unsigned char>(text[i + j])] : 0;
      if (v < 0) return std::nullopt;
      n = n << 6 | static_cast<uint32_t>(v);
    }
    // Padding bits must be zero, as an encoder writes them: one text per byte string.
    if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0)) return std::nullopt;
    out += static_cast<char>(n >> 16);
    if (pad < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

void extension(const ObjCreateRequest& r, FieldWriter& f) {
  f.str("kind", r.kind);
  f.opt_str("base_object_class", r.base_object_class);
  f.opt_str("leaf_object_class", r.leaf_object_class);
  f.str_list("refs", r.refs);
  f.time("created_at", r.created_at_us);
}
void extension(const TableCreateRequest& r, FieldWriter& f) {
  f.str("digest", r.digest);
  f.str_list("row_digests", r.row_digests);
}
void extension(const FileCreateRequest& r, FieldWriter& f, std::string& out) {
  f.key("bytes_base64");
  if (!r.bytes) {
    out += "null";
    return;
  }
  out += '"';
  append_base64(*r.bytes, out);
  out += '"';
}
void extension(const CallStartRequest& r, FieldWriter& f) {
  f.str_list("input_refs", r.input_refs);
}
void extension(const CallEndRequest& r, FieldWriter& f) {
  f.str_list("output_refs", r.output_refs);
}

// --- Reading a body back ---------------------------------------------------------------

// Reads the members of one JSON object of a body. The first problem is kept (with the
// member's path) and later reads return defaults, so a parser reads every field
// unconditionally and checks status() once at the end.
class FieldReader {
 public:
  // obj may be nullptr (an absent object: every member absent).
  FieldReader(const Value* obj, std::string path, std::optional<Status>& error)
      : obj_(obj), path_(std::move(path)), error_(error) {}

  const Value* find(std::string_view k) const { return obj_ ? obj_->find(k) : nullptr; }

  std::string str(std::string_view k) {
    const Value* v = find(k);
    if (v && v->kind() == ValueKind::kString) return std::string(v->as_string());
    fail(k, v ? "expected a string" : "missing");
    return {};
  }
  std::optional<std::string> opt_str(std::string_view k) {
    const Value* v = find(k);
    if (!v || v->is_null()) return std::nullopt;
    if (v->kind() == ValueKind::kString) return std::string(v->as_string());
    fail(k, "expected a string or null");
    return std::nullopt;
  }
  std::optional<int64_t> opt_int(std::string_view k) {
    const Value* v = find(k);
    if (!v || v->is_null()) return std::nullopt;
    if (v->kind() == ValueKind::kInt) return v->as_int();
    fail(k, "expected a 64-bit integer or null");
    return std::nullopt;
  }
  // An ISO-8601 time as format_iso8601_micros writes it; absent (or null) gives
  // `if_absent`, or an error when that is nullopt.
  int64_t time(std::string_view k, std::optional<int64_t> if_absent = std::nullopt) {
    const Value* v = find(k);
    if ((!v || v->is_null()) && if_absent) return *if_absent;
    if (v && v->kind() == ValueKind::kString) {
      if (std::optional<int64_t> t = parse_iso8601_micros(v->as_string())) return *t;
    }
    fail(k, v ? "expected a time like 2026-11-27T10:38:23.123456Z" : "missing");
    return 0;
  }
  // The canonical JSON of an embedded value; absent gives `if_absent`, or an error when
  // that is nullopt.
  std::string json(std::string_view k, std::optional<std::string_view> if_absent) {
    const Value* v = find(k);
    if (v) return canonical_json(*v);
    if (if_absent) return std::string(*if_absent);
    fail(k, "missing");
    return {};
  }
  // A list of strings; absent gives the empty list.
  std::vector<std::string> str_list(std::string_view k) {
    std::vector<std::string> out;
    const Value* v = find(k);
    if (!v) return out;
    if (v->kind() != ValueKind::kList) {
      fail(k, "expected a list of strings");
      return out;
    }
    for (const Value& item : v->items()) {
      if (item.kind() != ValueKind::kString) {
        fail(k, "expected a list of strings");
        return {};
      }
      out.emplace_back(item.as_string());
    }
    return out;
  }
  // A member that must be an object (absent allowed when `required` is false).
  const Value* object(std::string_view k, bool required) {
    const Value* v = find(k);
    if (v && v->kind() == ValueKind::kDict) return v;
    if (v || required) fail(k, v ? "expected an object" : "missing");
    return nullptr;
  }
  std::string member_path(std::string_view k) const {
    return path_.empty() ? std::string(k) : path_ + "." + std::string(k);
  }
  void fail(std::string_view k, std::string_view why) {
    if (!error_) error_ = Status::invalid_argument(member_path(k) + ": " + std::string(why));
  }

 private:
  const Value* obj_;
  std::string path_;
  std::optional<Status>& error_;
};

// The body's one top-level wrapper ({"obj": {...}}), read as the request's fields.
FieldReader wrapped(const Value& body, std::string_view wrapper, std::optional<Status>& error) {
  FieldReader top(&body, "", error);
  return FieldReader(top.object(wrapper, true), std::string(wrapper), error);
}

ObjCreateRequest read_obj_create(const Value& body, std::optional<Status>& error) {
  FieldReader f = wrapped(body, "obj", error);
  FieldReader ext(FieldReader(&body, "", error).object("weft", false), "weft", error);
  ObjCreateRequest r;
  r.project_id = f.str("project_id");
  r.object_id = f.str("object_id");
  r.val_json = f.json("val", std::nullopt);
  r.digest = f.str("expected_digest");
  r.kind = ext.find("kind") ? ext.str("kind") : std::string("object");
  r.base_object_class = ext.opt_str("base_object_class");
  r.leaf_object_class = ext.opt_str("leaf_object_class");
  r.refs = ext.str_list("refs");
  r.created_at_us = ext.time("created_at", 0);
  return r;
}

TableCreateRequest read_table_create(const Value& body, std::optional<Status>& error) {
  FieldReader f = wrapped(body, "table", error);
  FieldReader top(&body, "", error);
  const Value* weft = top.object("weft", false);
  FieldReader ext(weft, "weft", error);
  TableCreateRequest r;
  r.project_id = f.str("project_id");
  const Value* rows = f.find("rows");
  if (!rows || rows->kind() != ValueKind::kList) {
    f.fail("rows", rows ? "expected a list" : "missing");
    return r;
  }
  for (const Value& row : rows->items()) r.rows_json.push_back(canonical_json(row));
  if (weft) {
    r.digest = ext.str("digest");
    r.row_digests = ext.str_list("row_digests");
    if (r.row_digests.size() != r.rows_json.size())
      ext.fail("row_digests", std::to_string(r.row_digests.size()) + " digests for " +
                                  std::to_string(r.rows_json.size()) + " rows");
  } else {
    // What the server computes: each row's base digest, then the table digest of those.
    for (const std::string& row : r.rows_json) r.row_digests.push_back(base_digest(row));
    r.digest = table_digest(r.row_digests);
  }
  return r;
}

FileCreateRequest read_file_create(const Value& body, std::optional<Status>& error) {
  FieldReader f(&body, "", error);
  FileCreateRequest r;
  r.project_id = f.str("project_id");
  r.digest = f.str("expected_digest");
  FieldReader file(f.object("file", true), "file", error);
  r.name = file.str("name");
  const Value* size = file.find("size");
  if (size && size->kind() != ValueKind::kInt) file.fail("size", "expected an integer");
  FieldReader ext(f.object("weft", false), "weft", error);
  if (std::optional<std::string> b64 = ext.opt_str("bytes_base64")) {
    std::optional<std::string> bytes = decode_base64(*b64);
    if (!bytes) {
      ext.fail("bytes_base64", "not base64");
    } else if (size && size->kind() == ValueKind::kInt &&
               static_cast<uint64_t>(size->as_int()) != bytes->size()) {
      ext.fail("bytes_base64", std::to_string(bytes->size()) + " bytes, but file.size is " +
                                   std::to_string(size->as_int()));
    } else {
      r.bytes = std::make_shared<const std::string>(std::move(*bytes));
    }
  }
  return r;
}

CallStartRequest read_call_start(const Value& body, std::optional<Status>& error) {
  FieldReader f = wrapped(body, "start", error);
  FieldReader ext(FieldReader(&body, "", error).object("weft", false), "weft", error);
  CallStartRequest r;
  r.project_id = f.str("project_id");
  r.id = f.str("id");
  r.op_name = f.str("op_name");
  r.display_name = f.opt_str("display_name");
  r.trace_id = f.str("trace_id");
  r.parent_id = f.opt_str("parent_id");
  r.thread_id = f.opt_str("thread_id");
  r.turn_id = f.opt_str("turn_id");
  r.started_at_us = f.time("started_at");
  r.attributes_json = f.json("attributes", "{}");
  r.inputs_json = f.json("inputs", "{}");
  r.wb_run_id = f.opt_str("wb_run_id");
  r.wb_run_step = f.opt_int("wb_run_step");
  r.input_refs = ext.str_list("input_refs");
  return r;
}

CallEndRequest read_call_end(const Value& body, std::optional<Status>& error) {
  FieldReader f = wrapped(body, "end", error);
  FieldReader ext(FieldReader(&body, "", error).object("weft", false), "weft", error);
  CallEndRequest r;
  r.project_id = f.str("project_id");
  r.id = f.str("id");
  r.started_at_us = f.time("started_at", 0);  // the official clients send none
  r.ended_at_us = f.time("ended_at");
  r.exception_json = f.opt_str("exception");
  r.output_json = f.json("output", "null");
  r.summary_json = f.json("summary", "{}");
  r.wb_run_step_end = f.opt_int("wb_run_step_end");
  r.output_refs = ext.str_list("output_refs");
  return r;
}

}  // namespace

static_assert(std::is_same_v<std::variant_alternative_t<0, StoreRequest>, ObjCreateRequest> &&
              std::is_same_v<std::variant_alternative_t<1, StoreRequest>, TableCreateRequest> &&
              std::is_same_v<std::variant_alternative_t<2, StoreRequest>, FileCreateRequest> &&
              std::is_same_v<std::variant_alternative_t<3, StoreRequest>, CallStartRequest> &&
              std::is_same_v<std::variant_alternative_t<4, StoreRequest>, CallEndRequest>,
              "kKindNames follows StoreRequest's alternatives");

std::string request_body_json(const StoreRequest& r) {
  std::string out;
  std::visit([&out](const auto& req) { body(req, out, Style{}); }, r);
  return out;
}

std::string wire_body_json(const StoreRequest& r, bool expected_digest) {
  std::string out;
  std::visit([&](const auto& req) { body(req, out, Style{true, expected_digest}); }, r);
  return out;
}

std::string dead_letter_body_json(const StoreRequest& r) {
  std::string out = request_body_json(r);
  out.pop_back();  // the body's closing '}'
  out += ",\"weft\":{";
  FieldWriter f(out);
  std::visit(
      [&](const auto& req) {
        if constexpr (std::is_same_v<std::decay_t<decltype(req)>, FileCreateRequest>)
          extension(req, f, out);
        else
          extension(req, f);
      },
      r);
  out += "}}";
  return out;
}

Result<StoreRequest> parse_request_body(std::string_view kind, const Value& body) {
  const std::optional<size_t> index = request_kind_index(kind);
  if (!index) return Status::invalid_argument("unknown request kind '" + std::string(kind) + "'");
  const std::string context = std::string(kind) + " body";
  if (body.kind() != ValueKind::kDict)
    return Status::invalid_argument(context + ": expected an object");
  std::optional<Status> error;
  StoreRequest r;
  switch (*index) {
    case 0: r = read_obj_create(body, error); break;
    case 1: r = read_table_create(body, error); break;
    case 2: r = read_file_create(body, error); break;
    case 3: r = read_call_start(body, error); break;
    default: r = read_call_end(body, error); break;
  }
  if (error) return error->with_context(context);
  return r;
}

Result<StoreRequest> parse_request_body(std::string_view kind, std::string_view body_json) {
  // The body adds a few levels above its embedded values, which weft's writer nests as
  // deep as they come: no depth limit beyond the text's own (the parser uses no stack).
  ParseOptions options;
  options.max_depth = std::numeric_limits<size_t>::max() - 8;
  Result<Value> body = parse_json(body_json, options);
  if (!body) return body.status().with_context(std::string(kind) + " body");
  return parse_request_body(kind, *body);
}

std::string complete_call_json(const CallStartRequest& start, const CallEndRequest& end) {
  std::string out = "{";
  FieldWriter f(out, /*omit_absent=*/true);
  start_fields(start, f);
  end_fields(end, f);
  out += '}';
  return out;
}

std::string v2_call_end_json(const CallEndRequest& r) {
  std::string out = "{\"end\":{";
  FieldWriter f(out, /*omit_absent=*/true);
  f.str("project_id", r.project_id);
  f.str("id", r.id);
  f.time("started_at", r.started_at_us);
  end_fields(r, f);
  out += "}}";
  return out;
}

}  // namespace weft
