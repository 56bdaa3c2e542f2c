// run_on_stdin (commands.h): the shared driver of the commands that read stdin. Its own file,
// so the fuzz target of the CLI's input (tests/fuzz/cli_input_fuzz.cc) runs this very code
// with an in-memory read_stdin instead of a copy of it.
#include <functional>
#include <string>
#include <string_view>

#include "runtime/cli/commands.h"

namespace weft::cli {

int run_on_stdin(std::string_view command, bool lines, uint64_t max_input,
                 const std::function<int(std::string_view, size_t, std::string&)>& one) {
  std::string input;
  switch (read_stdin(input, max_input)) {
    case StdinRead::kOk: break;
    case StdinRead::kError: return fail(command, "cannot read stdin");
    case StdinRead::kTooLarge:
      return fail(command, "input exceeds --max-input (" + std::to_string(max_input) + " bytes)");
  }
  std::string out;
  int rc = 0;
  if (!lines) {
    rc = one(input, 0, out);
  } else {
    rc = for_each_line(input, [&](std::string_view line, size_t line_no) {
      const int r = one(line, line_no, out);
      if (out.size() >= (1 << 20)) {
        write_stdout(out);
        out.clear();
      }
      return r;
    });
  }
  write_stdout(out);
  const int flush_rc = finish_stdout(command);
  return rc != 0 ? rc : flush_rc;
}

}  // namespace weft::cli
