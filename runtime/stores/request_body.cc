// Request names and Weave request bodies (docs/COMPATIBILITY.md#request-bodies).
//
// Bodies are compact JSON around embedded values: val, rows, attributes, inputs, output
// and summary are already JSON text (canonical JSON from our own writer), so they are
// copied in verbatim rather than re-parsed. That keeps ", " separators inside them and
// lets NaN/Infinity through, exactly as Weave's Python client would send them.
#include "runtime/stores/request_body.h"

#include <string_view>
#include <type_traits>

#include <weft/ids.h>

#include "runtime/model/json_escape.h"

namespace weft {

const char* request_kind_name(const StoreRequest& r) {
  return std::visit(
      [](const auto& req) -> const char* {
        using T = std::decay_t<decltype(req)>;
        if constexpr (std::is_same_v<T, ObjCreateRequest>) return "obj_create";
        if constexpr (std::is_same_v<T, TableCreateRequest>) return "table_create";
        if constexpr (std::is_same_v<T, FileCreateRequest>) return "file_create";
        if constexpr (std::is_same_v<T, CallStartRequest>) return "call_start";
        if constexpr (std::is_same_v<T, CallEndRequest>) return "call_end";
      },
      r);
}

namespace {

// Appends `"key":value` pairs to one JSON object; the caller writes the braces.
class FieldWriter {
 public:
  explicit FieldWriter(std::string& out) : out_(out) {}

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
    key(k);
    out_ += "null";
  }
  void opt_int(std::string_view k, const std::optional<int64_t>& v) {
    key(k);
    out_ += v ? std::to_string(*v) : "null";
  }
  void time(std::string_view k, int64_t unix_micros) { str(k, format_iso8601_micros(unix_micros)); }
  // Embeds JSON text as a value. Empty text (a field nobody filled) becomes `fallback`.
  void raw(std::string_view k, std::string_view json, std::string_view fallback) {
    key(k);
    out_ += json.empty() ? fallback : json;
  }

 private:
  std::string& out_;
  bool first_ = true;
};

void body(const ObjCreateRequest& r, std::string& out) {
  out += "{\"obj\":{";
  FieldWriter f(out);
  f.str("project_id", r.project_id);
  f.str("object_id", r.object_id);
  f.raw("val", r.val_json, "null");
  f.str("expected_digest", r.digest);
  out += "}}";
}

void body(const TableCreateRequest& r, std::string& out) {
  out += "{\"table\":{";
  FieldWriter f(out);
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
void body(const FileCreateRequest& r, std::string& out) {
  out += '{';
  FieldWriter f(out);
  f.str("project_id", r.project_id);
  f.str("expected_digest", r.digest);
  f.key("file");
  out += '{';
  FieldWriter file(out);
  file.str("name", r.name);
  file.key("size");
  out += std::to_string(r.bytes ? r.bytes->size() : 0);
  out += "}}";
}

void body(const CallStartRequest& r, std::string& out) {
  out += "{\"start\":{";
  FieldWriter f(out);
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
  out += "}}";
}

void body(const CallEndRequest& r, std::string& out) {
  out += "{\"end\":{";
  FieldWriter f(out);
  f.str("project_id", r.project_id);
  f.str("id", r.id);
  f.time("started_at", r.started_at_us);
  f.time("ended_at", r.ended_at_us);
  f.opt_str("exception", r.exception_json);  // a JSON string holding JSON, as Weave sends it
  f.raw("output", r.output_json, "null");
  f.raw("summary", r.summary_json, "{}");
  f.opt_int("wb_run_step_end", r.wb_run_step_end);
  out += "}}";
}


}  // namespace

std::string request_body_json(const StoreRequest& r) {
  std::string out;
  std::visit([&out](const auto& req) { body(req, out); }, r);
  return out;
}

}  // namespace weft
