#!/usr/bin/env python3
"""A fake Weave trace server for tests: loopback only, Python 3 stdlib only.

It answers the routes weft's remote store and the official Weave TypeScript client use, and
is as strict as the hosted server where that can be known from Weave's own request models:

* Request bodies are checked the way Weave's pydantic models check them. The request
  wrappers (``{"obj": ...}``, ``{"start": ...}``, ``{"batch": ...}``, ...) forbid unknown
  members (HTTP 422); the inner schemas (``obj``, ``start``, ``end``, a batch item) *ignore*
  unknown members, as pydantic does by default: the real server drops them silently. The
  fake server drops them too, but lists every such field under ``ignored`` in the audit, so a
  test can insist that a client sends nothing the server throws away. ``--forbid-inner-extra``
  turns those into 422s.
* Required fields, JSON types, ISO 8601 times, call / trace ids (UUID, or OTel hex ids),
  ``op_name`` (a ref must be an op ref), object names, ``project_id`` (``entity/project``),
  ``status_counts`` keys: refused as the server refuses them (422 for the models, 400 for the
  server's own validators, 403 for a project the key may not write with ``--project``).
* Refs are rewritten before hashing, as the hosted server does: every string
  ``weave:///entity/project/<tail>`` anywhere in a request becomes
  ``weave-trace-internal:///<internal project id>/<tail>`` (refs inside JSON-encoded string
  leaves too), and is converted back when read. Digests are then taken over the internal
  form: object digest = base digest of ``json.dumps(val, sort_keys=True)``, row digest the
  same over a row, table digest = sha256 hex of the concatenated row digests, file digest =
  base digest of the bytes. A ref-free value therefore has the client-side digest; a
  ref-bearing one does not. ``expected_digest`` that differs -> 409.
* HTTP Basic auth: password = ``--api-key`` (the user name is not checked, as W&B does not;
  anything but ``api`` is noted under ``ignored``). Wrong or missing -> 401.
* Faults on cue (``--faults JSON`` or ``POST /__control``): 5xx, 429 + Retry-After, 413 over
  a body size, connections dropped after the work is done, slow replies, down for N seconds
  (connections reset: a transport error), 401 for everyone. Each fault takes a selector
  ``{"rate": p}`` (seeded with ``--seed``), ``{"count": n}`` (the next n requests),
  ``{"every": k}`` (every k-th request), optionally ``"routes": ["/obj/create", ...]``
  (prefixes); what was injected is counted exactly in ``GET /__stats``.
* Audit (``GET /__audit``, ``--audit-file``, printed at exit with ``--print-audit``): calls
  without a start or an end, parents missing or in another trace, refs (in calls, objects,
  table rows, op names) that resolve to nothing stored, CustomWeaveType files never uploaded,
  conflicting re-sends of a call; every refused request (4xx not injected) with its reason.

Control routes (no auth, never faulted): ``GET /__stats``, ``GET /__audit``,
``GET /__state`` (everything stored, external form), ``POST /__control`` with any of
``{"faults": {...}}`` (replace), ``{"merge_faults": {...}}``, ``{"reset_faults": true}``
(config and counters), ``{"reset": true}`` (all state), ``{"api_key": "..."}``,
``{"down_for": seconds}``, ``{"calls_mode": "any" | "complete-required" | "legacy-only"}``.

CLI: ``fake_weave_server.py --port 0 --port-file PATH --api-key KEY [--project E/P]
[--faults JSON] [--seed N] [--audit-file PATH] [--print-audit] [--max-seconds 900]
[--forbid-inner-extra] [--calls-mode any|complete-required|legacy-only]``. ``project_id`` is always checked to be ``entity/project`` (400);
``--project`` also refuses every other project (403); ``--project-check`` is accepted and
changes nothing. SIGTERM / SIGINT stop it cleanly (audit file written, a summary line on
stderr); it stops by itself after ``--max-seconds``.
As a module: ``FakeWeaveServer(api_key=...).start()`` returns the port; ``.stop()``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import datetime as _dt
import gzip
import hashlib
import json
import os
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import uuid
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

# ---------------------------------------------------------------------------------------
# Digests and refs
# ---------------------------------------------------------------------------------------

EXTERNAL_PREFIX = "weave:///"
INTERNAL_PREFIX = "weave-trace-internal:///"
PRIVATE_PREFIX = "weave-private://///"
MAX_STRUCTURE_DEPTH = 200  # the server's copy-on-write ref walk refuses deeper (413)
MAX_EMBEDDED_JSON_DEPTH = 8


def base_digest(data: bytes) -> str:
    b64 = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()
    return b64.replace("-", "X").replace("_", "Y").rstrip("=")


def object_digest(val) -> str:
    return base_digest(json.dumps(val, sort_keys=True).encode())


def table_digest(row_digests) -> str:
    h = hashlib.sha256()
    for d in row_digests:
        h.update(d.encode())
    return h.hexdigest()


def internal_project_id(project: str) -> str:
    """A stable internal id for ``entity/project``: base64 text, never the name itself,
    never holding '/' or '+' (it is one path segment of an internal ref)."""
    n = 0
    while True:
        raw = "ProjectInternalId:" + hashlib.sha256(f"{project}#{n}".encode()).hexdigest()[:12]
        pid = base64.b64encode(raw.encode()).decode()
        if "/" not in pid and "+" not in pid:
            return pid
        n += 1


class HttpError(Exception):
    def __init__(self, status: int, detail, headers=None, body=None):
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.body = body  # the whole answer, when it is not {"detail": ...}


def _walk_strings(obj, fn, depth=0):
    """Copy-on-write map over every string leaf; returns (new, changed)."""
    if depth > MAX_STRUCTURE_DEPTH:
        raise HttpError(413, f"Request payload nesting exceeds the maximum supported depth of "
                             f"{MAX_STRUCTURE_DEPTH}.")
    if isinstance(obj, str):
        new = fn(obj, depth)
        return new, new is not obj
    if isinstance(obj, dict):
        clone = None
        for k, v in obj.items():
            nv, ch = _walk_strings(v, fn, depth + 1)
            if ch:
                if clone is None:
                    clone = dict(obj)
                clone[k] = nv
        return (obj, False) if clone is None else (clone, True)
    if isinstance(obj, list):
        clone = None
        for i, v in enumerate(obj):
            nv, ch = _walk_strings(v, fn, depth + 1)
            if ch:
                if clone is None:
                    clone = list(obj)
                clone[i] = nv
        return (obj, False) if clone is None else (clone, True)
    return obj, False


def _ref_mapper(convert):
    """A string mapper converting refs at the start of a string, and refs inside
    JSON-encoded string leaves (decoded, walked, re-encoded), as the server does."""
    state = {"embedded": 0}

    def mapper(s, depth):
        if s.startswith(EXTERNAL_PREFIX) or s.startswith(INTERNAL_PREFIX):
            return convert(s)
        if state["embedded"] < MAX_EMBEDDED_JSON_DEPTH and (EXTERNAL_PREFIX in s or INTERNAL_PREFIX in s):
            try:
                parsed = json.loads(s)
            except (ValueError, RecursionError):
                return s
            state["embedded"] += 1
            try:
                new, changed = _walk_strings(parsed, mapper, depth)
            finally:
                state["embedded"] -= 1
            return json.dumps(new) if changed else s
        return s

    return mapper


def iter_ref_strings(obj, depth=0):
    """Every ref string in a value (refs in JSON-encoded string leaves included)."""
    out = []

    def collect(s, d):
        if s.startswith(EXTERNAL_PREFIX) or s.startswith(INTERNAL_PREFIX) or s.startswith(PRIVATE_PREFIX):
            out.append(s)
        elif EXTERNAL_PREFIX in s or INTERNAL_PREFIX in s:
            try:
                parsed = json.loads(s)
            except (ValueError, RecursionError):
                return s
            if not isinstance(parsed, str):
                out.extend(iter_ref_strings(parsed, d))
        return s

    try:
        _walk_strings(obj, collect, depth)
    except HttpError:
        pass
    return out


# ---------------------------------------------------------------------------------------
# Validation, pydantic style
# ---------------------------------------------------------------------------------------

_ISO_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[Tt _](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?"
    r"(Z|z|[+-]\d{2}(?::?\d{2})?)?$")
_UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_HEX16_RE = re.compile(r"^[0-9a-fA-F]{16}$")
_HEX32_RE = re.compile(r"^[0-9a-fA-F]{32}$")
_OBJECT_NAME_BAD = re.compile(r"[^\w._-]")
_PROJECT_RE = re.compile(r"^[^/\s]+/[^/\s]+$")
TRACE_STATUSES = ("success", "error", "running", "descendant_error")


class Ctx:
    """One request's validation: errors (422), and notes about what the server ignores."""

    def __init__(self, route, forbid_inner_extra=False):
        self.route = route
        self.errors = []
        self.ignored = []  # (loc, what)
        self.forbid_inner_extra = forbid_inner_extra

    def err(self, typ, loc, msg, inp):
        self.errors.append({"type": typ, "loc": ["body"] + list(loc), "msg": msg,
                            "input": _short(inp)})

    def note(self, loc, what):
        self.ignored.append((".".join(str(p) for p in loc), what))


def _short(v):
    try:
        text = json.dumps(v)
    except (TypeError, ValueError):
        text = repr(v)
    return v if len(text) <= 200 else text[:200] + "..."


def v_any(v, loc, ctx):
    return v


def v_str(v, loc, ctx):
    if isinstance(v, str):
        return v
    ctx.err("string_type", loc, "Input should be a valid string", v)
    return None


def v_int(v, loc, ctx):
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v == v and v not in (float("inf"), float("-inf")):
        if v.is_integer():
            return int(v)
        ctx.err("int_from_float", loc, "Input should be a valid integer, got a number with a "
                                       "fractional part", v)
        return None
    if isinstance(v, str) and re.fullmatch(r"\s*[+-]?\d+\s*", v):
        return int(v)
    ctx.err("int_parsing" if isinstance(v, str) else "int_type", loc,
            "Input should be a valid integer", v)
    return None


def v_bool(v, loc, ctx):
    if isinstance(v, bool):
        return v
    if v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.lower() in ("true", "false", "yes", "no", "on", "off", "1", "0", "t", "f", "y", "n"):
        return v.lower() in ("true", "yes", "on", "1", "t", "y")
    ctx.err("bool_type", loc, "Input should be a valid boolean", v)
    return None


def v_datetime(v, loc, ctx):
    """What pydantic's datetime accepts (RFC 3339 / ISO 8601 text, or a unix time);
    anything that is not an explicit UTC time is noted (it is not what clients should send)."""
    if isinstance(v, bool):
        ctx.err("datetime_type", loc, "Input should be a valid datetime", v)
        return None
    if isinstance(v, (int, float)):
        ctx.note(loc, "time sent as a number (unix time), not ISO 8601 text")
        return v
    if not isinstance(v, str):
        ctx.err("datetime_type", loc, "Input should be a valid datetime", v)
        return None
    m = _ISO_RE.match(v)
    if not m:
        ctx.err("datetime_from_date_parsing", loc, "Input should be a valid datetime, "
                "invalid datetime format", v)
        return None
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    try:
        _dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0))
    except ValueError:
        ctx.err("datetime_from_date_parsing", loc, "Input should be a valid datetime, "
                "value out of range", v)
        return None
    if tz is None:
        ctx.note(loc, "time without a time zone (naive)")
    elif tz not in ("Z", "z") and tz.replace(":", "") not in ("+0000", "-0000", "+00", "-00"):
        ctx.note(loc, "time not in UTC")
    return v


def parse_time(v):
    """Seconds since the epoch for a time that v_datetime accepted (naive taken as UTC)."""
    if isinstance(v, (int, float)):
        return float(v) / (1000.0 if abs(v) > 2e10 else 1.0)
    m = _ISO_RE.match(v)
    y, mo, d, hh, mm, ss, frac, tz = m.groups()
    t = _dt.datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0),
                     tzinfo=_dt.timezone.utc).timestamp()
    if frac:
        t += int(frac) / 10 ** len(frac)
    if tz and tz not in ("Z", "z"):
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        offset = int(digits[:2]) * 3600 + (int(digits[2:4]) * 60 if len(digits) > 2 else 0)
        t -= sign * offset
    return t


def v_dict(v, loc, ctx):
    if isinstance(v, dict):
        return v
    ctx.err("dict_type", loc, "Input should be a valid dictionary", v)
    return None


def opt(fn):
    def check(v, loc, ctx):
        return None if v is None else fn(v, loc, ctx)
    return check


def list_of(fn, typ="list_type"):
    def check(v, loc, ctx):
        if not isinstance(v, list):
            ctx.err(typ, loc, "Input should be a valid list", v)
            return None
        return [fn(item, list(loc) + [i], ctx) for i, item in enumerate(v)]
    return check


class Model:
    """A pydantic-like model: fields name -> (check, required); extra forbid/ignore/allow."""

    def __init__(self, name, fields, extra="ignore", inner=True):
        self.name = name
        self.fields = fields
        self.extra = extra
        self.inner = inner  # an inner schema: its ignored extras are noted

    def __call__(self, v, loc, ctx):
        if not isinstance(v, dict):
            ctx.err("model_attributes_type", loc, "Input should be a valid dictionary or "
                    "object to extract fields from", v)
            return None
        out = {}
        for key, (check, required) in self.fields.items():
            if key not in v:
                if required:
                    ctx.err("missing", list(loc) + [key], "Field required", v)
                continue
            out[key] = check(v[key], list(loc) + [key], ctx)
        for key in v:
            if key in self.fields:
                continue
            extra = self.extra
            if extra == "ignore" and ctx.forbid_inner_extra and self.inner:
                extra = "forbid"
            if extra == "forbid":
                ctx.err("extra_forbidden", list(loc) + [key], "Extra inputs are not permitted", v[key])
            elif extra == "ignore":
                ctx.note(list(loc) + [key], f"unknown field dropped by the server ({self.name})")
            else:
                out[key] = v[key]
        return out


def v_usage(v, loc, ctx):
    if not isinstance(v, dict):
        ctx.err("dict_type", loc, "Input should be a valid dictionary", v)
        return None
    out = {}
    for model, u in v.items():
        if not isinstance(u, dict):
            ctx.err("dict_type", list(loc) + [model], "Input should be a valid dictionary", u)
            continue
        known = {}
        for k, n in u.items():
            if k in ("prompt_tokens", "input_tokens", "completion_tokens", "output_tokens",
                     "requests", "total_tokens", "cache_creation_input_tokens",
                     "cache_read_input_tokens"):
                known[k] = opt(v_int)(n, list(loc) + [model, k], ctx)
            else:
                ctx.note(list(loc) + [model, k], "usage key dropped by the server (LLMUsageSchema)")
        out[model] = known
    return out


def v_status_counts(v, loc, ctx):
    if not isinstance(v, dict):
        ctx.err("dict_type", loc, "Input should be a valid dictionary", v)
        return None
    out = {}
    for k, n in v.items():
        if k not in TRACE_STATUSES:
            ctx.err("enum", list(loc) + [k, "[key]"],
                    "Input should be 'success', 'error', 'running' or 'descendant_error'", k)
        out[k] = v_int(n, list(loc) + [k], ctx)
    return out


SUMMARY = Model("SummaryInsertMap", {"usage": (v_usage, False),
                                     "status_counts": (v_status_counts, False)}, extra="allow")

START_FIELDS = {
    "project_id": (v_str, True), "id": (opt(v_str), False), "op_name": (v_str, True),
    "display_name": (opt(v_str), False), "trace_id": (opt(v_str), False),
    "parent_id": (opt(v_str), False), "thread_id": (opt(v_str), False),
    "turn_id": (opt(v_str), False), "started_at": (v_datetime, True),
    "attributes": (v_dict, True), "inputs": (v_dict, True), "otel_dump": (opt(v_dict), False),
    "wb_user_id": (opt(v_str), False), "wb_run_id": (opt(v_str), False),
    "wb_run_step": (opt(v_int), False),
}
END_FIELDS = {
    "project_id": (v_str, True), "id": (v_str, True), "trace_id": (opt(v_str), False),
    "is_eval": (opt(v_bool), False), "ended_at": (v_datetime, True),
    "started_at": (opt(v_datetime), False), "exception": (opt(v_str), False),
    "output": (v_any, False), "summary": (SUMMARY, True), "wb_run_step_end": (opt(v_int), False),
}
COMPLETE_FIELDS = dict(START_FIELDS)
COMPLETE_FIELDS.update({
    "id": (v_str, True), "trace_id": (v_str, True), "ended_at": (v_datetime, True),
    "exception": (opt(v_str), False), "output": (v_any, False), "summary": (SUMMARY, True),
    "wb_run_step_end": (opt(v_int), False),
})
STARTED = Model("StartedCallSchemaForInsert", START_FIELDS)
ENDED = Model("EndedCallSchemaForInsert", END_FIELDS)
COMPLETED = Model("CompletedCallSchemaForInsert", COMPLETE_FIELDS)
CALL_START_REQ = Model("CallStartReq", {"start": (STARTED, True)}, extra="forbid", inner=False)
CALL_END_REQ = Model("CallEndReq", {"end": (ENDED, True)}, extra="forbid", inner=False)
OBJ_INSERT = Model("ObjSchemaForInsert", {
    "project_id": (v_str, True), "object_id": (v_str, True), "val": (v_any, True),
    "builtin_object_class": (opt(v_str), False), "set_base_object_class": (opt(v_str), False),
    "expected_digest": (opt(v_str), False), "wb_user_id": (opt(v_str), False)})
OBJ_CREATE_REQ = Model("ObjCreateReq", {"obj": (OBJ_INSERT, True)}, extra="forbid", inner=False)
TABLE_INSERT = Model("TableSchemaForInsert", {
    "project_id": (v_str, True), "rows": (list_of(v_dict), True),
    "expected_digest": (opt(v_str), False)})
TABLE_CREATE_REQ = Model("TableCreateReq", {"table": (TABLE_INSERT, True)}, extra="forbid", inner=False)
TABLE_FROM_DIGESTS_REQ = Model("TableCreateFromDigestsReq", {
    "project_id": (v_str, True), "row_digests": (list_of(v_str), True),
    "expected_digest": (opt(v_str), False)}, extra="forbid", inner=False)
CALLS_COMPLETE_REQ = Model("CallsUpsertCompleteReq", {"batch": (list_of(COMPLETED), True)},
                           extra="ignore", inner=False)
OBJ_READ_REQ = Model("ObjReadReq", {
    "project_id": (v_str, True), "object_id": (v_str, True), "digest": (v_str, True),
    "metadata_only": (opt(v_bool), False)}, extra="forbid", inner=False)
OBJS_QUERY_REQ = Model("ObjQueryReq", {
    "project_id": (v_str, True), "filter": (opt(v_dict), False), "limit": (opt(v_int), False),
    "offset": (opt(v_int), False), "sort_by": (opt(list_of(v_dict)), False),
    "metadata_only": (opt(v_bool), False), "include_storage_size": (opt(v_bool), False),
    "include_tags_and_aliases": (opt(v_bool), False)}, extra="forbid", inner=False)
TABLE_QUERY_REQ = Model("TableQueryReq", {
    "project_id": (v_str, True), "digest": (v_str, True), "filter": (opt(v_dict), False),
    "limit": (opt(v_int), False), "offset": (opt(v_int), False),
    "sort_by": (opt(list_of(v_dict)), False)}, extra="forbid", inner=False)
REFS_READ_REQ = Model("RefsReadBatchReq", {"refs": (list_of(v_str), True)}, extra="forbid", inner=False)
CALL_READ_REQ = Model("CallReadReq", {
    "project_id": (v_str, True), "id": (v_str, True), "include_costs": (opt(v_bool), False),
    "include_storage_size": (opt(v_bool), False),
    "include_total_storage_size": (opt(v_bool), False)}, extra="forbid", inner=False)
CALLS_QUERY_REQ = Model("CallsQueryReq", {
    "project_id": (v_str, True), "filter": (opt(v_dict), False), "limit": (opt(v_int), False),
    "offset": (opt(v_int), False), "sort_by": (opt(list_of(v_dict)), False),
    "query": (opt(v_dict), False), "include_costs": (opt(v_bool), False),
    "include_feedback": (opt(v_bool), False), "include_storage_size": (opt(v_bool), False),
    "include_total_storage_size": (opt(v_bool), False), "columns": (opt(list_of(v_str)), False),
    "expand_columns": (opt(list_of(v_str)), False),
    "return_expanded_column_values": (opt(v_bool), False)}, extra="forbid", inner=False)
CALL_UPDATE_REQ = Model("CallUpdateReq", {
    "project_id": (v_str, True), "call_id": (v_str, True), "display_name": (opt(v_str), False),
    "wb_user_id": (opt(v_str), False)}, extra="forbid", inner=False)
FILE_CONTENT_REQ = Model("FileContentReadReq", {"project_id": (v_str, True), "digest": (v_str, True)},
                         extra="forbid", inner=False)
FEEDBACK_CREATE_REQ = Model("FeedbackCreateReq", {
    "id": (opt(v_str), False), "project_id": (v_str, True), "weave_ref": (v_str, True),
    "creator": (opt(v_str), False), "feedback_type": (v_str, True), "payload": (v_dict, True),
    "annotation_ref": (opt(v_str), False), "runnable_ref": (opt(v_str), False),
    "call_ref": (opt(v_str), False), "trigger_ref": (opt(v_str), False),
    "queue_id": (opt(v_str), False), "wb_user_id": (opt(v_str), False)}, extra="allow", inner=False)


def v_batch_item(v, loc, ctx):
    """CallBatchStartMode | CallBatchEndMode: {"mode": str = ..., "req": CallStartReq|CallEndReq};
    extras in the item are ignored. Chosen by what `req` holds, as pydantic's smart union
    ends up doing (the `mode` string itself is not checked against it by the models)."""
    if not isinstance(v, dict):
        ctx.err("model_attributes_type", loc, "Input should be a valid dictionary or object "
                "to extract fields from", v)
        return None
    req = v.get("req")
    kind = "end" if isinstance(req, dict) and "end" in req and "start" not in req else "start"
    model = Model("CallBatchEndMode" if kind == "end" else "CallBatchStartMode",
                  {"mode": (v_str, False), "req": (CALL_END_REQ if kind == "end" else CALL_START_REQ, True)})
    out = model(v, loc, ctx)
    if out is not None:
        mode = out.get("mode", kind)
        if mode != kind:
            ctx.note(list(loc) + ["mode"], f"mode {mode!r} for a {kind} item (the server goes by the item's shape)")
        out["_kind"] = kind
    return out


CALL_BATCH_REQ = Model("CallCreateBatchReq", {"batch": (list_of(v_batch_item), True)},
                       extra="forbid", inner=False)


def validate(model, body, ctx):
    out = model(body, [], ctx)
    if ctx.errors:
        raise HttpError(422, ctx.errors)
    return out


def check_call_id(s, what):
    if s is None:
        return
    if not (_UUID_RE.match(s) or _HEX16_RE.match(s)):
        raise HttpError(400, f"Invalid {what}: {s!r} is not a UUID")


def check_trace_id(s):
    if s is None:
        return
    if not (_UUID_RE.match(s) or _HEX32_RE.match(s)):
        raise HttpError(400, f"Invalid trace_id: {s!r} is not a UUID")


def check_object_id(s):
    if not s:
        raise HttpError(400, "Object name cannot be empty")
    bad = sorted(set(_OBJECT_NAME_BAD.findall(s)))
    if bad:
        raise HttpError(400, f"Invalid object name: {s}. Contains invalid characters: {bad}.")
    if len(s) > 128:
        raise HttpError(400, f"Invalid object name: longer than 128 characters ({len(s)})")


def parse_internal_ref(ref):
    """(pid, kind, name, version, extra) of an internal ref, or None when it is malformed."""
    if not ref.startswith(INTERNAL_PREFIX):
        return None
    parts = ref[len(INTERNAL_PREFIX):].split("/")
    if len(parts) < 3:
        return None
    pid, kind = parts[0], parts[1]
    if kind in ("object", "op"):
        if ":" not in parts[2]:
            return None
        name, version = parts[2].split(":", 1)
        if not name or not version:
            return None
        return pid, kind, unquote(name), version, parts[3:]
    if kind in ("table", "call"):
        if not parts[2]:
            return None
        return pid, kind, None, parts[2], parts[3:]
    return pid, kind, None, parts[2], parts[3:]


# ---------------------------------------------------------------------------------------
# Faults
# ---------------------------------------------------------------------------------------

FAULT_KINDS = ("error", "rate_limit", "drop", "delay")


class Faults:
    """Fault configuration and counters. Each of error / rate_limit / drop / delay is
    {"rate": p | "count": n | "every": k, "routes": [prefix...]} plus its own options:
    error: "status" (503); rate_limit: "retry_after" seconds (1); delay: "ms".
    Also "max_body_bytes" (413 above it), "down_for" seconds (resets connections),
    "bad_key" (401 for everyone)."""

    def __init__(self, seed):
        self.lock = threading.Lock()
        self.rng = random.Random(seed)
        self.seed = seed
        self.config = {}
        self.seen = {}
        self.injected = {}
        self.down_until = 0.0

    def reset(self):
        with self.lock:
            self.config = {}
            self.seen = {}
            self.injected = {}
            self.down_until = 0.0
            self.rng = random.Random(self.seed)

    def set(self, config, merge=False):
        config = dict(config or {})
        for k, spec in config.items():
            if k not in FAULT_KINDS + ("max_body_bytes", "down_for", "bad_key"):
                raise HttpError(400, f"unknown fault {k!r}")
            if k in FAULT_KINDS:
                if not isinstance(spec, dict):
                    raise HttpError(400, f"fault {k!r}: expected an object")
                allowed = {"rate", "count", "every", "routes", "status", "retry_after", "ms"}
                bad = sorted(set(spec) - allowed)
                if bad or sum(x in spec for x in ("rate", "count", "every")) > 1:
                    raise HttpError(400, f"fault {k!r}: unknown options {bad} or more than one of "
                                         f"rate/count/every")
        with self.lock:
            if "down_for" in config:
                self.down_until = time.monotonic() + float(config.pop("down_for"))
            if merge:
                self.config.update(config)
            else:
                self.config = config
            for k in FAULT_KINDS:
                self.seen.pop(k, None)

    def count(self, key, n=1):
        with self.lock:
            self.injected[key] = self.injected.get(key, 0) + n

    def is_down(self):
        return time.monotonic() < self.down_until

    def fire(self, kind, route):
        """The fault's options when it fires for this request, else None (counted)."""
        with self.lock:
            spec = self.config.get(kind)
            if not spec:
                return None
            routes = spec.get("routes")
            if routes and not any(route.startswith(r) for r in routes):
                return None
            self.seen[kind] = seen = self.seen.get(kind, 0) + 1
            hit = False
            if "count" in spec:
                hit = seen <= int(spec["count"])
            elif "every" in spec:
                hit = seen % int(spec["every"]) == 0
            elif "rate" in spec:
                hit = self.rng.random() < float(spec["rate"])
            else:
                hit = True
            if hit:
                name = {"error": str(spec.get("status", 503)), "rate_limit": "429"}.get(kind, kind)
                self.injected[name] = self.injected.get(name, 0) + 1
                return spec
            return None

    def snapshot(self):
        with self.lock:
            return {"config": json.loads(json.dumps(self.config)), "injected": dict(self.injected),
                    "down_for_s": max(0.0, self.down_until - time.monotonic())}


# ---------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------


def _now_iso():
    return _dt.datetime.now(_dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _uuid7():
    ms = int(time.time() * 1000) & ((1 << 48) - 1)
    rand_a = int.from_bytes(os.urandom(2), "big") & 0xFFF
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    return str(uuid.UUID(int=(ms << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b))


def object_kind(val):
    if isinstance(val, dict) and "_type" in val and "weave_type" in val:
        wt = val.get("weave_type")
        if isinstance(wt, dict) and wt.get("type") == "Op":
            return "op"
    return "object"


def object_classes(val):
    if isinstance(val, dict) and isinstance(val.get("_bases"), list) and len(val["_bases"]) >= 2:
        bases = val["_bases"]
        if bases[-1] == "BaseModel" and bases[-2] in ("Object", "BaseObject"):
            leaf = val.get("_class_name")
            base = bases[-3] if len(bases) > 2 else leaf
            return base, leaf
    return None, None


class Store:
    def __init__(self, allowed_project=None):
        self.lock = threading.RLock()
        self.allowed_project = allowed_project
        self.reset()

    def reset(self):
        with self.lock:
            self.pid_of = {}      # entity/project -> internal id
            self.project_of = {}  # internal id -> entity/project
            self.objects = {}     # (pid, object_id, digest) -> record
            self.versions = {}    # (pid, object_id) -> [digest, ...]
            self.tables = {}      # (pid, digest) -> [row digest, ...]
            self.rows = {}        # (pid, row digest) -> row (internal form)
            self.files = {}       # (pid, digest) -> {"name", "bytes"}
            self.calls = {}       # (pid, id) -> {"start", "end", ...}
            self.conflicts = []   # violations found while storing
            self.feedback = []

    # --- projects and refs ---

    def pid(self, project, what="project_id"):
        if not isinstance(project, str) or not _PROJECT_RE.match(project):
            raise HttpError(400, f"Invalid {what}: {project!r} (expected 'entity/project')")
        if self.allowed_project and project != self.allowed_project:
            raise HttpError(403, f"The API key may not write to project {project!r}")
        with self.lock:
            p = self.pid_of.get(project)
            if p is None:
                p = internal_project_id(project)
                self.pid_of[project] = p
                self.project_of[p] = project
            return p

    def to_internal(self, value, own_pid):
        def convert(s):
            if s.startswith(EXTERNAL_PREFIX):
                parts = s[len(EXTERNAL_PREFIX):].split("/", 2)
                if len(parts) != 3 or not parts[0] or not parts[1] or not parts[2]:
                    raise HttpError(400, f"Invalid URI: {s}")
                return f"{INTERNAL_PREFIX}{self.pid(parts[0] + '/' + parts[1], 'ref project')}/{parts[2]}"
            parts = s[len(INTERNAL_PREFIX):].split("/", 2)
            if len(parts) < 2:
                raise HttpError(400, "Invalid internal ref format: missing project_id or kind.")
            if parts[0] == own_pid:
                return s
            raise HttpError(400, "Encountered unexpected internal ref format.")
        return _walk_strings(value, _ref_mapper(convert))[0]

    def to_external(self, value):
        def convert(s):
            if s.startswith(INTERNAL_PREFIX):
                pid, _, tail = s[len(INTERNAL_PREFIX):].partition("/")
                project = self.project_of.get(pid)
                if project is None:
                    return PRIVATE_PREFIX + tail
                return f"{EXTERNAL_PREFIX}{project}/{tail}"
            return s
        return _walk_strings(value, _ref_mapper(convert))[0]

    # --- writes ---

    def obj_create(self, pid, object_id, val, expected, builtin_class=None):
        digest = object_digest(val)
        if expected is not None and expected != digest:
            raise HttpError(409, f"Digest mismatch for obj {object_id!r}: expected {expected}, "
                                 f"server computed {digest}")
        kind = object_kind(val)
        base, leaf = object_classes(val)
        if builtin_class and base is None:
            base = leaf = builtin_class
        with self.lock:
            key = (pid, object_id, digest)
            if key not in self.objects:
                versions = self.versions.setdefault((pid, object_id), [])
                self.objects[key] = {"val": val, "kind": kind, "created_at": _now_iso(),
                                     "version_index": len(versions), "base_object_class": base,
                                     "leaf_object_class": leaf}
                versions.append(digest)
        return digest

    def table_create(self, pid, rows, expected):
        row_digests = [object_digest(r) for r in rows]
        digest = table_digest(row_digests)
        if expected is not None and expected != digest:
            raise HttpError(409, f"Digest mismatch for table: expected {expected}, server computed {digest}")
        with self.lock:
            for d, r in zip(row_digests, rows):
                self.rows.setdefault((pid, d), r)
            self.tables.setdefault((pid, digest), row_digests)
        return digest, row_digests

    def table_from_digests(self, pid, row_digests, expected):
        digest = table_digest(row_digests)
        if expected is not None and expected != digest:
            raise HttpError(409, f"Digest mismatch for table: expected {expected}, server computed {digest}")
        with self.lock:
            self.tables.setdefault((pid, digest), list(row_digests))
        return digest

    def file_create(self, pid, name, data, expected):
        digest = base_digest(data)
        if expected is not None and expected != digest:
            raise HttpError(409, f"Digest mismatch for file {name!r}: expected {expected}, "
                                 f"server computed {digest}")
        with self.lock:
            self.files.setdefault((pid, digest), {"name": name, "bytes": data})
        return digest

    def _call(self, pid, call_id):
        rec = self.calls.get((pid, call_id))
        if rec is None:
            rec = self.calls[(pid, call_id)] = {"start": None, "end": None, "starts": 0, "ends": 0}
        return rec

    def call_start(self, pid, start):
        with self.lock:
            rec = self._call(pid, start["id"])
            rec["starts"] += 1
            if rec["start"] is not None and rec["start"] != start:
                self.conflicts.append(f"call {start['id']}: a second start with different content")
            rec["start"] = start

    def call_end(self, pid, end):
        with self.lock:
            rec = self._call(pid, end["id"])
            rec["ends"] += 1
            if rec["end"] is not None and rec["end"] != end:
                self.conflicts.append(f"call {end['id']}: a second end with different content")
            rec["end"] = end

    # --- reads ---

    def resolve_version(self, pid, object_id, version):
        versions = self.versions.get((pid, object_id), [])
        if version == "latest":
            return versions[-1] if versions else None
        if re.fullmatch(r"v\d+", version):
            i = int(version[1:])
            return versions[i] if i < len(versions) else None
        return version if (pid, object_id, version) in self.objects else None

    def obj_schema(self, pid, object_id, digest, metadata_only=False):
        rec = self.objects[(pid, object_id, digest)]
        versions = self.versions[(pid, object_id)]
        return {"project_id": self.project_of[pid], "object_id": object_id,
                "created_at": rec["created_at"], "deleted_at": None, "digest": digest,
                "version_index": rec["version_index"], "is_latest": int(versions[-1] == digest),
                "kind": rec["kind"], "base_object_class": rec["base_object_class"],
                "leaf_object_class": rec["leaf_object_class"],
                "val": {} if metadata_only else self.to_external(rec["val"]),
                "wb_user_id": None}

    def resolve_ref(self, ref):
        """(ok, value or reason) for an internal ref, following extra edges when it can."""
        parsed = parse_internal_ref(ref)
        if parsed is None:
            return False, "malformed ref"
        pid, kind, name, version, extra = parsed
        if pid not in self.project_of:
            return False, "unknown project"
        if kind in ("object", "op"):
            digest = self.resolve_version(pid, name, version)
            if digest is None:
                return False, f"no {kind} {name}:{version}"
            rec = self.objects[(pid, name, digest)]
            if rec["kind"] != kind:
                return False, f"{name}:{version} is stored as kind {rec['kind']}, referenced as {kind}"
            val = rec["val"]
        elif kind == "table":
            rows = self.tables.get((pid, version))
            if rows is None:
                return False, f"no table {version}"
            val = {"_type": "Table", "_rows": rows}
        elif kind == "call":
            rec = self.calls.get((pid, version))
            if rec is None or rec["start"] is None:
                return False, f"no call {version}"
            return True, None
        else:
            return False, f"unknown ref kind {kind!r}"
        # Extra path: pairs (edge, value); `id` selects a row of a table by digest.
        i = 0
        while i + 1 < len(extra):
            edge, value = extra[i], unquote(extra[i + 1])
            i += 2
            if isinstance(val, str) and val.startswith(INTERNAL_PREFIX):
                ok, val = self.resolve_ref(val)
                if not ok:
                    return False, val
            if edge == "id":
                rows = val.get("_rows") if isinstance(val, dict) else None
                if rows is None or value not in rows:
                    return False, f"no row {value} in the table"
                val = self.rows.get((pid, value))
                if val is None:
                    return False, f"row {value} not stored"
            elif edge in ("key", "attr"):
                if not isinstance(val, dict) or value not in val:
                    return False, f"no {edge} {value!r}"
                val = val[value]
            elif edge == "index":
                try:
                    val = val[int(value)]
                except (ValueError, IndexError, TypeError, KeyError):
                    return False, f"no index {value}"
            else:
                return False, f"unknown ref edge {edge!r}"
        if i != len(extra):
            return False, "odd ref extra path"
        return True, val


# ---------------------------------------------------------------------------------------
# The audit
# ---------------------------------------------------------------------------------------


def _files_in(val, out):
    if isinstance(val, dict):
        if val.get("_type") == "CustomWeaveType" and isinstance(val.get("files"), dict):
            out.extend(d for d in val["files"].values() if isinstance(d, str))
        for v in val.values():
            _files_in(v, out)
    elif isinstance(val, list):
        for v in val:
            _files_in(v, out)
    return out


def audit(store, log):
    violations = []
    with store.lock:
        def check_refs(where, pid, value):
            for ref in iter_ref_strings(value):
                if ref.startswith(PRIVATE_PREFIX):
                    violations.append(f"{where}: ref to a project nobody wrote: {ref}")
                    continue
                if ref.startswith(EXTERNAL_PREFIX):
                    violations.append(f"{where}: external ref stored unconverted: {ref}")
                    continue
                ok, why = store.resolve_ref(ref)
                if not ok:
                    violations.append(f"{where}: dangling ref {store.to_external(ref)} ({why})")
            for d in _files_in(value, []):
                if (pid, d) not in store.files:
                    violations.append(f"{where}: file {d} never uploaded")

        for (pid, oid, digest), rec in store.objects.items():
            check_refs(f"object {oid}:{digest}", pid, rec["val"])
        for (pid, digest), rows in store.tables.items():
            for rd in rows:
                if (pid, rd) not in store.rows:
                    violations.append(f"table {digest}: row {rd} not stored")
        for (pid, rd), row in store.rows.items():
            check_refs(f"table row {rd}", pid, row)
        for (pid, cid), rec in store.calls.items():
            start, end = rec["start"], rec["end"]
            where = f"call {cid}"
            if start is None:
                violations.append(f"{where}: an end but no start")
            if end is None:
                violations.append(f"{where}: a start but no end")
            if start is not None:
                op = start.get("op_name", "")
                if op.startswith(INTERNAL_PREFIX):
                    ok, why = store.resolve_ref(op)
                    if not ok:
                        violations.append(f"{where}: op_name {store.to_external(op)} resolves to nothing ({why})")
                parent = start.get("parent_id")
                if parent is not None:
                    prec = store.calls.get((pid, parent))
                    if prec is None or prec["start"] is None:
                        violations.append(f"{where}: parent {parent} is not a call")
                    elif prec["start"].get("trace_id") != start.get("trace_id"):
                        violations.append(f"{where}: parent {parent} is in trace "
                                          f"{prec['start'].get('trace_id')}, the call in {start.get('trace_id')}")
                check_refs(where + " start", pid, {k: v for k, v in start.items() if k != "op_name"})
            if end is not None:
                if start is not None and end.get("trace_id") not in (None, start.get("trace_id")):
                    violations.append(f"{where}: end names trace {end.get('trace_id')}, start {start.get('trace_id')}")
                if start is not None and parse_time(end["ended_at"]) + 1e-6 < parse_time(start["started_at"]):
                    violations.append(f"{where}: ended_at {end['ended_at']} before started_at {start['started_at']}")
                check_refs(where + " end", pid, end)
        violations.extend(store.conflicts)
        counts = {
            "calls": len(store.calls),
            "objects": sum(1 for r in store.objects.values() if r["kind"] == "object"),
            "ops": sum(1 for r in store.objects.values() if r["kind"] == "op"),
            "tables": len(store.tables), "rows": len(store.rows), "files": len(store.files),
            "starts_received": sum(r["starts"] for r in store.calls.values()),
            "ends_received": sum(r["ends"] for r in store.calls.values()),
        }
    refused, ignored = log.refused_and_ignored()
    counts["refused"] = log.refused_total
    return {"violations": violations, "refused": refused, "ignored": ignored, "counts": counts}


class RequestLog:
    def __init__(self):
        self.lock = threading.Lock()
        self.reset()

    def reset(self):
        with self.lock:
            self.by_route = {}
            self.refused = []
            self.refused_total = 0
            self.ignored = {}
            self.user_agents = {}
            self.bytes_received = 0
            self.requests = 0

    def record(self, route, status, injected, nbytes, reason=None, ua=None):
        with self.lock:
            self.requests += 1
            self.bytes_received += nbytes
            per = self.by_route.setdefault(route, {})
            key = str(status) + ("i" if injected else "")
            per[key] = per.get(key, 0) + 1
            if ua:
                self.user_agents[ua] = self.user_agents.get(ua, 0) + 1
            if 400 <= status < 500 and not injected:
                self.refused_total += 1
                if len(self.refused) < 1000:
                    self.refused.append({"route": route, "status": status, "reason": reason})

    def note_ignored(self, route, items):
        with self.lock:
            for loc, what in items:
                # batch indexes are folded so that one field sent a thousand times is one line
                loc = re.sub(r"\.\d+\.", ".*.", loc)
                key = (route, loc, what)
                self.ignored[key] = self.ignored.get(key, 0) + 1

    def refused_and_ignored(self):
        with self.lock:
            ignored = [{"route": r, "field": l, "what": w, "count": n}
                       for (r, l, w), n in sorted(self.ignored.items())]
            return list(self.refused), ignored

    def snapshot(self):
        with self.lock:
            return {"requests": self.requests, "by_route": json.loads(json.dumps(self.by_route)),
                    "bytes_received": self.bytes_received, "refused": self.refused_total,
                    "user_agents": dict(self.user_agents)}


# ---------------------------------------------------------------------------------------
# Routes
# ---------------------------------------------------------------------------------------

_V2_RE = re.compile(r"^/v2/([^/]+)/([^/]+)/(calls/complete|call/start|call/end)$")


def normalize_route(path):
    m = _V2_RE.match(path)
    if m:
        return "/v2/{entity}/{project}/" + m.group(3)
    return path


def parse_multipart(body, content_type):
    m = re.search(r'boundary="?([^";]+)"?', content_type or "")
    if not m:
        raise HttpError(422, [{"type": "missing", "loc": ["body"], "msg": "multipart boundary missing",
                               "input": None}])
    boundary = b"--" + m.group(1).encode()
    fields, files = {}, {}
    for part in body.split(boundary)[1:]:
        if part.startswith(b"--"):
            break
        part = part[2:] if part.startswith(b"\r\n") else part
        head, _, data = part.partition(b"\r\n\r\n")
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
        disp = headers.get("content-disposition", "")
        nm = re.search(r'(?:^|;)\s*name="([^"]*)"', disp)
        fn = re.search(r'filename="([^"]*)"', disp)
        if not nm:
            continue
        if fn is not None:
            files[nm.group(1)] = (fn.group(1), data)
        else:
            fields[nm.group(1)] = data.decode("utf-8")
    return fields, files


class Api:
    """The routes; each takes (handler-independent) request data and returns (status, body)."""

    def __init__(self, server):
        self.s = server
        self.store = server.store

    def ctx(self, route):
        return Ctx(route, self.s.forbid_inner_extra)

    # --- objects, tables, files ---

    def obj_create(self, route, body, ctx):
        req = validate(OBJ_CREATE_REQ, body, ctx)["obj"]
        pid = self.store.pid(req["project_id"])
        check_object_id(req["object_id"])
        val = self.store.to_internal(req["val"], pid)
        if req.get("builtin_object_class") is None and req.get("set_base_object_class"):
            req["builtin_object_class"] = req["set_base_object_class"]
        digest = self.store.obj_create(pid, req["object_id"], val, req.get("expected_digest"),
                                       req.get("builtin_object_class"))
        return 200, {"digest": digest, "object_id": req["object_id"]}

    def table_create(self, route, body, ctx):
        req = validate(TABLE_CREATE_REQ, body, ctx)["table"]
        pid = self.store.pid(req["project_id"])
        rows = self.store.to_internal(req["rows"], pid)
        digest, row_digests = self.store.table_create(pid, rows, req.get("expected_digest"))
        return 200, {"digest": digest, "row_digests": row_digests}

    def table_create_from_digests(self, route, body, ctx):
        req = validate(TABLE_FROM_DIGESTS_REQ, body, ctx)
        pid = self.store.pid(req["project_id"])
        return 200, {"digest": self.store.table_from_digests(pid, req["row_digests"], req.get("expected_digest"))}

    def file_create(self, route, raw, content_type, ctx):
        if not (content_type or "").startswith("multipart/form-data"):
            raise HttpError(422, [{"type": "missing", "loc": ["body", "file"], "msg": "Field required",
                                   "input": None}])
        fields, files = parse_multipart(raw, content_type)
        errors = []
        if "project_id" not in fields:
            errors.append({"type": "missing", "loc": ["body", "project_id"], "msg": "Field required", "input": None})
        if "file" not in files:
            errors.append({"type": "missing", "loc": ["body", "file"], "msg": "Field required", "input": None})
        if errors:
            raise HttpError(422, errors)
        for k in list(fields) + list(files):
            if k not in ("project_id", "expected_digest", "file"):
                ctx.note([k], "unknown form field ignored by the server")
        pid = self.store.pid(fields["project_id"])
        name, data = files["file"]
        digest = self.store.file_create(pid, name, data, fields.get("expected_digest") or None)
        return 200, {"digest": digest}

    def obj_read(self, route, body, ctx):
        req = validate(OBJ_READ_REQ, body, ctx)
        pid = self.store.pid(req["project_id"])
        with self.store.lock:
            digest = self.store.resolve_version(pid, req["object_id"], req["digest"])
            if digest is None:
                raise HttpError(404, f"Obj {req['object_id']}:{req['digest']} not found")
            return 200, {"obj": self.store.obj_schema(pid, req["object_id"], digest,
                                                       bool(req.get("metadata_only")))}

    def objs_query(self, route, body, ctx):
        req = validate(OBJS_QUERY_REQ, body, ctx)
        pid = self.store.pid(req["project_id"])
        flt = req.get("filter") or {}
        out = []
        with self.store.lock:
            for (p, oid), versions in self.store.versions.items():
                if p != pid or (flt.get("object_ids") and oid not in flt["object_ids"]):
                    continue
                for d in (versions[-1:] if flt.get("latest_only") else versions):
                    rec = self.store.objects[(p, oid, d)]
                    if flt.get("is_op") is not None and (rec["kind"] == "op") != bool(flt["is_op"]):
                        continue
                    if flt.get("base_object_classes") and rec["base_object_class"] not in flt["base_object_classes"]:
                        continue
                    out.append(self.store.obj_schema(p, oid, d, bool(req.get("metadata_only"))))
        off = req.get("offset") or 0
        lim = req.get("limit")
        return 200, {"objs": out[off:off + lim] if lim is not None else out[off:]}

    def table_query(self, route, body, ctx):
        req = validate(TABLE_QUERY_REQ, body, ctx)
        pid = self.store.pid(req["project_id"])
        with self.store.lock:
            rows = self.store.tables.get((pid, req["digest"]))
            if rows is None:
                raise HttpError(404, f"Table {req['digest']} not found")
            wanted = (req.get("filter") or {}).get("row_digests")
            out = [{"digest": d, "val": self.store.to_external(self.store.rows.get((pid, d))),
                    "original_index": i} for i, d in enumerate(rows) if not wanted or d in wanted]
        off = req.get("offset") or 0
        lim = req.get("limit")
        return 200, {"rows": out[off:off + lim] if lim is not None else out[off:]}

    def refs_read_batch(self, route, body, ctx):
        req = validate(REFS_READ_REQ, body, ctx)
        vals = []
        with self.store.lock:
            for ref in req["refs"]:
                if not ref.startswith(EXTERNAL_PREFIX):
                    raise HttpError(400, f"Invalid ref: {ref}")
                internal = self.store.to_internal(ref, None)
                ok, val = self.store.resolve_ref(internal)
                if not ok:
                    raise HttpError(404, f"Ref {ref} not found: {val}")
                if isinstance(val, dict) and val.get("_type") == "Table" and "_rows" in val:
                    pid = internal[len(INTERNAL_PREFIX):].split("/", 1)[0]
                    val = [self.store.rows.get((pid, d)) for d in val["_rows"]]
                vals.append(self.store.to_external(val))
        return 200, {"vals": vals}

    def file_content(self, route, body, ctx):
        req = validate(FILE_CONTENT_REQ, body, ctx)
        pid = self.store.pid(req["project_id"])
        f = self.store.files.get((pid, req["digest"]))
        if f is None:
            raise HttpError(404, f"File {req['digest']} not found")
        return 200, f["bytes"]

    # --- calls ---

    def _start(self, start, loc="start"):
        pid = self.store.pid(start["project_id"])
        if start.get("id") is None:
            start["id"] = _uuid7()
        if start.get("trace_id") is None:
            start["trace_id"] = _uuid7()
        check_call_id(start["id"], "call id")
        check_trace_id(start["trace_id"])
        check_call_id(start.get("parent_id"), "parent_id")
        if start.get("wb_run_id") is not None and len(start["wb_run_id"].split(":")) != 2:
            raise HttpError(400, f"Invalid run id: {start['wb_run_id']}")
        if start.get("wb_run_step") is not None and start["wb_run_step"] < 0:
            raise HttpError(400, "wb_run_step must be non-negative")
        start = self.store.to_internal(start, pid)
        op = start["op_name"]
        if op.startswith(INTERNAL_PREFIX):
            parsed = parse_internal_ref(op)
            if parsed is None or parsed[1] != "op" or parsed[4]:
                raise HttpError(400, f"Invalid op_name: {self.store.to_external(op)} is not an op ref")
        return pid, start

    def _end(self, end):
        pid = self.store.pid(end["project_id"])
        check_call_id(end["id"], "call id")
        check_trace_id(end.get("trace_id"))
        return pid, self.store.to_internal(end, pid)

    def call_start(self, route, body, ctx, path_project=None):
        start = validate(CALL_START_REQ, body, ctx)["start"]
        self._check_path_project(path_project, start)
        pid, start = self._start(start)
        self.store.call_start(pid, start)
        return 200, {"id": start["id"], "trace_id": start["trace_id"]}

    def call_end(self, route, body, ctx, path_project=None):
        end = validate(CALL_END_REQ, body, ctx)["end"]
        self._check_path_project(path_project, end)
        pid, end = self._end(end)
        self.store.call_end(pid, end)
        return 200, {}

    def call_upsert_batch(self, route, body, ctx):
        items = validate(CALL_BATCH_REQ, body, ctx)["batch"]
        # Validate the whole batch before storing any of it.
        prepared = []
        for item in items:
            if item["_kind"] == "start":
                prepared.append(("start",) + self._start(item["req"]["start"]))
            else:
                prepared.append(("end",) + self._end(item["req"]["end"]))
        res = []
        for kind, pid, rec in prepared:
            if kind == "start":
                self.store.call_start(pid, rec)
                res.append({"id": rec["id"], "trace_id": rec["trace_id"]})
            else:
                self.store.call_end(pid, rec)
                res.append({})
        return 200, {"res": res}

    def calls_complete(self, route, body, ctx, path_project):
        batch = validate(CALLS_COMPLETE_REQ, body, ctx)["batch"]
        prepared = []
        for item in batch:
            self._check_path_project(path_project, item)
            start = {k: item[k] for k in START_FIELDS if k in item}
            end = {k: item[k] for k in END_FIELDS if k in item and k not in ("started_at",)}
            end["trace_id"] = item["trace_id"]
            pid, start = self._start(start)
            _, end = self._end(end)
            prepared.append((pid, start, end))
        for pid, start, end in prepared:
            self.store.call_start(pid, start)
            self.store.call_end(pid, end)
        return 200, {}

    def _check_path_project(self, path_project, item):
        if path_project is not None and item.get("project_id") != path_project:
            raise HttpError(400, f"project_id {item.get('project_id')!r} does not match the route's "
                                 f"project {path_project!r}")

    def _call_schema(self, pid, cid, rec):
        start = self.store.to_external(rec["start"] or {})
        end = self.store.to_external(rec["end"] or {})
        out = {"id": cid, "project_id": self.store.project_of[pid]}
        for k in ("op_name", "display_name", "trace_id", "parent_id", "thread_id", "turn_id",
                  "started_at", "attributes", "inputs", "wb_user_id", "wb_run_id", "wb_run_step"):
            out[k] = start.get(k)
        for k in ("ended_at", "exception", "output", "summary", "wb_run_step_end"):
            out[k] = end.get(k)
        out["deleted_at"] = None
        if rec.get("display_name") is not None:
            out["display_name"] = rec["display_name"]
        return out

    def call_read(self, route, body, ctx):
        req = validate(CALL_READ_REQ, body, ctx)
        pid = self.store.pid(req["project_id"])
        with self.store.lock:
            rec = self.store.calls.get((pid, req["id"]))
            return 200, {"call": self._call_schema(pid, req["id"], rec) if rec else None}

    def calls_stream_query(self, route, body, ctx):
        req = validate(CALLS_QUERY_REQ, body, ctx)
        pid = self.store.pid(req["project_id"])
        flt = req.get("filter") or {}
        out = []
        with self.store.lock:
            for (p, cid), rec in self.store.calls.items():
                start = rec["start"] or {}
                if p != pid:
                    continue
                if flt.get("call_ids") and cid not in flt["call_ids"]:
                    continue
                if flt.get("trace_ids") and start.get("trace_id") not in flt["trace_ids"]:
                    continue
                if flt.get("parent_ids") and start.get("parent_id") not in flt["parent_ids"]:
                    continue
                if flt.get("trace_roots_only") and start.get("parent_id") is not None:
                    continue
                if flt.get("op_names") and self.store.to_external(start.get("op_name")) not in flt["op_names"]:
                    continue
                out.append(self._call_schema(p, cid, rec))
        off = req.get("offset") or 0
        lim = req.get("limit")
        out = out[off:off + lim] if lim is not None else out[off:]
        return 200, ("ndjson", "".join(json.dumps(c) + "\n" for c in out).encode())

    def call_update(self, route, body, ctx):
        req = validate(CALL_UPDATE_REQ, body, ctx)
        pid = self.store.pid(req["project_id"])
        with self.store.lock:
            rec = self.store.calls.get((pid, req["call_id"]))
            if rec is None:
                raise HttpError(404, f"Call {req['call_id']} not found")
            rec["display_name"] = req.get("display_name")
        return 200, {}

    def feedback_create(self, route, body, ctx):
        req = validate(FEEDBACK_CREATE_REQ, body, ctx)
        pid = self.store.pid(req["project_id"])
        fid = req.get("id") or _uuid7()
        with self.store.lock:
            self.store.feedback.append((pid, fid, req))
        return 200, {"id": fid, "created_at": _now_iso(), "wb_user_id": "fake-user",
                     "payload": req["payload"]}


# ---------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------

MAX_BODY_HARD = 256 * 1024 * 1024


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeWeave/1"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.owner.verbose:
            sys.stderr.write("fake_weave_server: " + (fmt % args) + "\n")

    def setup(self):
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    # --- plumbing ---

    def _read_body(self):
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            total = 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("connection closed in a chunked body")
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while True:  # trailers
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                total += size
                if total > MAX_BODY_HARD:
                    raise HttpError(413, "Request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            data = b"".join(chunks)
        else:
            n = int(self.headers.get("Content-Length") or 0)
            if n > MAX_BODY_HARD:
                self.close_connection = True
                raise HttpError(413, "Request body too large")
            data = self.rfile.read(n) if n else b""
        enc = (self.headers.get("Content-Encoding") or "").lower()
        if enc == "gzip":
            data = gzip.decompress(data)
        elif enc == "deflate":
            data = zlib.decompress(data)
        elif enc not in ("", "identity"):
            raise HttpError(415, f"unsupported Content-Encoding {enc!r}")
        return data

    def _abort(self):
        """Close the connection without an answer (RST), as a dying server or proxy would."""
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _send(self, status, body, headers=None, content_type="application/json"):
        if isinstance(body, tuple) and body and body[0] == "ndjson":
            content_type, data = "application/jsonl", body[1]
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
            content_type = "application/octet-stream"
        else:
            data = json.dumps(body).encode()
        self.send_response_only(status)
        self.send_header("Server", self.version_string())
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        if self.close_connection:
            self.send_header("Connection", "close")
        # headers and body in one write: no Nagle / delayed-ACK stall between them
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        self.wfile.write(head + (data if self.command != "HEAD" else b""))
        self.wfile.flush()

    def _auth_ok(self, key):
        h = self.headers.get("Authorization") or ""
        if not h.startswith("Basic "):
            return False, None
        try:
            user, _, password = base64.b64decode(h[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False, None
        return password == key, user

    def _dispatch(self, method):
        owner = self.server.owner
        path = urlsplit(self.path).path
        if path.startswith("/__"):
            return self._control(method, path)
        faults = owner.faults
        route = normalize_route(path)
        ua = self.headers.get("User-Agent")
        if faults.is_down():
            faults.count("down")
            owner.log.record(route, 0, True, 0, ua=ua)
            return self._abort()
        status, injected, reason, nbytes = 500, False, None, 0
        out_headers = {}
        try:
            try:
                raw = self._read_body()
            except HttpError:
                raise
            except (ValueError, OSError, EOFError, zlib.error) as e:
                raise HttpError(400, f"unreadable request body: {e}")
            nbytes = len(raw)
            if faults.config.get("bad_key"):
                injected = True
                faults.count("401")
                raise HttpError(401, "Unauthorized (injected)", {"WWW-Authenticate": 'Basic realm="weave"'})
            ok, user = self._auth_ok(owner.api_key)
            if not ok:
                raise HttpError(401, "Invalid or missing API key", {"WWW-Authenticate": 'Basic realm="weave"'})
            if user != "api":
                owner.log.note_ignored(route, [("Authorization", f"Basic user {user!r}, not 'api'")])
            limit = faults.config.get("max_body_bytes")
            if limit is not None and nbytes > int(limit):
                injected = True
                faults.count("413")
                raise HttpError(413, f"Request too large: {nbytes} bytes > {limit}")
            spec = faults.fire("rate_limit", route)
            if spec is not None:
                injected = True
                raise HttpError(429, "Too many requests (injected)",
                                {"Retry-After": int(spec.get("retry_after", 1))})
            spec = faults.fire("error", route)
            if spec is not None:
                injected = True
                raise HttpError(int(spec.get("status", 503)), "Service unavailable (injected)")
            refusal = self._calls_mode_refusal(owner, route, path)
            if refusal is not None:
                injected = True  # the server's policy, counted in faults.injected, not a refusal
                raise refusal
            status, body = self._route(method, path, route, raw)
        except HttpError as e:
            status, body, out_headers = e.status, None, dict(e.headers)
            if e.body is not None:
                body = e.body
                reason = json.dumps(e.body)[:500]
            elif status == 422:
                body = {"detail": e.detail}
                reason = json.dumps(e.detail)[:500]
            else:
                body = {"detail": e.detail, "reason": e.detail}
                reason = str(e.detail)[:500]
        except Exception as e:  # a bug in the fake server: say so loudly
            status, body = 500, {"detail": f"fake server error: {type(e).__name__}: {e}"}
            reason = body["detail"]
            owner.server_errors.append(f"{route}: {reason}")
            if owner.verbose:
                import traceback
                traceback.print_exc()
        owner.log.record(route, status, injected, nbytes, reason, ua)
        if status < 400 and faults.fire("drop", route) is not None:
            return self._abort()  # the work is done; the answer never comes
        spec = faults.fire("delay", route)
        if spec is not None:
            time.sleep(float(spec.get("ms", 100)) / 1000.0)
        try:
            self._send(status, body, out_headers)
        except OSError:
            self.close_connection = True

    @staticmethod
    def _calls_mode_refusal(owner, route, path):
        """--calls-mode: complete-required answers the v1 call routes as a project in Weave's
        calls_complete mode does (400, error_code CALLS_COMPLETE_MODE_REQUIRED);
        legacy-only has no v2 call routes (404), like a server from before them."""
        mode = owner.calls_mode
        if mode == "complete-required" and route in ("/call/start", "/call/end", "/call/upsert_batch"):
            owner.faults.count("complete_mode_required")
            return HttpError(400, "calls complete mode required", body={
                "error_code": "CALLS_COMPLETE_MODE_REQUIRED",
                "message": "This project requires calls complete mode: upgrade the SDK"})
        if mode == "legacy-only" and _V2_RE.match(path):
            owner.faults.count("v2_absent")
            return HttpError(404, "Not Found")
        return None

    def _route(self, method, path, route, raw):
        owner = self.server.owner
        api = owner.api
        if method == "GET":
            if path == "/server_info":
                return 200, {"min_required_weave_python_version": "0.0.0",
                             "trace_server_version": "fake-weave-server"}
            if path == "/health":
                return 200, {"status": "ok"}
            if path in ("/obj/create", "/table/create", "/call/upsert_batch"):
                raise HttpError(405, "Method Not Allowed")
            raise HttpError(404, "Not Found")
        if method != "POST":
            raise HttpError(405, "Method Not Allowed")
        ctx = api.ctx(route)
        try:
            if route in ("/file/create", "/files/create"):
                return api.file_create(route, raw, self.headers.get("Content-Type"), ctx)
            handler = {
                "/obj/create": api.obj_create, "/table/create": api.table_create,
                "/table/create_from_digests": api.table_create_from_digests,
                "/obj/read": api.obj_read, "/objs/query": api.objs_query,
                "/table/query": api.table_query, "/refs/read_batch": api.refs_read_batch,
                "/file/content": api.file_content, "/files/content": api.file_content,
                "/call/start": api.call_start, "/call/end": api.call_end,
                "/call/upsert_batch": api.call_upsert_batch, "/call/read": api.call_read,
                "/calls/stream_query": api.calls_stream_query, "/call/update": api.call_update,
                "/feedback/create": api.feedback_create, "/graphql": None,
            }.get(route, False)
            m = _V2_RE.match(path)
            if handler is False and m is None:
                raise HttpError(404, "Not Found")
            body = self._json(raw)
            if route == "/graphql":
                entity = owner.default_entity
                return 200, {"data": {"viewer": {"username": "fake-user", "defaultEntity": {"name": entity}}}}
            if m is not None:
                project = unquote(m.group(1)) + "/" + unquote(m.group(2))
                what = m.group(3)
                if what == "calls/complete":
                    return api.calls_complete(route, body, ctx, project)
                if what == "call/start":
                    return api.call_start(route, body, ctx, project)
                return api.call_end(route, body, ctx, project)
            return handler(route, body, ctx)
        finally:
            if ctx.ignored:
                owner.log.note_ignored(route, ctx.ignored)

    @staticmethod
    def _json(raw):
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as e:
            raise HttpError(422, [{"type": "json_invalid", "loc": ["body", 0], "msg": f"JSON decode error: {e}",
                                   "input": {}}])
        except ValueError as e:
            raise HttpError(422, [{"type": "json_invalid", "loc": ["body", getattr(e, "pos", 0)],
                                   "msg": "JSON decode error", "input": {}, "ctx": {"error": str(e)}}])
        except RecursionError:
            raise HttpError(413, "Request payload nesting too deep")

    def _control(self, method, path):
        owner = self.server.owner
        try:
            raw = self._read_body()
            if method == "GET" and path == "/__stats":
                return self._send(200, owner.stats())
            if method == "GET" and path == "/__audit":
                return self._send(200, owner.audit())
            if method == "GET" and path == "/__state":
                return self._send(200, owner.state())
            if method == "POST" and path == "/__control":
                cmd = json.loads(raw or b"{}")
                owner.control(cmd)
                return self._send(200, {"ok": True, "faults": owner.faults.snapshot()})
            return self._send(404, {"detail": "unknown control route"})
        except HttpError as e:
            return self._send(e.status, {"detail": e.detail})
        except (ValueError, TypeError) as e:
            return self._send(400, {"detail": str(e)})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address):
        # A client that hangs up (or a connection this server resets on cue) is not an error.
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


CALLS_MODES = ("any", "complete-required", "legacy-only")


class FakeWeaveServer:
    """The server as a Python object: start() returns the port, stop() ends it."""

    def __init__(self, api_key="test-key", port=0, faults=None, seed=0, project=None,
                 audit_file=None, max_seconds=900.0, forbid_inner_extra=False,
                 default_entity="fake-entity", verbose=False, calls_mode="any"):
        if calls_mode not in CALLS_MODES:
            raise ValueError(f"calls_mode must be one of {', '.join(CALLS_MODES)}")
        self.calls_mode = calls_mode
        self.api_key = api_key
        self.port = port
        self.seed = seed
        self.faults = Faults(seed)
        if faults:
            self.faults.set(faults)
        self.store = Store(allowed_project=project)
        self.log = RequestLog()
        self.api = Api(self)
        self.audit_file = audit_file
        self.max_seconds = max_seconds
        self.forbid_inner_extra = forbid_inner_extra
        self.default_entity = default_entity
        self.verbose = verbose
        self.server_errors = []
        self.started = None
        self._httpd = None
        self._thread = None
        self._timer = None
        self._stopped = threading.Event()
        self._stop_lock = threading.Lock()
        self._stopping = False

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        self._httpd = _Server(("127.0.0.1", self.port), Handler)
        self._httpd.owner = self
        self.port = self._httpd.server_address[1]
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="fake-weave-server", daemon=True)
        self._thread.start()
        if self.max_seconds:
            self._timer = threading.Timer(self.max_seconds, self.stop)
            self._timer.daemon = True
            self._timer.start()
        return self.port

    def stop(self):
        with self._stop_lock:
            if self._stopping:
                return
            self._stopping = True
        if self._timer is not None:
            self._timer.cancel()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self.audit_file:
            tmp = self.audit_file + ".tmp"
            with open(tmp, "w") as f:
                json.dump({"audit": self.audit(), "stats": self.stats()}, f, indent=1)
            os.replace(tmp, self.audit_file)
        self._stopped.set()

    def wait(self):
        # A timed wait: a signal may be delivered to another thread, and an untimed wait
        # on the main thread would then never run its handler.
        while not self._stopped.wait(0.2):
            pass

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # --- control ---

    def control(self, cmd):
        if not isinstance(cmd, dict):
            raise HttpError(400, "control body must be an object")
        known = {"faults", "merge_faults", "reset_faults", "reset", "api_key", "down_for", "calls_mode"}
        for k in cmd:
            if k not in known:
                raise HttpError(400, f"unknown control {k!r}")
        if cmd.get("reset"):
            self.store.reset()
            self.log.reset()
            self.faults.reset()
            self.server_errors.clear()
        if cmd.get("reset_faults"):
            self.faults.reset()
        if "faults" in cmd:
            self.faults.set(cmd["faults"])
        if "merge_faults" in cmd:
            self.faults.set(cmd["merge_faults"], merge=True)
        if "down_for" in cmd:
            self.faults.set({"down_for": cmd["down_for"]}, merge=True)
        if "api_key" in cmd:
            self.api_key = str(cmd["api_key"])
        if "calls_mode" in cmd:
            if cmd["calls_mode"] not in CALLS_MODES:
                raise HttpError(400, f"calls_mode must be one of {', '.join(CALLS_MODES)}")
            self.calls_mode = cmd["calls_mode"]

    def stats(self):
        s = self.log.snapshot()
        s["faults"] = self.faults.snapshot()
        s["injected"] = s["faults"]["injected"]
        s["server_errors"] = list(self.server_errors)
        with self.store.lock:
            s["projects"] = dict(self.store.pid_of)
        s["uptime_s"] = round(time.monotonic() - (self.started or time.monotonic()), 3)
        return s

    def audit(self):
        a = audit(self.store, self.log)
        a["violations"].extend(f"fake server error: {e}" for e in self.server_errors)
        return a

    def state(self):
        st = self.store
        with st.lock:
            return {
                "objects": [st.obj_schema(pid, oid, d) for (pid, oid, d) in st.objects],
                "tables": [{"project_id": st.project_of[p], "digest": d, "row_digests": r}
                           for (p, d), r in st.tables.items()],
                "rows": [{"project_id": st.project_of[p], "digest": d, "val": st.to_external(v)}
                         for (p, d), v in st.rows.items()],
                "files": [{"project_id": st.project_of[p], "digest": d, "name": f["name"],
                           "size": len(f["bytes"])} for (p, d), f in st.files.items()],
                "calls": [dict(st.to_external({"start": r["start"], "end": r["end"]}),
                               id=cid, project_id=st.project_of[p], starts=r["starts"], ends=r["ends"])
                          for (p, cid), r in st.calls.items()],
            }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", help="write the port here once listening")
    ap.add_argument("--api-key", required=True)
    ap.add_argument("--project", help="the only entity/project the key may write (else 403)")
    ap.add_argument("--project-check", action="store_true",
                    help="kept for scripts: project_id is always checked to be entity/project")
    ap.add_argument("--faults", help="fault configuration, JSON")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--audit-file", help="write the audit and stats here at exit")
    ap.add_argument("--print-audit", action="store_true", help="print the audit at exit")
    ap.add_argument("--max-seconds", type=float, default=900.0)
    ap.add_argument("--forbid-inner-extra", action="store_true",
                    help="refuse (422) unknown fields the real server would silently drop")
    ap.add_argument("--default-entity", default="fake-entity")
    ap.add_argument("--calls-mode", choices=CALLS_MODES, default="any",
                    help="complete-required: v1 call routes answer CALLS_COMPLETE_MODE_REQUIRED; "
                         "legacy-only: no v2 call routes (404)")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)
    try:
        server = FakeWeaveServer(api_key=args.api_key, port=args.port,
                                 faults=json.loads(args.faults) if args.faults else None,
                                 seed=args.seed, project=args.project, audit_file=args.audit_file,
                                 max_seconds=args.max_seconds, forbid_inner_extra=args.forbid_inner_extra,
                                 default_entity=args.default_entity, verbose=args.verbose,
                                 calls_mode=args.calls_mode)
    except (HttpError, ValueError) as e:
        ap.error(f"--faults: {e}")
    port = server.start()

    def on_signal(signum, frame):
        threading.Thread(target=server.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    print(f"fake_weave_server listening on 127.0.0.1:{port}", file=sys.stderr, flush=True)
    server.wait()
    a = server.audit()
    print(f"fake_weave_server: stopped; {len(a['violations'])} violations, {len(a['refused'])} refused, "
          f"counts {json.dumps(a['counts'])}", file=sys.stderr, flush=True)
    if args.print_audit:
        print(json.dumps(a, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
