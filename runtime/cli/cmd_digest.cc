// weft digest: Weave digests of stdin (docs/COMPATIBILITY.md#digests).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <weft/digest.h>
#include <weft/json.h>

#include "runtime/cli/commands.h"
#include "runtime/cli/options.h"

namespace weft::cli {
namespace {

constexpr std::string_view kName = "digest";

constexpr std::string_view kHelp =
    "usage: weft digest [--kind object|row|table|file] [--lines] [--max-input BYTES] < input\n"
    "\n"
    "Prints the Weave digest of stdin.\n"
    "  --kind object  (default) a JSON value: base digest of its canonical JSON (43 chars)\n"
    "  --kind row     the same, but the value must be a JSON object\n"
    "  --kind table   a JSON list of row objects: each row digest on its own line, then\n"
    "                 the table digest (64 lowercase hex chars; an empty list prints only\n"
    "                 e3b0c442...b855)\n"
    "  --kind file    the raw bytes of stdin (binary-safe): base digest of the bytes\n"
    "  --lines        treat each input line as a separate input and print one line per\n"
    "                 input line. With --kind table that line is the row digests and the\n"
    "                 table digest separated by single spaces; with --kind file each line's\n"
    "                 bytes, without the '\\n', are the file\n"
    "  --max-input BYTES\n"
    "                 read at most BYTES of stdin (default 256M; suffixes K, M, G are KiB,\n"
    "                 MiB, GiB); a longer input is refused before any output\n"
    "  --help         this text\n"
    "\n"
    "Invalid input: exit status 2 and one line on stderr giving the byte offset (and, with\n"
    "--lines, the line number; results for the lines before it are already printed).\n"
    "Input over --max-input: exit status 2 and one line on stderr.\n";

enum class Kind { kObject, kRow, kTable, kFile };

bool parse_kind(std::string_view s, Kind& kind) {
  if (s == "object") return kind = Kind::kObject, true;
  if (s == "row") return kind = Kind::kRow, true;
  if (s == "table") return kind = Kind::kTable, true;
  if (s == "file") return kind = Kind::kFile, true;
  return false;
}

std::string where(size_t line_no) {
  return line_no == 0 ? std::string() : "line " + std::to_string(line_no) + ": ";
}

// Digests one input and appends the result line(s) to out; non-zero on bad input.
int digest_one(Kind kind, bool lines, std::string_view text, size_t line_no, std::string& out) {
  if (kind == Kind::kFile) {
    out += file_digest(text);
    out.push_back('\n');
    return 0;
  }
  Result<Value> parsed = parse_json(text);
  if (!parsed) return fail(kName, where(line_no) + parsed.error());
  const Value& v = parsed.value();
  if (kind == Kind::kObject || kind == Kind::kRow) {
    if (kind == Kind::kRow && v.kind() != ValueKind::kDict) {
      return fail(kName, where(line_no) + "a row must be a JSON object, got " +
                             kind_name(v.kind()));
    }
    out += object_digest(v);
    out.push_back('\n');
    return 0;
  }
  if (v.kind() != ValueKind::kList) {
    return fail(kName, where(line_no) + "a table must be a JSON list of objects, got " +
                           kind_name(v.kind()));
  }
  std::vector<std::string> rows;
  rows.reserve(v.items().size());
  for (const Value& row : v.items()) {
    if (row.kind() != ValueKind::kDict) {
      return fail(kName, where(line_no) + "table row " + std::to_string(rows.size()) +
                             " (counting from 0) must be a JSON object, got " +
                             kind_name(row.kind()));
    }
    rows.push_back(object_digest(row));
  }
  const char sep = lines ? ' ' : '\n';
  for (const std::string& r : rows) out.append(r).push_back(sep);
  out += table_digest(rows);
  out.push_back('\n');
  return 0;
}

}  // namespace

int cmd_digest(int argc, char** argv) {
  Kind kind = Kind::kObject;
  bool lines = false;
  uint64_t max_input = kDefaultMaxInput;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      write_stdout(kHelp);
      return finish_stdout(kName);
    }
    std::string error;
    if (const int r = max_input_flag(i, argc, argv, max_input, error); r != 0) {
      if (r < 0) return fail(kName, error);
    } else if (arg == "--lines") {
      lines = true;
    } else if (arg == "--kind" || arg.starts_with("--kind=")) {
      std::string_view value;
      if (arg == "--kind") {
        if (i + 1 >= argc) return fail(kName, "--kind needs a value: object, row, table or file");
        value = argv[++i];
      } else {
        value = arg.substr(7);
      }
      if (!parse_kind(value, kind)) {
        return fail(kName, "unknown --kind '" + std::string(value) +
                               "' (expected object, row, table or file)");
      }
    } else {
      return fail(kName,
                  "unknown argument '" + std::string(arg) + "' (see 'weft digest --help')");
    }
  }
  return run_on_stdin(kName, lines, max_input,
                      [&](std::string_view text, size_t line_no, std::string& out) {
                        return digest_one(kind, lines, text, line_no, out);
                      });
}

}  // namespace weft::cli
