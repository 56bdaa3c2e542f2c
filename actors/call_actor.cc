// call_actor: one traced call, from start to end.
//
// At start it meets the op and the inputs' children; once their digests are in it hands
// call_start to the store writer. When the application finishes the call (end_atom), it
// meets the output's children, rolls up the summaries of the child calls that ended before
// it (summary_atom) plus its own usage, reports its summary to its parent call, and once
// the output's digests are in, hands call_end to the store writer and quits. Nothing here
// waits: each step happens in the handler of the message that completes it.
#include <caf/all.hpp>

#include <weft/json.h>
#include <weft/version.h>

#include "actors/call_actor.h"
#include "actors/deadline_watch.h"
#include "actors/dependencies.h"
#include "actors/metered.h"
#include "messages/messages.h"
#include "runtime/core/call_summary.h"
#include "runtime/core/runtime_core.h"

namespace weft {

namespace {

// Output children get slots from here on, input children below.
constexpr uint32_t kOutputSlots = 1u << 31;

struct CallState {
  RuntimeCore* core = nullptr;
  CallStartPtr start;
  std::unique_ptr<Dependencies> in;
  bool start_sent = false;

  msg::FinishCallPtr end;
  std::unique_ptr<Dependencies> out;
  bool end_sent = false;

  CallSummary summary;
  uint32_t summaries_received = 0;
  bool summary_reported = false;

  static inline const char* name = "weft.call";
};

using CallActor =
    caf::stateful_actor<CallState, Metered<caf::event_based_actor, ActorKind::kCall>>;

// A call's output (or inputs) as stored: an output that is itself an Object, Table or Op
// is saved and appears as its ref, like a nested one (the canonical writer would inline a
// root Object).
std::string stored_json(const Value& v, Dependencies& deps) {
  std::string out;
  if (v.is_saveable()) deps.write_child(v, out);
  else write_canonical_json(v, out, &deps);
  return out;
}

Value with_weave_attributes(const Value& user) {
  std::vector<DictEntry> entries;
  if (user.kind() == ValueKind::kDict)
    entries.assign(user.entries().begin(), user.entries().end());
  bool has_weave = false;
  for (const auto& e : entries) has_weave |= e.first == "weave";
  if (!has_weave)
    entries.emplace_back("weave", Value::dict({{"client_version", Value::string(kVersion)},
                                               {"source", Value::string("weft-cpp")}}));
  return Value::dict(std::move(entries));
}

void send_start(CallActor* self) {
  auto& st = self->state;
  if (st.start_sent) return;
  st.start_sent = true;
  const CallStartEvent& ev = st.start->event;
  if (st.in->failed())
    st.core->report_error("call " + ev.id.str() + ": an input was not saved: " + st.in->first_error());
  CallStartRequest req;
  req.project_id = st.core->project_id;
  req.id = ev.id.str();
  req.trace_id = ev.trace_id.str();
  if (!ev.parent_id.empty()) req.parent_id = ev.parent_id.str();
  std::string op_json;
  st.in->write_child(ev.op, op_json);
  // op_json is a JSON string ("\"weave:///...\"") or null if the op could not be saved.
  req.op_name = op_json.size() >= 2 && op_json[0] == '"' ? op_json.substr(1, op_json.size() - 2)
                                                          : std::string("unknown-op");
  if (ev.extras != nullptr && !ev.extras->display_name.empty()) req.display_name = ev.extras->display_name;
  req.started_at_us = ev.started_at_us;
  req.attributes_json = canonical_json(with_weave_attributes(ev.extras != nullptr ? ev.extras->attributes : Value()));
  req.inputs_json = ev.inputs.is_null() ? std::string("{}") : canonical_json(ev.inputs, st.in.get());
  req.input_refs = st.in->ref_uris();
  // The op's ref is in op_name; input_refs lists only what the inputs refer to.
  if (!req.input_refs.empty() && req.input_refs.front() == req.op_name)
    req.input_refs.erase(req.input_refs.begin());
  st.core->writer.submit(StoreItem{std::move(req), std::move(st.start->token), {}});
}

void report_summary_if_ready(CallActor* self) {
  auto& st = self->state;
  if (!st.end || st.summary_reported || st.summaries_received < st.end->expected_child_summaries)
    return;
  st.summary_reported = true;
  if (st.end->report_to)
    self->send(st.end->report_to, msg::summary_atom::value,
               msg::CallSummaryPtr(std::make_shared<CallSummary>(st.summary)));
}

void send_end(CallActor* self) {
  auto& st = self->state;
  st.end_sent = true;
  CallEndEvent& ev = st.end->event;
  if (st.out->failed())
    st.core->report_error("call " + ev.id.str() + ": an output value was not saved: " +
                          st.out->first_error());
  CallEndRequest req;
  req.project_id = st.core->project_id;
  req.id = ev.id.str();
  req.started_at_us = st.start->event.started_at_us;
  req.ended_at_us = ev.ended_at_us;
  if (ev.exception) {
    req.exception_json = canonical_json(Value::dict({{"type", Value::string(ev.exception->type)},
                                                     {"message", Value::string(ev.exception->message)},
                                                     {"traceback", Value::list({})}}));
  }
  req.output_json = stored_json(ev.output, *st.out);
  req.output_refs = st.out->ref_uris();
  req.summary_json = st.summary.to_json();
  st.core->writer.submit(StoreItem{std::move(req), std::move(st.end->token), {}});
}

// Advances whatever can advance; quits when both halves are written.
void progress(CallActor* self) {
  auto& st = self->state;
  if (!st.start_sent && st.in->pending() == 0) send_start(self);
  report_summary_if_ready(self);
  if (st.end && !st.end_sent && st.summary_reported && st.out->pending() == 0) send_end(self);
  if (st.start_sent && st.end_sent) {
    self->quit();
    return;
  }
  if (auto* slot = self->metrics_slot()) {
    uint32_t summaries = st.end && !st.summary_reported
                             ? st.end->expected_child_summaries - std::min(st.summaries_received, st.end->expected_child_summaries)
                             : 0;
    slot->set_waiting(static_cast<uint32_t>(st.in->pending() + (st.out ? st.out->pending() : 0)), summaries, !st.end);
  }
  // Waiting for digests or child summaries has a deadline; an open call (no end yet)
  // does not: the application decides when it ends.
  bool waiting = (!st.start_sent) || (st.end && !st.end_sent);
  if (waiting) st.core->deadlines->arm(self);
  else DeadlineWatch::done(self->metrics_slot());
}

caf::behavior call_actor(CallActor* self, RuntimeCore* core, CallStartPtr start) {
  auto& st = self->state;
  st.core = core;
  st.start = std::move(start);
  st.in = std::make_unique<Dependencies>(core, self, &st.start->token);
  st.in->visit(st.start->event.op);
  st.in->visit(st.start->event.inputs);
  self->describe("call " + st.start->event.op.op().name + " " + st.start->event.id.str());
  progress(self);
  return {
      [=](msg::child_atom, uint32_t slot) {
        auto& s = self->state;
        if (slot >= kOutputSlots) {
          if (s.out) s.out->on_resolved(slot);
        } else {
          s.in->on_resolved(slot);
        }
        progress(self);
      },
      [=](msg::end_atom, msg::FinishCallPtr end) {
        auto& s = self->state;
        s.end = std::move(end);
        const CallEndEvent& ev = s.end->event;
        s.summary.add_own_output(ev.output);
        (ev.exception ? s.summary.error : s.summary.success) += 1;
        s.out = std::make_unique<Dependencies>(s.core, self, &s.end->token, kOutputSlots);
        s.out->visit(ev.output);
        DeadlineWatch::done(self->metrics_slot());  // the end gets a fresh deadline
        progress(self);
      },
      [=](msg::summary_atom, const msg::CallSummaryPtr& child) {
        auto& s = self->state;
        s.summary.add(*child);
        ++s.summaries_received;
        progress(self);
      },
      [=](msg::deadline_atom) {
        auto& s = self->state;
        if (!s.core->deadlines->expired(self->metrics_slot())) return;  // stale reminder
        const std::string id = s.start->event.id.str();
        if (!s.start_sent) {
          s.core->report_error("call " + id + ": call_start written without " + s.in->describe_pending() +
                               " after " + std::to_string(s.core->dependency_timeout.count()) + " ms");
          send_start(self);
        }
        if (s.end && !s.end_sent) {
          if (!s.summary_reported) {
            s.core->report_error("call " + id + ": summary rolled up without " +
                                 std::to_string(s.end->expected_child_summaries - s.summaries_received) +
                                 " child call summaries");
            s.summaries_received = s.end->expected_child_summaries;
            report_summary_if_ready(self);
          }
          if (s.out->pending() != 0)
            s.core->report_error("call " + id + ": call_end written without " + s.out->describe_pending());
          send_end(self);
        }
        DeadlineWatch::done(self->metrics_slot());
        progress(self);
      },
  };
}

}  // namespace

caf::actor spawn_call_actor(caf::actor_system& sys, RuntimeCore* core, CallStartPtr start) {
  SpawningWith metered(&core->metrics);
  return sys.spawn<caf::hidden>(call_actor, core, std::move(start));  // hidden: actors/spawn.h
}

}  // namespace weft
