// The message vocabulary of weft's actors: every atom and payload type, declared once.
// Included only by actors/*.cc (CAF headers are heavy: keep them out of everything else).
//
//   (child_atom, uint32_t slot)            a dependency of the receiver resolved (or failed);
//                                          the receiver reads the result from its cell
//   (end_atom, FinishCallPtr)                 the application finished this call
//   (summary_atom, CallSummaryPtr)         a child call's rolled-up summary
//   (deadline_atom)                        the receiver may have waited past its deadline
//                                          (it checks: reminders can be stale)
//
// Payloads that own work tokens or big values travel as shared_ptr: CAF 0.17 messages must
// be copyable, and a pointer copy is all that moves between threads.
#pragma once

#include <caf/all.hpp>

#include <cstdint>
#include <memory>

#include "runtime/core/call_summary.h"
#include "runtime/core/events.h"
#include "runtime/core/work_tracker.h"

namespace weft::msg {

using child_atom = caf::atom_constant<caf::atom("child")>;
using end_atom = caf::atom_constant<caf::atom("end")>;
using summary_atom = caf::atom_constant<caf::atom("summary")>;
using deadline_atom = caf::atom_constant<caf::atom("deadline")>;

// What the dispatcher tells a call actor when the application finishes the call.
struct FinishCall {
  CallEndEvent event;
  WorkToken token;
  // Child calls that ended before this one (in dispatch order): their summaries roll up.
  uint32_t expected_child_summaries = 0;
  // The parent call's actor, if it was still open: it waits for our summary.
  caf::actor report_to;
};
using FinishCallPtr = std::shared_ptr<FinishCall>;

using CallSummaryPtr = std::shared_ptr<const CallSummary>;

}  // namespace weft::msg

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weft::msg::FinishCallPtr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(weft::msg::CallSummaryPtr)
