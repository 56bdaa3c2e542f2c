// weft: the command-line tool. main() only dispatches; each subcommand lives in its own
// cmd_*.cc file and is one line in kCommands below.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>

#include "runtime/cli/commands.h"

namespace weft::cli {
namespace {

struct Command {
  const char* name;
  int (*run)(int argc, char** argv);
  const char* summary;
};

constexpr Command kCommands[] = {
    {"demo", cmd_demo, "run an evaluation workload into the embedded store and summarise it"},
    {"top", cmd_top, "show a running weft's metrics endpoint as a live table"},
    {"calls", cmd_calls, "print the call tree of a store"},
    {"show", cmd_show, "print a stored object's value from its ref"},
    {"replay", cmd_replay, "write the requests of dead-letter files into a store"},
    {"canon", cmd_canon, "print the canonical JSON (Weave's json.dumps(v, sort_keys=True))"},
    {"digest", cmd_digest, "print the Weave digest of a JSON value, row, table or file"},
};

void print_usage(std::FILE* to) {
  std::fputs(
      "usage: weft COMMAND [OPTIONS]\n"
      "\n"
      "commands:\n",
      to);
  for (const Command& c : kCommands) std::fprintf(to, "  %-10s %s\n", c.name, c.summary);
  std::fputs(
      "\n"
      "'weft COMMAND --help' (or 'weft help COMMAND') describes one command.\n",
      to);
}

const Command* find_command(std::string_view name) {
  for (const Command& c : kCommands) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace

StdinRead read_stdin(std::string& out, uint64_t max_bytes) {
  // fread on a FILE* is binary on POSIX; a large buffer keeps big inputs to few syscalls.
  // Each read asks for at most one byte past the limit, so a stream over it is never read
  // further than that byte.
  char buf[1 << 16];
  while (true) {
    const uint64_t room = max_bytes - out.size();  // out.size() <= max_bytes here
    const size_t want = room < sizeof buf ? static_cast<size_t>(room) + 1 : sizeof buf;
    const size_t n = std::fread(buf, 1, want, stdin);
    if (n > room) return StdinRead::kTooLarge;
    out.append(buf, n);
    if (n < want) return std::ferror(stdin) ? StdinRead::kError : StdinRead::kOk;
  }
}

int fail(std::string_view command, std::string_view message) {
  std::string line = "weft ";
  line.append(command).append(": ");
  for (const char c : message) line.push_back(c == '\n' || c == '\r' ? ' ' : c);
  line.push_back('\n');
  std::fwrite(line.data(), 1, line.size(), stderr);
  return kExitUsage;
}

bool write_stdout(std::string_view bytes) {
  return std::fwrite(bytes.data(), 1, bytes.size(), stdout) == bytes.size();
}

int finish_stdout(std::string_view command) {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    fail(command, std::string("write error: ") + std::strerror(errno));
    return kExitFailure;
  }
  return kExitOk;
}

}  // namespace weft::cli

int main(int argc, char** argv) {
  using namespace weft::cli;
  if (argc < 2) {
    std::fputs("weft: missing command (see 'weft --help')\n", stderr);
    return kExitUsage;
  }
  const std::string_view first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    if (first == "help" && argc > 2) {
      // `weft help CMD` is `weft CMD --help`.
      const Command* c = find_command(argv[2]);
      if (c == nullptr) {
        std::fprintf(stderr, "weft: unknown command '%s' (see 'weft --help')\n", argv[2]);
        return kExitUsage;
      }
      char help_flag[] = "--help";
      char* sub_argv[] = {argv[2], help_flag, nullptr};
      return c->run(2, sub_argv);
    }
    print_usage(stdout);
    return finish_stdout("help");
  }
  const Command* c = find_command(first);
  if (c == nullptr) {
    std::fprintf(stderr, "weft: unknown command '%s' (see 'weft --help')\n", argv[1]);
    return kExitUsage;
  }
  return c->run(argc - 1, argv + 1);
}
