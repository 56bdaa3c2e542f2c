// weft calls: prints the call tree of a store.
#include <cstdio>
#include <string>

#include "runtime/cli/commands.h"
#include "runtime/cli/options.h"
#include "runtime/stores/sqlite/store_reader.h"

namespace weft::cli {
namespace {

constexpr const char* kName = "calls";
constexpr const char* kUsage =
    "usage: weft calls [--store PATH] [--project ENTITY/PROJECT]\n"
    "\n"
    "Prints every call in the store as a tree: children indented under their parent, in\n"
    "start order, with the op, the status and the summary.\n"
    "\n"
    "  --store PATH      SQLite store file (default: weft.db)\n"
    "  --project E/P     only this project's calls\n"
    "  --help            this text\n";

// "weave:///e/p/op/predict:abc" -> "predict"
std::string op_short_name(const std::string& op) {
  auto slash = op.rfind('/');
  std::string s = slash == std::string::npos ? op : op.substr(slash + 1);
  auto colon = s.find(':');
  return colon == std::string::npos ? s : s.substr(0, colon);
}

}  // namespace

int cmd_calls(int argc, char** argv) {
  std::string store = "weft.db", project;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return finish_stdout(kName);
    }
    int r = flag_value(i, argc, argv, "store", store);
    if (r == 0) r = flag_value(i, argc, argv, "project", project);
    if (r < 0) return fail(kName, std::string(a) + " needs a value");
    if (r == 0) return fail(kName, "unknown argument '" + std::string(a) + "' (see 'weft calls --help')");
  }
  auto reader = StoreReader::open(store);
  if (!reader) return fail(kName, reader.error());
  auto calls = project.empty() ? (*reader)->call_tree() : (*reader)->call_tree(project);
  if (!calls) return fail(kName, calls.error());
  for (const CallRow& c : *calls) {
    std::string line(static_cast<size_t>(2 * c.depth), ' ');
    line += c.display_name.value_or(op_short_name(c.op_name.value_or("?")));
    line += "  [" + std::string(!c.ended_at ? "running" : c.exception ? "error" : "ok") + "]";
    line += "  " + c.id;
    if (c.started_at) line += "  " + *c.started_at;
    if (c.summary && c.depth == 0) line += "  " + *c.summary;
    line += "\n";
    if (!write_stdout(line)) break;
  }
  return finish_stdout(kName);
}

}  // namespace weft::cli
