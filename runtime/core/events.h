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

// What a call start rarely carries, behind one pointer: null when both are empty, so the
// common event stays small (it is moved into the queue on the calling thread).
struct CallStartExtras {
  Value attributes;
  std::string display_name;
};

// Binary ids, no rare fields inline: 136 bytes (it was 280 with text ids and inline extras).
struct CallStartEvent {
  Uuid id;
  Uuid trace_id;
  Uuid parent_id;  // empty() for a root call
  Value op;
  Value inputs;
  int64_t started_at_us = 0;
  std::unique_ptr<CallStartExtras> extras;  // null: no attributes, no display name
};

struct CallEndEvent {
  Uuid id;
  Value output;
  std::unique_ptr<ExceptionInfo> exception;  // null: the call finished normally
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

// The calling thread moves one of these per event: keep it within three cache lines.
static_assert(sizeof(Event) <= 192, "the hand-off event grew: move rare fields behind a pointer");

}  // namespace weft
