// DeadLetterFile: the lines it writes (exactly), reading them back, rotation at the size
// limit, lazy creation, and the errors of a path it cannot write and of a full disk.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/core/dead_letter.h"
#include "tests/support/child_process.h"
#include "tests/support/store_requests.h"

namespace weft {
namespace {

namespace fs = std::filesystem;
using testing::expect_same_request;
using testing::read_file;
using testing::TempDir;

constexpr int64_t kAt = 1700000000123456;  // 2023-11-14T22:13:20.123456Z

CallEndRequest small_end(std::string id) {
  CallEndRequest e;
  e.project_id = "p";
  e.id = std::move(id);
  e.ended_at_us = 1700000001000000;
  e.output_json = "1";
  e.summary_json = "{}";
  return e;
}

void write_text(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

TEST(DeadLetterFile, NothingIsCreatedUntilTheFirstAppend) {
  TempDir dir("weft-dl");
  const fs::path path = dir.path() / "dead.jsonl";
  {
    DeadLetterFile dl(path.string(), 1 << 20);
    EXPECT_EQ(dl.path(), path.string());
    EXPECT_EQ(dl.written_total(), 0u);
    EXPECT_EQ(dl.failed_appends(), 0u);
  }
  EXPECT_FALSE(fs::exists(path));
  DeadLetterFile dl(path.string(), 1 << 20);
  ASSERT_TRUE(dl.append(small_end("c"), Status::unavailable("x"), 1, kAt));
  EXPECT_TRUE(fs::exists(path));
}

TEST(DeadLetterFile, ExactLine) {
  TempDir dir("weft-dl");
  const fs::path path = dir.path() / "dead.jsonl";
  DeadLetterFile dl(path.string(), 1 << 20);
  ASSERT_TRUE(dl.append(small_end("c"), Status::unavailable("database is \"locked\""), 3, kAt));
  EXPECT_EQ(
      read_file(path),
      R"({"at":"2023-11-14T22:13:20.123456Z","kind":"call_end","code":"unavailable",)"
      R"("reason":"database is \"locked\"","attempts":3,"body":{"end":{"project_id":"p",)"
      R"("id":"c","started_at":"1970-01-01T00:00:00.000000Z","ended_at":"2023-11-14T22:13:21.000000Z",)"
      R"("exception":null,"output":1,"summary":{},"wb_run_step_end":null},"weft":{"output_refs":[]}}})"
      "\n");
  // The line is JSON as Python reads it, and "body" minus "weft" is the Weave body.
  Result<Value> line = parse_json(lines_of(read_file(path))[0]);
  ASSERT_TRUE(line.is_ok());
  const Value* body = line->find("body");
  ASSERT_NE(body, nullptr);
  EXPECT_EQ(canonical_json(*body->find("end")),
            canonical_json(*parse_json(request_body_json(small_end("c")))->find("end")));
}

TEST(DeadLetterFile, EveryKindReadsBackExactly) {
  TempDir dir("weft-dl");
  const fs::path path = dir.path() / "dead.jsonl";
  const std::vector<StoreRequest> requests = testing::tricky_requests();
  const std::vector<Status> reasons{Status::unavailable("database is locked"),
                                    Status::invalid_argument("bad \xc3\xa9\nline two"),
                                    Status::resource_exhausted("disk full"),
                                    Status::deadline_exceeded(""), Status::internal("x")};
  std::array<uint64_t, kRequestKindCount> per_kind{};
  {
    DeadLetterFile dl(path.string(), 1 << 20);
    for (size_t i = 0; i < requests.size(); ++i) {
      ASSERT_TRUE(dl.append(requests[i], reasons[i % reasons.size()],
                            static_cast<uint32_t>(i * 1000), kAt + static_cast<int64_t>(i)));
      ++per_kind[requests[i].index()];
    }
    for (size_t k = 0; k < kRequestKindCount; ++k) EXPECT_EQ(dl.written(k), per_kind[k]) << k;
    EXPECT_EQ(dl.written_total(), requests.size());
    EXPECT_EQ(dl.failed_appends(), 0u);
    EXPECT_EQ(dl.rotations(), 0u);
  }
  const std::string text = read_file(path);
  EXPECT_EQ(lines_of(text).size(), requests.size());
  EXPECT_TRUE(text.ends_with('\n'));
  // Python's json reads every line (NaN included), and its body minus "weft" is exactly
  // the Weave body request_body_json renders.
  {
    const fs::path weave = dir.path() / "weave.jsonl";
    std::string bodies;
    for (const StoreRequest& r : requests) bodies += request_body_json(r) + "\n";
    write_text(weave, bodies);
    const std::string cmd =
        "python3 -c \"import json, sys\n"
        "lines = [json.loads(l) for l in open(sys.argv[1], encoding='utf-8')]\n"
        "weave = [json.loads(l) for l in open(sys.argv[2], encoding='utf-8')]\n"
        "dump = lambda v: json.dumps(v, sort_keys=True)\n"  // compares NaN as text
        "same = all(dump({k: v for k, v in l['body'].items() if k != 'weft'}) == dump(w)"
        " for l, w in zip(lines, weave))\n"
        "print(len(lines), sorted(set(l['kind'] for l in lines)), same)\" " +
        path.string() + " " + weave.string() + " 2>&1";
    std::FILE* p = ::popen(cmd.c_str(), "r");
    ASSERT_NE(p, nullptr);
    std::string out;
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
    ::pclose(p);
    EXPECT_EQ(
        out, std::to_string(requests.size()) +
                 " ['call_end', 'call_start', 'file_create', 'obj_create', 'table_create'] True\n");
  }

  Result<std::vector<DeadLetterEntry>> entries = DeadLetterFile::read(path.string());
  ASSERT_TRUE(entries.is_ok()) << entries.error();
  ASSERT_EQ(entries->size(), requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE(i);
    const DeadLetterEntry& e = (*entries)[i];
    EXPECT_EQ(e.line, i + 1);
    EXPECT_EQ(e.at_unix_micros, kAt + static_cast<int64_t>(i));
    EXPECT_EQ(e.kind, request_kind_name(requests[i]));
    EXPECT_EQ(e.code, reasons[i % reasons.size()].code());
    EXPECT_EQ(e.reason, reasons[i % reasons.size()].message());
    EXPECT_EQ(e.attempts, i * 1000);
    expect_same_request(e.request, requests[i]);
  }
}

// Non-canonical embedded JSON with line breaks (not weft's own writer) stays on one line.
TEST(DeadLetterFile, LineBreaksInEmbeddedJsonStayOnOneLine) {
  TempDir dir("weft-dl");
  const fs::path path = dir.path() / "dead.jsonl";
  CallEndRequest e = small_end("c");
  e.output_json = "{\r\n  \"b\": 1,\n  \"a\": \"x\\ny\"\n}";
  DeadLetterFile dl(path.string(), 1 << 20);
  ASSERT_TRUE(dl.append(e, Status::internal("x"), 1, kAt));
  EXPECT_EQ(lines_of(read_file(path)).size(), 1u);
  auto entries = DeadLetterFile::read(path.string());
  ASSERT_TRUE(entries.is_ok()) << entries.error();
  EXPECT_EQ(std::get<CallEndRequest>((*entries)[0].request).output_json,
            "{\"a\": \"x\\ny\", \"b\": 1}");
}

// Lines that all have the same length L, told apart by their call id.
struct Lines {
  std::vector<std::string> text;  // as a file without a size limit holds them
  size_t length = 0;              // with the '\n'
};
Lines reference_lines(const fs::path& dir, int n) {
  const fs::path ref = dir / "reference.jsonl";
  DeadLetterFile dl(ref.string(), UINT64_MAX);
  for (int i = 0; i < n; ++i)
    EXPECT_TRUE(dl.append(small_end("c" + std::to_string(i)), Status::unavailable("x"), 1, kAt));
  Lines out;
  out.text = lines_of(read_file(ref));
  out.length = out.text.at(0).size() + 1;
  for (const std::string& l : out.text) EXPECT_EQ(l.size() + 1, out.length);
  fs::remove(ref);
  return out;
}
std::string joined(const Lines& lines, int from, int to) {  // lines [from, to)
  std::string s;
  for (int i = from; i < to; ++i) s += lines.text[i] + "\n";
  return s;
}

TEST(DeadLetterFile, RotatesAtTheSizeLimit) {
  TempDir dir("weft-dl");
  const Lines lines = reference_lines(dir.path(), 7);
  const fs::path path = dir.path() / "dead.jsonl";
  // Exactly two lines fit: a file may reach max_bytes, not pass it.
  DeadLetterFile dl(path.string(), 2 * lines.length, 3);
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(dl.append(small_end("c" + std::to_string(i)), Status::unavailable("x"), 1, kAt));
    if (i == 1) {
      EXPECT_EQ(dl.rotations(), 0u);
      EXPECT_FALSE(fs::exists(path.string() + ".1"));
    }
  }
  EXPECT_EQ(dl.rotations(), 3u);
  EXPECT_EQ(dl.written(4), 7u);  // written counts lines appended, rotated away or not
  EXPECT_EQ(read_file(path), joined(lines, 6, 7));
  EXPECT_EQ(read_file(path.string() + ".1"), joined(lines, 4, 6));
  EXPECT_EQ(read_file(path.string() + ".2"), joined(lines, 2, 4));
  EXPECT_FALSE(fs::exists(path.string() + ".3"));  // three files in all: c0 and c1 are gone
  size_t files = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path())) ++files;
  EXPECT_EQ(files, 3u);
}

TEST(DeadLetterFile, OneFileRotationDiscardsAndLongLinesGetAFileOfTheirOwn) {
  TempDir dir("weft-dl");
  const Lines lines = reference_lines(dir.path(), 3);
  const fs::path path = dir.path() / "dead.jsonl";
  {
    DeadLetterFile dl(path.string(), 2 * lines.length - 1, 1);
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(dl.append(small_end("c" + std::to_string(i)), Status::unavailable("x"), 1, kAt));
    EXPECT_EQ(dl.rotations(), 2u);
    EXPECT_EQ(read_file(path), joined(lines, 2, 3));
    EXPECT_FALSE(fs::exists(path.string() + ".1"));
  }
  fs::remove(path);
  {
    DeadLetterFile dl(path.string(), 10, 2);  // shorter than any line
    for (int i = 0; i < 3; ++i)
      ASSERT_TRUE(dl.append(small_end("c" + std::to_string(i)), Status::unavailable("x"), 1, kAt));
    EXPECT_EQ(read_file(path), joined(lines, 2, 3));
    EXPECT_EQ(read_file(path.string() + ".1"), joined(lines, 1, 2));
    EXPECT_FALSE(fs::exists(path.string() + ".2"));
  }
}

// An existing file is appended to, its size counts towards the limit, and a line left
// unfinished is ended first so that only it reads as bad.
TEST(DeadLetterFile, AppendsToAnExistingFileAndEndsAPartialLine) {
  TempDir dir("weft-dl");
  const Lines lines = reference_lines(dir.path(), 2);
  const fs::path path = dir.path() / "dead.jsonl";
  write_text(path, lines.text[0] + "\n" + "{\"at\":\"2023-11");
  {
    DeadLetterFile dl(path.string(), 1 << 20);
    ASSERT_TRUE(dl.append(small_end("c1"), Status::unavailable("x"), 1, kAt));
  }
  EXPECT_EQ(read_file(path), lines.text[0] + "\n{\"at\":\"2023-11\n" + lines.text[1] + "\n");

  Result<std::vector<DeadLetterEntry>> all = DeadLetterFile::read(path.string());
  ASSERT_FALSE(all.is_ok());
  EXPECT_EQ(all.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(all.error().starts_with(path.string() + ": line 2: invalid JSON at byte "))
      << all.error();

  Result<DeadLetterReader> reader = DeadLetterReader::open(path.string());
  ASSERT_TRUE(reader.is_ok());
  auto first = reader->next();
  ASSERT_TRUE(first.is_ok() && first->has_value());
  EXPECT_EQ(std::get<CallEndRequest>((*first)->request).id, "c0");
  auto bad = reader->next();
  EXPECT_FALSE(bad.is_ok());
  EXPECT_TRUE(bad.error().starts_with("line 2: ")) << bad.error();
  auto third = reader->next();
  ASSERT_TRUE(third.is_ok() && third->has_value()) << third.error();
  EXPECT_EQ((*third)->line, 3u);
  EXPECT_EQ(std::get<CallEndRequest>((*third)->request).id, "c1");
  auto end = reader->next();
  ASSERT_TRUE(end.is_ok());
  EXPECT_FALSE(end->has_value());

  // The existing size counts: with room for one more line only, the next append rotates.
  const uint64_t size = fs::file_size(path);
  DeadLetterFile dl(path.string(), size + lines.length - 1);
  ASSERT_TRUE(dl.append(small_end("c1"), Status::unavailable("x"), 1, kAt));
  EXPECT_EQ(dl.rotations(), 1u);
  EXPECT_EQ(fs::file_size(path.string() + ".1"), size);
}

TEST(DeadLetterFile, UnwritablePathIsAnErrorNotACrash) {
  TempDir dir("weft-dl");
  const fs::path missing_dir = dir.path() / "no" / "such" / "dead.jsonl";
  DeadLetterFile dl(missing_dir.string(), 1 << 20);
  for (int i = 0; i < 2; ++i) {
    Status st = dl.append(small_end("c"), Status::unavailable("x"), 1, kAt);
    EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition);
    EXPECT_EQ(st.message(), "cannot open dead-letter file " + missing_dir.string() +
                                ": No such file or directory");
  }
  EXPECT_EQ(dl.failed_appends(), 2u);
  EXPECT_EQ(dl.written_total(), 0u);

  DeadLetterFile is_dir(dir.path().string(), 1 << 20);  // a directory
  Status st = is_dir.append(small_end("c"), Status::unavailable("x"), 1, kAt);
  EXPECT_EQ(st.code(), StatusCode::kFailedPrecondition) << st.to_string();
  EXPECT_EQ(is_dir.failed_appends(), 1u);
}

// /dev/full opens, and every write to it fails with ENOSPC.
TEST(DeadLetterFile, FullDiskIsResourceExhaustedAndCounted) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  DeadLetterFile dl("/dev/full", 1 << 20);
  for (int i = 0; i < 2; ++i) {
    Status st = dl.append(small_end("c"), Status::unavailable("x"), 1, kAt);
    EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
    EXPECT_EQ(st.message(), "cannot write dead-letter file /dev/full: No space left on device");
  }
  EXPECT_EQ(dl.failed_appends(), 2u);
  EXPECT_EQ(dl.written(4), 0u);
}

TEST(DeadLetterReader, BadLinesAreReportedWithTheirNumber) {
  TempDir dir("weft-dl");
  const Lines lines = reference_lines(dir.path(), 1);
  const fs::path path = dir.path() / "dead.jsonl";
  const std::string good = lines.text[0];
  auto with = [&good](std::string_view from, std::string_view to) {
    std::string s = good;
    s.replace(s.find(from), from.size(), to);
    return s;
  };
  const std::vector<std::pair<std::string, std::string>> cases{
      {"[1]", "expected a JSON object"},
      {with("\"at\":\"2023-11-14T22:13:20.123456Z\"", "\"at\":1"), "at: expected a string"},
      {with("2023-11-14T22:13:20.123456Z", "yesterday"),
       "at: expected a time like 2026-11-27T10:38:23.123456Z"},
      {with("\"kind\":\"call_end\"", "\"kind\":\"call_start\""), "call_start body: start: missing"},
      {with("\"kind\":\"call_end\"", "\"kind\":\"call\""), "unknown request kind 'call'"},
      {with("unavailable", "busy"), "code: unknown status code 'busy'"},
      {with("\"attempts\":1", "\"attempts\":-1"), "attempts: expected an integer in [0, 2^32)"},
      {with("\"attempts\":1", "\"attempts\":4294967296"),
       "attempts: expected an integer in [0, 2^32)"},
      {with(",\"reason\":\"x\"", ""), "reason: missing"},
      {with("\"id\":\"c0\"", "\"id\":null"), "call_end body: end.id: expected a string"},
  };
  std::string text = good + "\n\n  \n";  // blank lines are skipped
  for (const auto& c : cases) text += c.first + "\n";
  text += good;  // no final '\n'
  write_text(path, text);

  Result<DeadLetterReader> reader = DeadLetterReader::open(path.string());
  ASSERT_TRUE(reader.is_ok());
  auto first = reader->next();
  ASSERT_TRUE(first.is_ok() && first->has_value());
  for (size_t i = 0; i < cases.size(); ++i) {
    auto bad = reader->next();
    ASSERT_FALSE(bad.is_ok()) << i;
    EXPECT_EQ(bad.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(bad.error(), "line " + std::to_string(i + 4) + ": " + cases[i].second);
  }
  auto last = reader->next();
  ASSERT_TRUE(last.is_ok() && last->has_value()) << last.error();
  EXPECT_EQ((*last)->line, cases.size() + 4);
  EXPECT_FALSE(reader->next()->has_value());

  Result<DeadLetterReader> missing = DeadLetterReader::open((dir.path() / "nope").string());
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
}

TEST(DeadLetterReader, StatusCodeIds) {
  for (int c = 0; c <= static_cast<int>(StatusCode::kInternal); ++c) {
    const auto code = static_cast<StatusCode>(c);
    EXPECT_EQ(parse_status_code_id(status_code_id(code)), code);
  }
  EXPECT_EQ(status_code_id(StatusCode::kResourceExhausted), "resource_exhausted");
  EXPECT_EQ(parse_status_code_id("resource exhausted"), std::nullopt);
}

}  // namespace
}  // namespace weft
