// parse_request_body: the inverse of request_body_json / dead_letter_body_json, field by
// field, on content that is easy to get wrong (tests/support/store_requests.h).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <weft/digest.h>
#include <weft/json.h>

#include "runtime/stores/request_body.h"
#include "tests/support/store_requests.h"

namespace weft {
namespace {

using testing::expect_same_request;
using testing::tricky_json;
using testing::tricky_requests;

StoreRequest parse_ok(std::string_view kind, std::string_view body) {
  Result<StoreRequest> r = parse_request_body(kind, body);
  EXPECT_TRUE(r.is_ok()) << kind << ": " << r.error() << "\n" << body;
  return r.is_ok() ? std::move(r).value() : StoreRequest{};
}

std::string parse_error(std::string_view kind, std::string_view body) {
  Result<StoreRequest> r = parse_request_body(kind, body);
  EXPECT_FALSE(r.is_ok()) << body;
  EXPECT_EQ(r.code(), StatusCode::kInvalidArgument);
  return r.status().to_string();
}

TEST(RequestBody, KindNamesFollowTheVariant) {
  ASSERT_EQ(kRequestKindCount, 5u);
  for (size_t i = 0; i < kRequestKindCount; ++i) {
    EXPECT_EQ(request_kind_index(request_kind_name_at(i)), i);
  }
  EXPECT_STREQ(request_kind_name(StoreRequest(CallEndRequest{})), "call_end");
  EXPECT_STREQ(request_kind_name_at(0), "obj_create");
  EXPECT_EQ(request_kind_index("call"), std::nullopt);
}

// The premise of reading embedded values back: for canonical input, parse_json then
// canonical_json is the identity (here on every tricky embedded value).
TEST(RequestBody, CanonicalTextSurvivesParseAndWrite) {
  const std::string tricky = tricky_json();
  EXPECT_NE(tricky.find("NaN"), std::string::npos);
  EXPECT_NE(tricky.find("123456789012345678901234567890"), std::string::npos);
  EXPECT_NE(tricky.find("\\ud83d\\ude00"), std::string::npos);
  EXPECT_NE(tricky.find("\\u0000"), std::string::npos);
  for (const std::string& text :
       {tricky, std::string("NaN"), std::string("-Infinity"), std::string("-0.0"),
        std::string("123456789012345678901234567890"), std::string("{}"), std::string("null"),
        std::string("[1e+16, 1e-05, 5e-324]")}) {
    Result<Value> v = parse_json(text);
    ASSERT_TRUE(v.is_ok()) << text;
    EXPECT_EQ(canonical_json(*v), text);
  }
}

TEST(RequestBody, DeadLetterBodyRoundTripsEveryField) {
  for (const StoreRequest& r : tricky_requests()) {
    const std::string kind = request_kind_name(r);
    SCOPED_TRACE(kind);
    const std::string body = dead_letter_body_json(r);
    expect_same_request(parse_ok(kind, body), r);
    // Weave's body, then the "weft" member.
    const std::string weave = request_body_json(r);
    EXPECT_EQ(body.substr(0, weave.size() - 1), weave.substr(0, weave.size() - 1));
    EXPECT_TRUE(body.substr(weave.size() - 1).starts_with(",\"weft\":{")) << body;
    // Parsing the text and parsing the parsed value agree.
    Result<Value> v = parse_json(body);
    ASSERT_TRUE(v.is_ok()) << v.error();
    Result<StoreRequest> from_value = parse_request_body(kind, *v);
    ASSERT_TRUE(from_value.is_ok()) << from_value.error();
    expect_same_request(*from_value, r);
  }
}

// Weave's own body carries everything but weft's extras; those get the documented defaults.
TEST(RequestBody, WeaveBodyRoundTripsWhatItCarries) {
  for (const StoreRequest& r : tricky_requests()) {
    const std::string kind = request_kind_name(r);
    SCOPED_TRACE(kind);
    StoreRequest expected = r;
    std::visit(
        [](auto& e) {
          using T = std::decay_t<decltype(e)>;
          if constexpr (std::is_same_v<T, ObjCreateRequest>) {
            e.kind = "object";
            e.base_object_class.reset();
            e.leaf_object_class.reset();
            e.refs.clear();
            e.created_at_us = 0;
          } else if constexpr (std::is_same_v<T, FileCreateRequest>) {
            e.bytes.reset();
          } else if constexpr (std::is_same_v<T, CallStartRequest>) {
            e.input_refs.clear();
          } else if constexpr (std::is_same_v<T, CallEndRequest>) {
            e.output_refs.clear();
          }
          // table_create: the digests are computed from the rows, as the server does, and
          // the test requests hold exactly those.
        },
        expected);
    expect_same_request(parse_ok(kind, request_body_json(r)), expected);
  }
}

TEST(RequestBody, Base64CoversThePaddingCases) {
  // RFC 4648 section 10's vectors.
  const std::vector<std::pair<std::string, std::string>> vectors{{"", ""},
                                                                 {"f", "Zg=="},
                                                                 {"fo", "Zm8="},
                                                                 {"foo", "Zm9v"},
                                                                 {"foob", "Zm9vYg=="},
                                                                 {"fooba", "Zm9vYmE="},
                                                                 {"foobar", "Zm9vYmFy"}};
  for (const auto& [bytes, b64] : vectors) {
    FileCreateRequest f;
    f.project_id = "p";
    f.digest = "d";
    f.name = "n";
    f.bytes = std::make_shared<const std::string>(bytes);
    const std::string body = dead_letter_body_json(f);
    EXPECT_EQ(body,
              "{\"project_id\":\"p\",\"expected_digest\":\"d\",\"file\":{\"name\":\"n\",\"size\":" +
                  std::to_string(bytes.size()) + "},\"weft\":{\"bytes_base64\":\"" + b64 + "\"}}");
    expect_same_request(parse_ok("file_create", body), f);
  }
}

TEST(RequestBody, ExactDeadLetterBodies) {
  ObjCreateRequest o;
  o.project_id = "ent/proj";
  o.object_id = "model";
  o.kind = "object";
  o.val_json = "{\"a\": NaN}";
  o.digest = "d1";
  o.leaf_object_class = "Model";
  o.refs = {"weave:///ent/proj/object/C:x"};
  o.created_at_us = 1700000000123456;
  EXPECT_EQ(
      dead_letter_body_json(o),
      R"({"obj":{"project_id":"ent/proj","object_id":"model","val":{"a": NaN},"expected_digest":"d1"},)"
      R"("weft":{"kind":"object","base_object_class":null,"leaf_object_class":"Model",)"
      R"("refs":["weave:///ent/proj/object/C:x"],"created_at":"2023-11-14T22:13:20.123456Z"}})");
  TableCreateRequest t;
  t.project_id = "p";
  t.digest = "td";
  t.rows_json = {"{\"a\": 1}"};
  t.row_digests = {"rd"};
  EXPECT_EQ(
      dead_letter_body_json(t),
      R"({"table":{"project_id":"p","rows":[{"a": 1}]},"weft":{"digest":"td","row_digests":["rd"]}})");
  CallStartRequest s;
  s.input_refs = {"a", "b"};
  EXPECT_TRUE(dead_letter_body_json(s).ends_with(R"(},"weft":{"input_refs":["a","b"]}})"));
  CallEndRequest e;
  EXPECT_TRUE(dead_letter_body_json(e).ends_with(R"(},"weft":{"output_refs":[]}})"));
}

// A body some tool reformatted (spaces, other key order, other escapes and float
// spellings) reads back as canonical text.
TEST(RequestBody, ReformattedBodyReadsBackCanonical) {
  const std::string body = R"({ "weft": {"input_refs": []},
    "start": { "inputs": {"b": 1.50, "a": "\u00E9\/"}, "attributes": { },
      "started_at": "2023-11-14T22:13:20.123456Z", "trace_id": "t", "op_name": "o",
      "id": "c", "project_id": "p", "wb_run_step": 3 } })";
  auto r = std::get<CallStartRequest>(parse_ok("call_start", body));
  EXPECT_EQ(r.inputs_json, "{\"a\": \"\\u00e9/\", \"b\": 1.5}");
  EXPECT_EQ(r.attributes_json, "{}");
  EXPECT_EQ(r.wb_run_step, 3);
  EXPECT_EQ(r.parent_id, std::nullopt);  // absent, as the official clients send a root
  EXPECT_EQ(r.display_name, std::nullopt);
}

// A field nobody filled is rendered as its fallback, and read back as that.
TEST(RequestBody, EmptyTextReadsBackAsItsFallback) {
  CallStartRequest s;
  s.project_id = "p";
  s.id = "c";
  s.trace_id = "t";
  s.op_name = "o";
  auto rs = std::get<CallStartRequest>(parse_ok("call_start", dead_letter_body_json(s)));
  EXPECT_EQ(rs.attributes_json, "{}");
  EXPECT_EQ(rs.inputs_json, "{}");
  CallEndRequest e;
  e.project_id = "p";
  e.id = "c";
  auto re = std::get<CallEndRequest>(parse_ok("call_end", dead_letter_body_json(e)));
  EXPECT_EQ(re.output_json, "null");
  EXPECT_EQ(re.summary_json, "{}");
  EXPECT_EQ(re.started_at_us, 0);
  ObjCreateRequest o;
  o.project_id = "p";
  o.object_id = "n";
  o.kind = "op";
  o.digest = "d";
  auto ro = std::get<ObjCreateRequest>(parse_ok("obj_create", dead_letter_body_json(o)));
  EXPECT_EQ(ro.val_json, "null");
  EXPECT_EQ(ro.kind, "op");
}

// The official clients' end body has no started_at: 0, which the store leaves NULL.
TEST(RequestBody, AbsentOptionalsAndTimes) {
  auto e = std::get<CallEndRequest>(parse_ok(
      "call_end",
      R"({"end":{"project_id":"p","id":"c","ended_at":"2023-11-14T22:13:21.000000Z","output":1,"summary":{}}})"));
  EXPECT_EQ(e.started_at_us, 0);
  EXPECT_EQ(e.ended_at_us, 1700000001000000);
  EXPECT_EQ(e.exception_json, std::nullopt);
  EXPECT_EQ(e.wb_run_step_end, std::nullopt);
  EXPECT_EQ(e.output_json, "1");
}

TEST(RequestBody, ErrorsNameTheField) {
  EXPECT_EQ(parse_error("call", "{}"), "invalid argument: unknown request kind 'call'");
  EXPECT_EQ(parse_error("call_start", "{\"start\": "),
            "invalid argument: call_start body: invalid JSON at byte 10: expected a value");
  EXPECT_EQ(parse_error("call_start", "[]"),
            "invalid argument: call_start body: expected an object");
  EXPECT_EQ(parse_error("call_start", R"({"end":{}})"),
            "invalid argument: call_start body: start: missing");
  EXPECT_EQ(parse_error("call_start", R"({"start":[]})"),
            "invalid argument: call_start body: start: expected an object");
  EXPECT_EQ(
      parse_error(
          "call_start",
          R"({"start":{"project_id":"p","id":"c","op_name":"o","trace_id":7,"started_at":"x"}})"),
      "invalid argument: call_start body: start.trace_id: expected a string");
  EXPECT_EQ(
      parse_error(
          "call_start",
          R"({"start":{"project_id":"p","id":"c","op_name":"o","trace_id":"t","started_at":"2023-11-14"}})"),
      "invalid argument: call_start body: start.started_at: expected a time like "
      "2026-11-27T10:38:23.123456Z");
  EXPECT_EQ(
      parse_error(
          "call_end",
          R"({"end":{"project_id":"p","id":"c","ended_at":"2023-11-14T22:13:21.000000Z","wb_run_step_end":1e3}})"),
      "invalid argument: call_end body: end.wb_run_step_end: expected a 64-bit integer or null");
  EXPECT_EQ(
      parse_error(
          "call_end",
          R"({"end":{"project_id":"p","id":"c","ended_at":"2023-11-14T22:13:21.000000Z","wb_run_step_end":99999999999999999999}})"),
      "invalid argument: call_end body: end.wb_run_step_end: expected a 64-bit integer or null");
  EXPECT_EQ(parse_error("obj_create",
                        R"({"obj":{"project_id":"p","object_id":"n","expected_digest":"d"}})"),
            "invalid argument: obj_create body: obj.val: missing");
  EXPECT_EQ(
      parse_error(
          "obj_create",
          R"({"obj":{"project_id":"p","object_id":"n","val":1,"expected_digest":"d"},"weft":{"refs":"x"}})"),
      "invalid argument: obj_create body: weft.refs: expected a list of strings");
  EXPECT_EQ(
      parse_error(
          "table_create",
          R"({"table":{"project_id":"p","rows":[{}]},"weft":{"digest":"d","row_digests":[]}})"),
      "invalid argument: table_create body: weft.row_digests: 0 digests for 1 rows");
  EXPECT_EQ(parse_error("table_create", R"({"table":{"project_id":"p","rows":{}}})"),
            "invalid argument: table_create body: table.rows: expected a list");
  EXPECT_EQ(
      parse_error(
          "file_create",
          R"({"project_id":"p","expected_digest":"d","file":{"name":"n","size":1},"weft":{"bytes_base64":"Zg="}})"),
      "invalid argument: file_create body: weft.bytes_base64: not base64");
  EXPECT_EQ(
      parse_error(
          "file_create",
          R"({"project_id":"p","expected_digest":"d","file":{"name":"n","size":1},"weft":{"bytes_base64":"Zh=="}})"),
      "invalid argument: file_create body: weft.bytes_base64: not base64");  // non-zero pad bits
  EXPECT_EQ(
      parse_error(
          "file_create",
          R"({"project_id":"p","expected_digest":"d","file":{"name":"n","size":2},"weft":{"bytes_base64":"Zg=="}})"),
      "invalid argument: file_create body: weft.bytes_base64: 1 bytes, but file.size is 2");
  EXPECT_EQ(parse_error("file_create", R"({"project_id":"p","expected_digest":"d"})"),
            "invalid argument: file_create body: file: missing");
}

// A value nested far deeper than parse_json's default limit still reads back.
TEST(RequestBody, DeepValues) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += '[';
  for (int i = 0; i < 5000; ++i) deep += ']';
  CallEndRequest e;
  e.project_id = "p";
  e.id = "c";
  e.output_json = deep;
  auto r = std::get<CallEndRequest>(parse_ok("call_end", dead_letter_body_json(e)));
  EXPECT_EQ(r.output_json, deep);
}

// The calls-complete forms: one flat item holding the start's and the end's fields (no
// "mode", no wrapper, started_at once); the v2 end carries started_at, unlike the v1 end.
TEST(RequestBody, CallsCompleteBodies) {
  CallStartRequest s;
  s.project_id = "ent/proj";
  s.id = "c1";
  s.trace_id = "t1";
  s.op_name = "weave:///ent/proj/op/f:d";
  s.started_at_us = 1700000000000000;
  s.attributes_json = "{}";
  s.inputs_json = "{\"x\": 1}";
  CallEndRequest e;
  e.project_id = "ent/proj";
  e.id = "c1";
  e.started_at_us = s.started_at_us;
  e.ended_at_us = 1700000001500000;
  e.output_json = "2";
  e.summary_json = "{}";
  EXPECT_EQ(complete_call_json(s, e),
            R"({"project_id":"ent/proj","id":"c1","op_name":"weave:///ent/proj/op/f:d","trace_id":"t1",)"
            R"("started_at":"2023-11-14T22:13:20.000000Z","attributes":{},"inputs":{"x": 1},)"
            R"("ended_at":"2023-11-14T22:13:21.500000Z","output":2,"summary":{}})");
  EXPECT_EQ(v2_call_end_json(e),
            R"({"end":{"project_id":"ent/proj","id":"c1","started_at":"2023-11-14T22:13:20.000000Z",)"
            R"("ended_at":"2023-11-14T22:13:21.500000Z","output":2,"summary":{}}})");
  EXPECT_EQ(wire_body_json(e, false).find("started_at"), std::string::npos);
  // The v2 end reads back as the end it came from.
  StoreRequest back = parse_ok("call_end", v2_call_end_json(e));
  EXPECT_EQ(std::get<CallEndRequest>(back).started_at_us, e.started_at_us);
  EXPECT_EQ(std::get<CallEndRequest>(back).ended_at_us, e.ended_at_us);
}

}  // namespace
}  // namespace weft
