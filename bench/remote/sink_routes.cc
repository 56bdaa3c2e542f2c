#include "bench/remote/sink_routes.h"

#include <simdjson.h>

#include <utility>

#include <weft/digest.h>
#include <weft/json.h>

namespace weft_bench_sink {

namespace {

namespace od = simdjson::ondemand;

// One on-demand parser and one padded copy of the body per handler thread: simdjson reads
// up to SIMDJSON_PADDING bytes past the end, and httplib's body is a const std::string.
struct Scratch {
  od::parser parser;
  std::string buf;
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

simdjson::padded_string_view padded(std::string& buf, std::string_view body) {
  buf.assign(body.data(), body.size());
  buf.append(simdjson::SIMDJSON_PADDING, ' ');
  return simdjson::padded_string_view(buf.data(), body.size(), buf.size());
}

Reply bad(const char* what) { return Reply{400, std::string("{\"detail\": \"") + what + "\"}"}; }

std::string_view trim(std::string_view t) {
  while (!t.empty() && (t.back() == ' ' || t.back() == '\n' || t.back() == '\r' || t.back() == '\t'))
    t.remove_suffix(1);
  return t;
}

// The JSON text of a value as received (an object or array whole, a scalar's token).
simdjson::error_code raw_of(od::value v, std::string_view& out) {
  od::json_type type;
  if (auto e = v.type().get(type)) return e;
  if (type == od::json_type::object) {
    od::object o;
    if (auto e = v.get_object().get(o)) return e;
    return o.raw_json().get(out);
  }
  if (type == od::json_type::array) {
    od::array a;
    if (auto e = v.get_array().get(a)) return e;
    return a.raw_json().get(out);
  }
  out = trim(v.raw_json_token());
  return simdjson::SUCCESS;
}

bool is_null(od::value v) {
  od::json_type type;
  return !v.type().get(type) && type == od::json_type::null;
}

// Weave's object (and row) digest of JSON text: base digest of its canonical JSON. Empty
// when the text is not JSON weft's parser takes.
std::string digest_of_json(std::string_view json) {
  weft::Result<weft::Value> v = weft::parse_json(json);
  if (!v) return {};
  return weft::object_digest(*v);
}

// The object member `name` of the root object, or an error.
simdjson::error_code member_object(od::document& doc, std::string_view name, od::object& out) {
  od::object root;
  if (auto e = doc.get_object().get(root)) return e;
  return root[name].get_object().get(out);
}

}  // namespace

Reply SinkApi::obj_create(std::string_view body) {
  Scratch& s = scratch();
  od::document doc;
  od::object obj;
  if (s.parser.iterate(padded(s.buf, body)).get(doc) || member_object(doc, "obj", obj))
    return bad("obj/create: expected {\"obj\": {...}}");
  std::string_view val, expected;
  bool has_val = false;
  for (auto member : obj) {
    od::field f;
    std::string_view key;
    if (std::move(member).get(f) || f.unescaped_key().get(key)) return bad("obj/create: unreadable obj");
    if (key == "val") {
      if (raw_of(f.value(), val)) return bad("obj/create: unreadable val");
      has_val = true;
    } else if (key == "expected_digest" && !is_null(f.value())) {
      if (f.value().get_string().get(expected)) return bad("obj/create: expected_digest is not a string");
    }
  }
  if (!has_val) return bad("obj/create: obj.val missing");
  std::string digest;
  if (!expected.empty()) {
    digest = expected;  // trusted: a sink does not check what the client computed
  } else {
    digest = digest_of_json(val);
    if (digest.empty()) return bad("obj/create: val is not JSON");
    stats_.objects_hashed.fetch_add(1, std::memory_order_relaxed);
  }
  stats_.objects.fetch_add(1, std::memory_order_relaxed);
  return Reply{200, "{\"digest\": \"" + digest + "\"}"};
}

Reply SinkApi::table_create(std::string_view body) {
  Scratch& s = scratch();
  od::document doc;
  od::object table;
  if (s.parser.iterate(padded(s.buf, body)).get(doc) || member_object(doc, "table", table))
    return bad("table/create: expected {\"table\": {...}}");
  StoredTable t;
  bool has_rows = false;
  for (auto member : table) {
    od::field f;
    std::string_view key;
    if (std::move(member).get(f) || f.unescaped_key().get(key)) return bad("table/create: unreadable table");
    if (key != "rows") continue;
    od::array rows;
    if (f.value().get_array().get(rows)) return bad("table/create: rows is not a list");
    for (auto row : rows) {
      od::value v;
      std::string_view raw;
      if (row.get(v) || raw_of(v, raw)) return bad("table/create: unreadable row");
      std::string digest = digest_of_json(raw);
      if (digest.empty()) return bad("table/create: a row is not JSON");
      t.row_digests.push_back(std::move(digest));
      t.rows_json.emplace_back(raw);
    }
    has_rows = true;
  }
  if (!has_rows) return bad("table/create: table.rows missing");
  // The client's expected_digest, if any, is not read: the table digest follows from the
  // row digests, which the sink computes anyway for its answer.
  std::string digest = weft::table_digest(t.row_digests);
  std::string out = "{\"digest\": \"" + digest + "\", \"row_digests\": [";
  for (size_t i = 0; i < t.row_digests.size(); ++i) {
    if (i) out += ", ";
    out += "\"" + t.row_digests[i] + "\"";
  }
  out += "]}";
  stats_.tables.fetch_add(1, std::memory_order_relaxed);
  stats_.rows.fetch_add(t.row_digests.size(), std::memory_order_relaxed);
  keep_table(digest, std::move(t));
  return Reply{200, std::move(out)};
}

Reply SinkApi::table_from_digests(std::string_view body) {
  Scratch& s = scratch();
  od::document doc;
  od::object root;
  od::array digests;
  if (s.parser.iterate(padded(s.buf, body)).get(doc) || doc.get_object().get(root) ||
      root["row_digests"].get_array().get(digests))
    return bad("table/create_from_digests: expected {\"row_digests\": [...]}");
  StoredTable t;
  for (auto d : digests) {
    std::string_view digest;
    if (d.get_string().get(digest)) return bad("table/create_from_digests: a row digest is not a string");
    t.row_digests.emplace_back(digest);
  }
  std::string digest = weft::table_digest(t.row_digests);
  stats_.tables.fetch_add(1, std::memory_order_relaxed);
  keep_table(digest, std::move(t));
  return Reply{200, "{\"digest\": \"" + digest + "\"}"};
}

Reply SinkApi::table_query(std::string_view body) {
  Scratch& s = scratch();
  od::document doc;
  od::object root;
  std::string_view wanted;
  if (s.parser.iterate(padded(s.buf, body)).get(doc) || doc.get_object().get(root) ||
      root["digest"].get_string().get(wanted))
    return bad("table/query: expected {\"digest\": ...}");
  // filter, sort, limit and offset are not read: the SDK asks for a whole table once.
  std::lock_guard<std::mutex> lock(tables_mu_);
  auto it = tables_.find(std::string(wanted));
  if (it == tables_.end()) return Reply{404, "{\"detail\": \"table not found\"}"};
  const StoredTable& t = it->second;
  std::string out = "{\"rows\": [";
  for (size_t i = 0; i < t.row_digests.size(); ++i) {
    if (i) out += ", ";
    out += "{\"digest\": \"" + t.row_digests[i] + "\", \"val\": ";
    out += i < t.rows_json.size() ? t.rows_json[i] : std::string("null");
    out += ", \"original_index\": " + std::to_string(i) + "}";
  }
  out += "]}";
  return Reply{200, std::move(out)};
}

Reply SinkApi::upsert_batch(std::string_view body) {
  Scratch& s = scratch();
  od::document doc;
  od::object root;
  od::array batch;
  if (s.parser.iterate(padded(s.buf, body)).get(doc) || doc.get_object().get(root) ||
      root["batch"].get_array().get(batch))
    return bad("call/upsert_batch: expected {\"batch\": [...]}");
  uint64_t starts = 0, ends = 0;
  for (auto item : batch) {
    od::object o;
    if (item.get_object().get(o)) return bad("call/upsert_batch: an item is not an object");
    // Only the mode is read; the request itself (inputs, outputs) is skipped unparsed.
    std::string_view mode;
    for (auto member : o) {
      od::field f;
      std::string_view key;
      if (std::move(member).get(f) || f.unescaped_key().get(key)) return bad("call/upsert_batch: unreadable item");
      if (key == "mode" && f.value().get_string().get(mode)) return bad("call/upsert_batch: mode is not a string");
    }
    if (mode == "start") ++starts;
    else if (mode == "end") ++ends;
    else return bad("call/upsert_batch: mode is neither start nor end");
  }
  stats_.call_starts.fetch_add(starts, std::memory_order_relaxed);
  stats_.call_ends.fetch_add(ends, std::memory_order_relaxed);
  // The hosted server answers a start with its id and trace id; neither client reads the
  // answer, so the sink sends an empty result per item rather than dig the ids out.
  std::string out = "{\"res\": [";
  for (uint64_t i = 0; i < starts + ends; ++i) out += i ? ", {}" : "{}";
  out += "]}";
  return Reply{200, std::move(out)};
}

Reply SinkApi::calls_complete(std::string_view body) {
  Scratch& s = scratch();
  od::document doc;
  od::object root;
  od::array batch;
  if (s.parser.iterate(padded(s.buf, body)).get(doc) || doc.get_object().get(root) ||
      root["batch"].get_array().get(batch))
    return bad("calls/complete: expected {\"batch\": [...]}");
  uint64_t n = 0;
  for (auto item : batch) {
    od::value v;
    if (item.get(v)) return bad("calls/complete: unreadable item");
    ++n;  // skipped unparsed, as upsert_batch's requests are
  }
  stats_.calls_completed.fetch_add(n, std::memory_order_relaxed);
  return Reply{200, "{}"};
}

Reply SinkApi::v2_call_start(std::string_view body) {
  Scratch& s = scratch();
  od::document doc;
  od::object start;
  if (s.parser.iterate(padded(s.buf, body)).get(doc) || member_object(doc, "start", start))
    return bad("call/start: expected {\"start\": {...}}");
  // The answer echoes the ids as their JSON tokens (quotes included): no re-escaping.
  std::string_view id = "null", trace_id = "null";
  for (auto member : start) {
    od::field f;
    std::string_view key;
    if (std::move(member).get(f) || f.unescaped_key().get(key)) return bad("call/start: unreadable start");
    if (key == "id") id = trim(f.value().raw_json_token());
    if (key == "trace_id") trace_id = trim(f.value().raw_json_token());
  }
  stats_.call_starts.fetch_add(1, std::memory_order_relaxed);
  return Reply{200, "{\"id\": " + std::string(id) + ", \"trace_id\": " + std::string(trace_id) + "}"};
}

Reply SinkApi::v2_call_end(std::string_view body) {
  Scratch& s = scratch();
  od::document doc;
  od::object end;
  if (s.parser.iterate(padded(s.buf, body)).get(doc) || member_object(doc, "end", end))
    return bad("call/end: expected {\"end\": {...}}");
  stats_.call_ends.fetch_add(1, std::memory_order_relaxed);
  return Reply{200, "{}"};
}

Reply SinkApi::file_create(std::string_view content, std::string_view expected_digest) {
  std::string digest = expected_digest.empty() ? weft::file_digest(content) : std::string(expected_digest);
  stats_.files.fetch_add(1, std::memory_order_relaxed);
  stats_.file_bytes.fetch_add(content.size(), std::memory_order_relaxed);
  return Reply{200, "{\"digest\": \"" + digest + "\"}"};
}

void SinkApi::keep_table(const std::string& digest, StoredTable table) {
  std::lock_guard<std::mutex> lock(tables_mu_);
  tables_.try_emplace(digest, std::move(table));
}

}  // namespace weft_bench_sink
