// StoreRequests for tests: field-by-field comparison and a set with tricky content (unicode,
// NaN, big integers, empty and full optionals, every byte value), one or more per kind.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include <weft/digest.h>
#include <weft/json.h>
#include <weft/store_requests.h>
#include <weft/value.h>

namespace weft::testing {

// EXPECTs every field of a and b equal (file bytes by content).
inline void expect_same_request(const StoreRequest& a, const StoreRequest& b) {
  ASSERT_EQ(a.index(), b.index());
  std::visit(
      [&b](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        EXPECT_EQ(x.project_id, y.project_id);
        if constexpr (std::is_same_v<T, ObjCreateRequest>) {
          EXPECT_EQ(x.object_id, y.object_id);
          EXPECT_EQ(x.kind, y.kind);
          EXPECT_EQ(x.val_json, y.val_json);
          EXPECT_EQ(x.digest, y.digest);
          EXPECT_EQ(x.base_object_class, y.base_object_class);
          EXPECT_EQ(x.leaf_object_class, y.leaf_object_class);
          EXPECT_EQ(x.refs, y.refs);
          EXPECT_EQ(x.created_at_us, y.created_at_us);
        } else if constexpr (std::is_same_v<T, TableCreateRequest>) {
          EXPECT_EQ(x.digest, y.digest);
          EXPECT_EQ(x.row_digests, y.row_digests);
          EXPECT_EQ(x.rows_json, y.rows_json);
        } else if constexpr (std::is_same_v<T, FileCreateRequest>) {
          EXPECT_EQ(x.digest, y.digest);
          EXPECT_EQ(x.name, y.name);
          ASSERT_EQ(x.bytes == nullptr, y.bytes == nullptr);
          if (x.bytes) {
            EXPECT_EQ(*x.bytes, *y.bytes);
          }
        } else if constexpr (std::is_same_v<T, CallStartRequest>) {
          EXPECT_EQ(x.id, y.id);
          EXPECT_EQ(x.trace_id, y.trace_id);
          EXPECT_EQ(x.parent_id, y.parent_id);
          EXPECT_EQ(x.thread_id, y.thread_id);
          EXPECT_EQ(x.turn_id, y.turn_id);
          EXPECT_EQ(x.op_name, y.op_name);
          EXPECT_EQ(x.display_name, y.display_name);
          EXPECT_EQ(x.started_at_us, y.started_at_us);
          EXPECT_EQ(x.attributes_json, y.attributes_json);
          EXPECT_EQ(x.inputs_json, y.inputs_json);
          EXPECT_EQ(x.input_refs, y.input_refs);
          EXPECT_EQ(x.wb_run_id, y.wb_run_id);
          EXPECT_EQ(x.wb_run_step, y.wb_run_step);
        } else {
          EXPECT_EQ(x.id, y.id);
          EXPECT_EQ(x.started_at_us, y.started_at_us);
          EXPECT_EQ(x.ended_at_us, y.ended_at_us);
          EXPECT_EQ(x.exception_json, y.exception_json);
          EXPECT_EQ(x.output_json, y.output_json);
          EXPECT_EQ(x.output_refs, y.output_refs);
          EXPECT_EQ(x.summary_json, y.summary_json);
          EXPECT_EQ(x.wb_run_step_end, y.wb_run_step_end);
        }
      },
      a);
}

// A value with everything canonical JSON can hold that is easy to get wrong: non-ASCII
// (two-, three- and four-byte UTF-8), escapes, NUL, NaN and the infinities, -0.0, float
// reprs at the positional/scientific edges, integers beyond 64 bits, empty containers,
// key order that differs from insertion order, nesting.
inline Value tricky_value() {
  static constexpr char kEscapes[] = "q\" b\\ n\n t\t nul\0 del\x7f";
  return Value::dict({
      {"z unicode", Value::string("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe4\xb8\xad")},
      {"escapes", Value::string(std::string(kEscapes, sizeof kEscapes - 1))},
      {"nan", Value::number(std::nan(""))},
      {"inf", Value::number(std::numeric_limits<double>::infinity())},
      {"-inf", Value::number(-std::numeric_limits<double>::infinity())},
      {"floats", Value::list({Value::number(-0.0), Value::number(0.1), Value::number(1e16),
                              Value::number(1e-5), Value::number(123456789.125),
                              Value::number(5e-324), Value::number(1.7976931348623157e308)})},
      {"big", Value::list({Value::big_integer("123456789012345678901234567890"),
                           Value::big_integer("-98765432109876543210"),
                           Value::integer(std::numeric_limits<int64_t>::min()),
                           Value::integer(std::numeric_limits<int64_t>::max())})},
      {"empty", Value::list({Value::dict({}), Value::list({}), Value::string(""), Value::null()})},
      {"\xc3\xa9 key", Value::boolean(true)},
      {"A", Value::dict({{"b", Value::boolean(false)}, {"a", Value::list({Value::integer(1)})}})},
      {"ref", Value::string("weave:///ent/proj/object/Child:abc")},
  });
}

inline std::string tricky_json() { return canonical_json(tricky_value()); }

inline constexpr const char* kTrickyProject = "ent\xc3\xa9/proj";

// Requests of every kind: each field set to something awkward, and each optional field
// once set and once unset.
inline std::vector<StoreRequest> tricky_requests() {
  std::vector<StoreRequest> out;
  const std::string tricky = tricky_json();

  ObjCreateRequest op;
  op.project_id = kTrickyProject;
  op.object_id = "predict \xe2\x98\x83";
  op.kind = "op";
  op.val_json = tricky;
  op.digest = base_digest(tricky);
  op.base_object_class = "Object";
  op.leaf_object_class = "Model\xc3\xa9";
  op.refs = {"weave:///ent/proj/object/Child:abc", "weave:///ent/proj/op/f:def"};
  op.created_at_us = -1;  // 1969-12-31T23:59:59.999999Z
  out.push_back(op);
  ObjCreateRequest plain;
  plain.project_id = "ent/proj";
  plain.object_id = "n";
  plain.kind = "object";
  plain.val_json = "NaN";
  plain.digest = base_digest("NaN");
  plain.created_at_us = 1700000000123456;
  out.push_back(plain);

  TableCreateRequest table;
  table.project_id = kTrickyProject;
  for (const std::string& row : {tricky, std::string("{\"a\": 1}"), std::string("{}")}) {
    table.rows_json.push_back(row);
    table.row_digests.push_back(base_digest(row));
  }
  table.digest = table_digest(table.row_digests);
  out.push_back(table);
  TableCreateRequest empty_table;
  empty_table.project_id = "ent/proj";
  empty_table.digest = table_digest({});
  out.push_back(empty_table);

  std::string all_bytes;
  for (int i = 0; i < 256; ++i) all_bytes += static_cast<char>(i);
  for (const std::string& bytes : {all_bytes, std::string(), std::string("f"), std::string("fo")}) {
    FileCreateRequest file;
    file.project_id = kTrickyProject;
    file.name = "obj \xc3\xa9.py";
    file.bytes = std::make_shared<const std::string>(bytes);
    file.digest = file_digest(bytes);
    out.push_back(file);
  }
  FileCreateRequest no_bytes;
  no_bytes.project_id = "ent/proj";
  no_bytes.name = "x";
  no_bytes.digest = "d";
  out.push_back(no_bytes);

  CallStartRequest start;
  start.project_id = kTrickyProject;
  start.id = "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6071";
  start.trace_id = "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6070";
  start.parent_id = "0190a0b0-c0d0-7e0f-8a1b-2c3d4e5f6072";
  start.thread_id = "thread \xf0\x9f\xa7\xb5";
  start.turn_id = "";
  start.op_name = "weave:///ent/proj/op/predict:abc";
  start.display_name = "predict \"quoted\" \xc3\xa9";
  start.started_at_us = 1700000000123456;
  start.attributes_json = "{\"weave\": {\"client_version\": \"0.1\"}}";
  start.inputs_json = tricky;
  start.input_refs = {"weave:///ent/proj/object/Child:abc"};
  start.wb_run_id = "run-1";
  start.wb_run_step = std::numeric_limits<int64_t>::min();
  out.push_back(start);
  CallStartRequest bare;
  bare.project_id = "ent/proj";
  bare.id = "c2";
  bare.trace_id = "t2";
  bare.op_name = "weave:///ent/proj/op/f:abc";
  bare.started_at_us = 0;
  bare.attributes_json = "{}";
  bare.inputs_json = "{}";
  out.push_back(bare);

  CallEndRequest end;
  end.project_id = kTrickyProject;
  end.id = start.id;
  end.started_at_us = start.started_at_us;
  end.ended_at_us = 253402300799999999;  // 9999-12-31T23:59:59.999999Z
  end.exception_json =
      "{\"message\": \"bad \\\"x\\\" \\u00e9\", \"traceback\": [], \"type\": \"ValueError\"}";
  end.output_json = "123456789012345678901234567890";
  end.output_refs = {"weave:///ent/proj/object/Out:1", "weave:///ent/proj/object/Out:2"};
  end.summary_json = "{\"status_counts\": {\"success\": 1}, \"usage\": {\"m\": {\"tokens\": 7}}}";
  end.wb_run_step_end = std::numeric_limits<int64_t>::max();
  out.push_back(end);
  CallEndRequest bare_end;
  bare_end.project_id = "ent/proj";
  bare_end.id = "c2";
  bare_end.ended_at_us = 1;
  bare_end.output_json = "-Infinity";
  bare_end.summary_json = "{}";
  out.push_back(bare_end);
  return out;
}

}  // namespace weft::testing
