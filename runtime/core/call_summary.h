// A call's summary, rolled up over its child calls (docs/COMPATIBILITY.md#calls):
//   {"status_counts": {"error": e, "success": s}, "usage": {model: {"requests": n, ...}}}
// No CAF here: the roll-up is plain data, testable on its own.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include <weft/value.h>

namespace weft {

struct CallSummary {
  struct Number {
    bool is_float = false;
    int64_t i = 0;
    double d = 0;
  };
  // model -> usage field -> sum
  std::map<std::string, std::map<std::string, Number>> usage;
  int64_t success = 0;
  int64_t error = 0;

  // Adds a call's own usage if its output (a dict or an Object) has "usage" (dict or
  // Object of numbers) and "model" (a string): counted as one request of that model.
  void add_own_output(const Value& output);
  void add(const CallSummary& child);
  // Canonical JSON (keys sorted, as json.dumps(sort_keys=True)). "usage" is left out
  // when no call reported any.
  std::string to_json() const;
};

}  // namespace weft
