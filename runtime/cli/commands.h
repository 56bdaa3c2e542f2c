// weft's subcommands and the little they share. To add a command: declare its
// `int cmd_NAME(int argc, char** argv)` here and add one line to kCommands in main.cc.
//
// Conventions every command follows: argv[0] is the command name ("canon"); `--help`
// prints usage on stdout and exits 0; bad usage or bad input prints exactly one line on
// stderr, "weft NAME: what happened", and exits 2 (kExitUsage); other failures exit 1.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace weft::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int cmd_canon(int argc, char** argv);
int cmd_digest(int argc, char** argv);
int cmd_demo(int argc, char** argv);
int cmd_top(int argc, char** argv);
int cmd_calls(int argc, char** argv);
int cmd_show(int argc, char** argv);
int cmd_replay(int argc, char** argv);

// Shared helpers (main.cc).

// The default --max-input of the commands that read stdin: 256 MiB.
inline constexpr uint64_t kDefaultMaxInput = uint64_t{256} << 20;

// How read_stdin ended.
enum class StdinRead { kOk, kError, kTooLarge };
// Reads all of stdin as bytes (no text-mode translation, NULs kept), at most max_bytes of
// it: one byte more stops the read with kTooLarge, the rest of stdin never read.
StdinRead read_stdin(std::string& out, uint64_t max_bytes);
// Prints "weft CMD: message" as one line on stderr (newlines in message become spaces)
// and returns kExitUsage, so a command can `return fail(...)`.
int fail(std::string_view command, std::string_view message);
// Writes bytes to stdout; false on a write error.
bool write_stdout(std::string_view bytes);
// Flushes stdout; on error reports "weft CMD: write error: ..." and returns kExitFailure.
int finish_stdout(std::string_view command);

// Reads stdin (at most max_input bytes: more fails with "weft CMD: input exceeds
// --max-input (N bytes)" before anything runs) and runs one(text, line_number, out) on all
// of it (line_number 0), or with `lines` on each line; prints `out` (in chunks: bounded
// memory on huge inputs), flushes stdout, and returns the first non-zero result of one(),
// else finish_stdout's.
int run_on_stdin(std::string_view command, bool lines, uint64_t max_input,
                 const std::function<int(std::string_view, size_t, std::string&)>& one);

// Calls fn(line, line_number) for each '\n'-separated line (without the '\n'; line numbers
// from 1). A final line without '\n' counts; the empty piece after a final '\n' does not.
// Stops at and returns the first non-zero result.
template <class Fn>
int for_each_line(std::string_view input, Fn&& fn) {
  size_t line_no = 0;
  while (!input.empty()) {
    const size_t nl = input.find('\n');
    const std::string_view line = input.substr(0, nl);
    if (int rc = fn(line, ++line_no); rc != 0) return rc;
    if (nl == std::string_view::npos) break;
    input.remove_prefix(nl + 1);
  }
  return 0;
}

}  // namespace weft::cli
