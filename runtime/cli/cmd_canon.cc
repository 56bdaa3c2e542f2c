// weft canon: JSON on stdin -> canonical JSON on stdout.
#include <cstdint>
#include <string>
#include <string_view>

#include <weft/json.h>

#include "runtime/cli/commands.h"
#include "runtime/cli/options.h"

namespace weft::cli {
namespace {

constexpr std::string_view kName = "canon";

constexpr std::string_view kHelp =
    "usage: weft canon [--lines] [--max-input BYTES] < input.json\n"
    "\n"
    "Reads one JSON value from stdin and prints its canonical JSON - byte for byte what\n"
    "Python's json.dumps(value, sort_keys=True) prints - followed by a newline.\n"
    "NaN, Infinity and -Infinity are accepted and printed as Python prints them.\n"
    "\n"
    "options:\n"
    "  --lines            one JSON value per input line, one canonical line out per line\n"
    "  --max-input BYTES  read at most BYTES of stdin (default 256M; suffixes K, M, G are\n"
    "                     KiB, MiB, GiB); a longer input is refused before any output\n"
    "  --help             this text\n"
    "\n"
    "Invalid input: exit status 2 and one line on stderr giving the byte offset (and, with\n"
    "--lines, the line number; results for the lines before it are already printed).\n"
    "Input over --max-input: exit status 2 and one line on stderr.\n";

// Parses `text` and appends its canonical JSON and '\n' to out; non-zero on bad input.
int canon_one(std::string_view text, size_t line_no, std::string& out) {
  Result<Value> v = parse_json(text);
  if (!v) {
    return fail(kName, line_no == 0 ? v.error()
                                    : "line " + std::to_string(line_no) + ": " + v.error());
  }
  write_canonical_json(v.value(), out);
  out.push_back('\n');
  return 0;
}

}  // namespace

int cmd_canon(int argc, char** argv) {
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
    } else {
      return fail(kName, "unknown argument '" + std::string(arg) + "' (see 'weft canon --help')");
    }
  }
  return run_on_stdin(kName, lines, max_input, canon_one);
}

}  // namespace weft::cli
