// The CLI's input paths: `weft canon [--lines]` and `weft digest [--kind K] [--lines]` on
// arbitrary stdin. runtime/cli/cmd_canon.cc and cmd_digest.cc are compiled into this target
// unchanged and run through their entry points cmd_canon() and cmd_digest(); this file
// supplies the helpers they call from main.cc (commands.h) over memory instead of
// stdin/stdout/stderr. run_on_stdin itself (run_on_stdin.cc) is compiled in unchanged too;
// only read_stdin, which it calls, reads the fuzz input here.
//
// Each input is fed to eleven modes, and the output must be what the library says it
// should be: canonical JSON / digests of the value (or of each line), computed here from
// parse_json, canonical_json and SHA-256; bad input must exit 2 with exactly one error line
// naming the line and carrying the parser's message, after the results of earlier lines.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <weft/digest.h>
#include <weft/json.h>

#include "runtime/cli/commands.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

struct FakeIo {
  std::string_view in;
  std::string out;
  std::vector<std::string> err;  // one entry per fail() call: "weft CMD: message"
};
FakeIo g_io;

}  // namespace

// --- the helpers main.cc defines, over g_io --------------------------------------------
namespace weft::cli {

int fail(std::string_view command, std::string_view message) {
  std::string line = "weft ";
  line.append(command).append(": ");
  for (const char c : message) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  g_io.err.push_back(std::move(line));
  return kExitUsage;
}

bool write_stdout(std::string_view bytes) {
  g_io.out.append(bytes);
  return true;
}

int finish_stdout(std::string_view) { return kExitOk; }

// stdin is g_io.in, read with main.cc's limit: one byte past max_bytes is kTooLarge.
StdinRead read_stdin(std::string& out, uint64_t max_bytes) {
  if (g_io.in.size() > max_bytes) return StdinRead::kTooLarge;
  out.assign(g_io.in);
  return StdinRead::kOk;
}

}  // namespace weft::cli

namespace {

using weft::fuzz::check;
using weft::fuzz::fail;

struct Run {
  int rc;
  std::string out;
  std::vector<std::string> err;
};

Run run(int (*cmd)(int, char**), std::vector<std::string> args, std::string_view input) {
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  g_io = FakeIo{input, {}, {}};
  const int rc = cmd(static_cast<int>(args.size()), argv.data());
  Run r{rc, std::move(g_io.out), std::move(g_io.err)};
  g_io = FakeIo{};
  return r;
}

// The pieces --lines works on, written from its documentation rather than for_each_line:
// split on '\n'; a last piece without '\n' counts, the empty piece after a final '\n' not.
std::vector<std::string_view> lines_of(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (start < s.size()) {
    const size_t nl = s.find('\n', start);
    if (nl == std::string_view::npos) {
      out.push_back(s.substr(start));
      break;
    }
    out.push_back(s.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

std::string base64_digest_of(std::string_view bytes) {
  return weft::base_digest_of_hash(weft::Sha256::of(bytes));
}

// What one command should do: the expected stdout, and the error (if any) that ends it.
struct Expected {
  std::string out;
  std::optional<std::string> error;  // the message after "weft CMD: "; nullopt = success
  bool error_is_prefix = false;      // only the start of the message is predicted
};

// kind: "canon" or the digest kind ("object", "row", "table", "file").
// Returns false and sets error for a bad piece; appends the expected output otherwise.
bool expect_piece(std::string_view kind, bool lines, std::string_view piece, size_t line_no,
                  Expected& e) {
  const std::string where = line_no == 0 ? "" : "line " + std::to_string(line_no) + ": ";
  if (kind == "file") {
    const std::string d = base64_digest_of(piece);
    e.out += d + "\n";
    return true;
  }
  const weft::Result<weft::Value> v = weft::parse_json(piece);
  if (!v) {
    e.error = where + v.error();
    return false;
  }
  if (kind == "canon") {
    e.out += weft::canonical_json(v.value()) + "\n";
    return true;
  }
  const weft::ValueKind vk = v.value().kind();
  if (kind == "object" || kind == "row") {
    if (kind == "row" && vk != weft::ValueKind::kDict) {
      e.error = where + "a row must be a JSON object";
      e.error_is_prefix = true;
      return false;
    }
    e.out += base64_digest_of(weft::canonical_json(v.value())) + "\n";
    return true;
  }
  // table
  if (vk != weft::ValueKind::kList) {
    e.error = where + "a table must be a JSON list of objects";
    e.error_is_prefix = true;
    return false;
  }
  std::string concat;
  std::string rows;
  size_t i = 0;
  for (const weft::Value& row : v.value().items()) {
    if (row.kind() != weft::ValueKind::kDict) {
      e.error = where + "table row " + std::to_string(i) + " (counting from 0) must be a JSON object";
      e.error_is_prefix = true;
      return false;
    }
    const std::string d = base64_digest_of(weft::canonical_json(row));
    concat += d;
    rows += d + (lines ? " " : "\n");
    ++i;
  }
  e.out += rows + weft::to_hex(weft::Sha256::of(concat)) + "\n";
  return true;
}

Expected expect(std::string_view kind, bool lines, std::string_view input) {
  Expected e;
  if (!lines) {
    expect_piece(kind, lines, input, 0, e);
    return e;
  }
  size_t line_no = 0;
  for (const std::string_view line : lines_of(input)) {
    if (!expect_piece(kind, lines, line, ++line_no, e)) break;
  }
  return e;
}

void check_run(std::string_view mode, std::string_view command, const Run& r, const Expected& e,
               std::string_view input) {
  const std::string what = std::string(mode) + ": ";
  if (!e.error) {
    if (r.rc != 0 || !r.err.empty()) {
      fail(what + "rejected good input: " + (r.err.empty() ? "" : r.err[0]), input);
    }
  } else {
    check(r.rc == weft::cli::kExitUsage, what + "bad input did not exit 2", input, *e.error);
    check(r.err.size() == 1, what + "bad input did not give exactly one error line", input);
    std::string want = "weft " + std::string(command) + ": " + *e.error;
    for (char& c : want) c = c == '\n' || c == '\r' ? ' ' : c;
    const bool ok = e.error_is_prefix ? r.err[0].starts_with(want) : r.err[0] == want;
    check(ok, what + "wrong error line (a: got, b: expected)", r.err[0], want);
  }
  check(r.out == e.out, what + "wrong output (a: got, b: expected)", r.out, e.out);
  // Every digest printed is well-formed.
  if (command == "digest") {
    for (const std::string_view line : lines_of(r.out)) {
      size_t start = 0;
      while (start <= line.size()) {
        size_t sp = line.find(' ', start);
        if (sp == std::string_view::npos) sp = line.size();
        const std::string_view d = line.substr(start, sp - start);
        check(weft::fuzz::is_base_digest(d) || weft::fuzz::is_table_digest(d),
              what + "printed a malformed digest", d, r.out);
        start = sp + 1;
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // --max-input: a longer input is refused before anything is printed.
  {
    const Run r = run(weft::cli::cmd_canon, {"canon", "--max-input", "64"}, input);
    if (input.size() > 64) {
      check(r.rc == weft::cli::kExitUsage && r.out.empty() && r.err.size() == 1 &&
                r.err[0] == "weft canon: input exceeds --max-input (64 bytes)",
            "canon --max-input 64: input over the limit not refused", input,
            r.err.empty() ? r.out : r.err[0]);
    } else {
      check_run("canon --max-input 64", "canon", r, expect("canon", false, input), input);
    }
  }
  for (const bool lines : {false, true}) {
    std::vector<std::string> opt;
    if (lines) opt.push_back("--lines");
    const std::string suffix = lines ? " --lines" : "";

    std::vector<std::string> args = {"canon"};
    args.insert(args.end(), opt.begin(), opt.end());
    check_run("canon" + suffix, "canon", run(weft::cli::cmd_canon, args, input),
              expect("canon", lines, input), input);

    // Each --kind spelling once: the default, "--kind=K" and "--kind K".
    const std::vector<std::pair<std::string, std::vector<std::string>>> kinds = {
        {"object", {}},
        {"row", {"--kind=row"}},
        {"table", {"--kind", "table"}},
        {"file", {"--kind=file"}},
    };
    for (const auto& [kind, kind_args] : kinds) {
      args = {"digest"};
      if (lines) args.insert(args.begin() + 1, opt.begin(), opt.end());
      args.insert(args.end(), kind_args.begin(), kind_args.end());
      check_run("digest --kind " + kind + suffix, "digest", run(weft::cli::cmd_digest, args, input),
                expect(kind, lines, input), input);
    }
  }
  return 0;
}
