// weft show: prints an object's stored value from its ref.
#include <cstdio>
#include <string>

#include "runtime/cli/commands.h"
#include "runtime/cli/options.h"
#include "runtime/stores/sqlite/store_reader.h"

namespace weft::cli {
namespace {

constexpr const char* kName = "show";
constexpr const char* kUsage =
    "usage: weft show REF [--store PATH]\n"
    "\n"
    "Prints the stored value (its canonical JSON, children as refs) of an object or op:\n"
    "REF is weave:///ENTITY/PROJECT/object/NAME:DIGEST (or .../op/NAME:DIGEST).\n"
    "\n"
    "  --store PATH      SQLite store file (default: weft.db)\n"
    "  --help            this text\n";

}  // namespace

int cmd_show(int argc, char** argv) {
  std::string store = "weft.db", ref;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return finish_stdout(kName);
    }
    int r = flag_value(i, argc, argv, "store", store);
    if (r < 0) return fail(kName, std::string(a) + " needs a value");
    if (r > 0) continue;
    if (a.substr(0, 2) == "--") return fail(kName, "unknown argument '" + std::string(a) + "' (see 'weft show --help')");
    if (!ref.empty()) return fail(kName, "one REF at a time");
    ref = std::string(a);
  }
  if (ref.empty()) return fail(kName, "missing REF (see 'weft show --help')");
  auto reader = StoreReader::open(store);
  if (!reader) return fail(kName, reader.error());
  auto val = (*reader)->object_val(ref);
  if (!val) return fail(kName, val.error());
  write_stdout(*val);
  write_stdout("\n");
  return finish_stdout(kName);
}

}  // namespace weft::cli
