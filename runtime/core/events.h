// The events application threads hand to the runtime through the lock-free queue.
// Internal: included by runtime.cc and the actors, not by application code.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include <weft/ids.h>
#include <weft/runtime.h>
#include <weft/value.h>

#include "runtime/core/save_cell.h"
#include "runtime/core/work_tracker.h"

namespace weft {

struct ExceptionInfo {
  std::string type;
  std::string message;
};

struct CallStartEvent {
  Uuid id;
  Uuid trace_id;
  Uuid parent_id;  // empty() for a root call
  Value op;
  Value inputs;
  Value attributes;
  std::string display_name;
  int64_t started_at_us = 0;
  std::string thread_id;  // unused: no API sets it and call_start does not carry it yet
};

struct CallEndEvent {
  Uuid id;
  Value output;
  std::optional<ExceptionInfo> exception;
  int64_t ended_at_us = 0;
};

// Only the owner of a value's cell sends one: later saves of the same instance subscribe.
struct SaveEvent {
  Value value;
  std::string name;
  detail::CellRef cell;
};

struct Event {
  std::variant<CallStartEvent, CallEndEvent, SaveEvent> body;
  WorkToken token;  // the unit of work this event is, in its flush epoch
};

}  // namespace weft
