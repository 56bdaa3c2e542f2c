#!/usr/bin/env python3
"""Checks the fake Weave trace server itself (stdlib unittest; exits non-zero on failure).

    python3 tests/support/fake_weave_server_test.py [-v]

Digests are checked against hashlib directly (not against the server's own helpers); the
ref rewriting against a value hashed in its internal form; the validators, the faults
(exact counts), the audit and the command line (a subprocess with --port-file, SIGTERM).
"""

import base64
import hashlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import fake_weave_server as fws  # noqa: E402

KEY = "test-key-123"
PROJECT = "ent/proj"


def b64digest(data: bytes) -> str:
    return (base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()
            .replace("-", "X").replace("_", "Y").rstrip("="))


def digest_of(val) -> str:
    return b64digest(json.dumps(val, sort_keys=True).encode())


def now_iso(offset=0.0):
    t = time.time() + offset
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


class Client:
    """A keep-alive HTTP/1.1 client for one server."""

    def __init__(self, port, key=KEY, user="api"):
        self.port = port
        self.key = key
        self.user = user
        self.conn = None

    def _conn(self):
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        return self.conn

    def request(self, method, path, body=None, headers=None, raw=None, auth=True):
        hdrs = dict(headers or {})
        if auth and self.key is not None:
            token = base64.b64encode(f"{self.user}:{self.key}".encode()).decode()
            hdrs["Authorization"] = "Basic " + token
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        conn = self._conn()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
        except (ConnectionError, http.client.HTTPException, OSError):
            self.close()
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        ctype = resp.getheader("Content-Type", "")
        parsed = json.loads(payload) if ctype.startswith("application/json") and payload else payload
        return resp.status, parsed, resp

    def post(self, path, body, **kw):
        status, parsed, _ = self.request("POST", path, body, **kw)
        return status, parsed

    def get(self, path, **kw):
        status, parsed, _ = self.request("GET", path, **kw)
        return status, parsed

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def multipart(fields, file_name, file_bytes, file_field="file"):
    boundary = "----fakeweave" + uuid.uuid4().hex
    out = []
    for k, v in fields.items():
        out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode())
    out.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
               f'filename="{file_name}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode())
    out.append(file_bytes + b"\r\n")
    out.append(f"--{boundary}--\r\n".encode())
    return b"".join(out), f"multipart/form-data; boundary={boundary}"


def start_req(cid=None, trace=None, parent=None, op="weave:///ent/proj/op/f:abc", inputs=None, **extra):
    s = {"project_id": PROJECT, "id": cid or str(uuid.uuid4()), "trace_id": trace or str(uuid.uuid4()),
         "op_name": op, "started_at": now_iso(), "attributes": {}, "inputs": inputs or {}}
    if parent:
        s["parent_id"] = parent
    s.update(extra)
    return s


def end_req(cid, output=None, **extra):
    e = {"project_id": PROJECT, "id": cid, "ended_at": now_iso(0.001), "summary": {}, "output": output}
    e.update(extra)
    return e


class ServerTest(unittest.TestCase):
    def setUp(self):
        self.server = fws.FakeWeaveServer(api_key=KEY, seed=7, max_seconds=120)
        self.port = self.server.start()
        self.c = Client(self.port)

    def tearDown(self):
        self.c.close()
        self.server.stop()

    def control(self, cmd):
        status, body = self.c.post("/__control", cmd, auth=False)
        self.assertEqual(status, 200, body)
        return body

    def stats(self):
        return self.c.get("/__stats", auth=False)[1]

    def audit(self):
        return self.c.get("/__audit", auth=False)[1]

    def internal(self, project=PROJECT):
        return fws.internal_project_id(project)

    # --- digests ---

    def test_ref_free_object_digest_matches_hashlib(self):
        vals = [{"a": 1, "b": [1.5, "x", None, True]}, {"z": {"y": 1e16, "big": 2 ** 80}},
                {"u": "h\u00e9llo \U0001f600", "nan": float("nan")}, [1, 2, 3], "s", 5]
        for val in vals:
            with self.subTest(val=val):
                status, body = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o",
                                                                   "val": val}})
                self.assertEqual(status, 200, body)
                self.assertEqual(body, {"digest": digest_of(val), "object_id": "o"})

    def test_nan_and_big_ints_survive_parsing(self):
        raw = b'{"obj": {"project_id": "ent/proj", "object_id": "n", "val": {"x": NaN, "y": -Infinity, "z": 123456789012345678901234567890, "f": 1.0}}}'
        status, body, _ = self.c.request("POST", "/obj/create", raw=raw,
                                         headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, body)
        canon = '{"f": 1.0, "x": NaN, "y": -Infinity, "z": 123456789012345678901234567890}'
        self.assertEqual(body["digest"], b64digest(canon.encode()))

    def test_ref_bearing_digest_is_taken_over_internal_refs(self):
        leaf = {"k": "v"}
        _, r = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "leaf", "val": leaf}})
        ext = f"weave:///{PROJECT}/object/leaf:{r['digest']}"
        parent = {"child": ext, "n": 1}
        status, body = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "parent",
                                                           "val": parent}})
        self.assertEqual(status, 200, body)
        self.assertNotEqual(body["digest"], digest_of(parent))
        internal = f"weave-trace-internal:///{self.internal()}/object/leaf:{r['digest']}"
        self.assertNotIn(PROJECT, self.internal())
        self.assertEqual(body["digest"], digest_of({"child": internal, "n": 1}))
        # read back in the external form
        status, read = self.c.post("/obj/read", {"project_id": PROJECT, "object_id": "parent",
                                                 "digest": body["digest"]})
        self.assertEqual(status, 200, read)
        self.assertEqual(read["obj"]["val"], parent)
        # the client-side digest as expected_digest: 409
        status, err = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "parent",
                                                          "val": parent, "expected_digest": digest_of(parent)}})
        self.assertEqual(status, 409, err)
        self.assertIn("detail", err)
        # the server's digest as expected_digest: accepted
        status, ok = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "parent",
                                                         "val": parent, "expected_digest": body["digest"]}})
        self.assertEqual((status, ok["digest"]), (200, body["digest"]))

    def test_refs_inside_json_strings_are_rewritten_too(self):
        ref = f"weave:///{PROJECT}/object/x:abc"
        val = {"content": json.dumps([{"type": "ref", "uri": ref}])}
        _, body = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "emb", "val": val}})
        internal = ref.replace(f"weave:///{PROJECT}", f"weave-trace-internal:///{self.internal()}")
        self.assertEqual(body["digest"], digest_of({"content": json.dumps([{"type": "ref", "uri": internal}])}))

    def test_table_and_row_digests(self):
        rows = [{"a": 1}, {"b": "two"}, {"c": [3]}]
        status, body = self.c.post("/table/create", {"table": {"project_id": PROJECT, "rows": rows}})
        self.assertEqual(status, 200, body)
        rds = [digest_of(r) for r in rows]
        self.assertEqual(body["row_digests"], rds)
        self.assertEqual(body["digest"], hashlib.sha256("".join(rds).encode()).hexdigest())
        status, body2 = self.c.post("/table/create_from_digests", {"project_id": PROJECT, "row_digests": rds[:2]})
        self.assertEqual(status, 200, body2)
        self.assertEqual(body2["digest"], hashlib.sha256("".join(rds[:2]).encode()).hexdigest())
        status, empty = self.c.post("/table/create", {"table": {"project_id": PROJECT, "rows": []}})
        self.assertEqual(empty["digest"], hashlib.sha256(b"").hexdigest())
        status, q = self.c.post("/table/query", {"project_id": PROJECT, "digest": body["digest"]})
        self.assertEqual([r["val"] for r in q["rows"]], rows)
        status, err = self.c.post("/table/create", {"table": {"project_id": PROJECT, "rows": rows,
                                                              "expected_digest": "0" * 64}})
        self.assertEqual(status, 409, err)

    def test_file_create_both_routes(self):
        data = b"def f():\n    return 1\n"
        for route in ("/file/create", "/files/create"):
            raw, ctype = multipart({"project_id": PROJECT}, "obj.py", data)
            status, body, _ = self.c.request("POST", route, raw=raw, headers={"Content-Type": ctype})
            self.assertEqual((status, body), (200, {"digest": b64digest(data)}))
        raw, ctype = multipart({"project_id": PROJECT, "expected_digest": "nope"}, "obj.py", data)
        status, body, _ = self.c.request("POST", "/file/create", raw=raw, headers={"Content-Type": ctype})
        self.assertEqual(status, 409, body)
        raw, ctype = multipart({"expected_digest": b64digest(data)}, "obj.py", data)
        status, body, _ = self.c.request("POST", "/file/create", raw=raw, headers={"Content-Type": ctype})
        self.assertEqual(status, 422, body)

    # --- validation ---

    def test_unknown_top_level_field_is_422(self):
        status, body = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1},
                                                   "weft": {"kind": "object"}})
        self.assertEqual(status, 422, body)
        self.assertEqual(body["detail"][0]["type"], "extra_forbidden")
        self.assertEqual(body["detail"][0]["loc"], ["body", "weft"])
        self.assertEqual(self.audit()["counts"]["refused"], 1)

    def test_unknown_inner_field_is_dropped_and_noted(self):
        cid = str(uuid.uuid4())
        status, body = self.c.post("/call/start", {"start": start_req(cid, surprise=1)})
        self.assertEqual(status, 200, body)
        ignored = self.audit()["ignored"]
        self.assertEqual([i["field"] for i in ignored], ["start.surprise"])
        # and refused when asked to be stricter than the real server
        self.server.forbid_inner_extra = True
        status, body = self.c.post("/call/start", {"start": start_req(surprise=1)})
        self.assertEqual(status, 422, body)

    def test_required_fields_types_and_ids(self):
        cases = [
            ({"start": {k: v for k, v in start_req().items() if k != "started_at"}}, 422, "missing"),
            ({"start": start_req(started_at="yesterday")}, 422, "datetime_from_date_parsing"),
            ({"start": start_req(inputs=None) | {"inputs": [1]}}, 422, "dict_type"),
            ({"start": start_req(op_name=5) | {"op_name": 5}}, 422, "string_type"),
            ({"start": start_req(cid="call-1")}, 400, None),
            ({"start": start_req(trace="t")}, 400, None),
            ({"start": start_req(op="weave:///ent/proj/object/f:abc")}, 400, None),
            ({"start": start_req() | {"project_id": "just-a-name"}}, 400, None),
            ({"start": start_req(inputs={"r": "weave:///bad"})}, 400, None),
        ]
        for body, want, typ in cases:
            with self.subTest(body=body):
                status, resp = self.c.post("/call/start", body)
                self.assertEqual(status, want, resp)
                if typ:
                    self.assertEqual(resp["detail"][0]["type"], typ)
        status, resp = self.c.post("/call/end", {"end": {"project_id": PROJECT, "id": str(uuid.uuid4()),
                                                         "ended_at": now_iso(), "summary": {"status_counts": {"bogus": 1}}}})
        self.assertEqual(status, 422, resp)
        status, resp = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "bad name!", "val": 1}})
        self.assertEqual(status, 400, resp)
        status, resp = self.c.post("/call/upsert_batch", {"batch": [{"mode": "start", "req": {"start": start_req(),
                                                                                           "x": 1}}]})
        self.assertEqual(status, 422, resp)
        status, resp = self.c.post("/nope", {})
        self.assertEqual(status, 404, resp)
        status, resp, _ = self.c.request("POST", "/obj/create", raw=b"{not json",
                                         headers={"Content-Type": "application/json"})
        self.assertEqual(status, 422, resp)

    def test_project_restriction(self):
        self.server.store.allowed_project = PROJECT
        status, _ = self.c.post("/obj/create", {"obj": {"project_id": "other/proj", "object_id": "o", "val": 1}})
        self.assertEqual(status, 403)
        status, _ = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})
        self.assertEqual(status, 200)

    # --- auth ---

    def test_bad_or_missing_key_is_401(self):
        bad = Client(self.port, key="wrong")
        status, body = bad.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})
        bad.close()
        self.assertEqual(status, 401)
        self.assertIn("detail", body)
        status, body = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}},
                                   auth=False)
        self.assertEqual(status, 401)
        self.assertEqual(self.audit()["counts"]["refused"], 2)
        status, _ = self.c.get("/server_info")
        self.assertEqual(status, 200)

    # --- calls ---

    def test_upsert_batch_answers_and_idempotence(self):
        root, child, trace = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        batch = {"batch": [
            {"mode": "start", "req": {"start": start_req(child, trace, parent=root)}},
            {"mode": "end", "req": {"end": end_req(child, 1)}},
            {"mode": "start", "req": {"start": start_req(root, trace)}},
            {"mode": "end", "req": {"end": end_req(root, {"r": 2})}},
        ]}
        status, body = self.c.post("/call/upsert_batch", batch)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["res"], [{"id": child, "trace_id": trace}, {}, {"id": root, "trace_id": trace}, {}])
        status, _ = self.c.post("/call/upsert_batch", batch)  # a retry: harmless
        self.assertEqual(status, 200)
        a = self.audit()
        self.assertEqual(a["counts"]["calls"], 2)
        self.assertEqual(a["counts"]["starts_received"], 4)
        self.assertEqual([v for v in a["violations"] if "op_name" not in v], [])

    def test_v2_routes(self):
        cid, trace = str(uuid.uuid4()), str(uuid.uuid4())
        item = start_req(cid, trace) | {"ended_at": now_iso(0.01), "summary": {}, "output": 3}
        status, body = self.c.post(f"/v2/ent/proj/calls/complete", {"batch": [item]})
        self.assertEqual((status, body), (200, {}))
        status, body = self.c.post(f"/v2/other/proj/calls/complete", {"batch": [item]})
        self.assertEqual(status, 400, body)
        cid2 = str(uuid.uuid4())
        status, body = self.c.post(f"/v2/ent/proj/call/start", {"start": start_req(cid2, trace, parent=cid)})
        self.assertEqual((status, body), (200, {"id": cid2, "trace_id": trace}))
        status, body = self.c.post(f"/v2/ent/proj/call/end", {"end": end_req(cid2, started_at=now_iso())})
        self.assertEqual((status, body), (200, {}))
        self.assertEqual(self.stats()["by_route"]["/v2/{entity}/{project}/calls/complete"], {"200": 1, "400": 1})

    # --- faults ---

    def test_fault_503_count_exact(self):
        self.control({"faults": {"error": {"count": 3, "status": 503}}})
        statuses = [self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": i}})[0]
                    for i in range(6)]
        self.assertEqual(statuses, [503, 503, 503, 200, 200, 200])
        s = self.stats()
        self.assertEqual(s["injected"], {"503": 3})
        self.assertEqual(s["by_route"]["/obj/create"], {"503i": 3, "200": 3})
        self.assertEqual(self.audit()["refused"], [])  # injected faults are not refusals

    def test_fault_rate_is_seeded(self):
        def run():
            self.control({"reset": True})
            self.control({"faults": {"error": {"rate": 0.3, "status": 500}}})
            return [self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": i}})[0]
                    for i in range(40)]
        first, second = run(), run()
        self.assertEqual(first, second)
        n = first.count(500)
        self.assertTrue(0 < n < 40, first)
        self.assertEqual(self.stats()["injected"], {"500": n})

    def test_fault_429_retry_after(self):
        self.control({"faults": {"rate_limit": {"every": 2, "retry_after": 3, "routes": ["/table/"]}}})
        out = []
        for i in range(4):
            status, body, resp = self.c.request("POST", "/table/create",
                                                {"table": {"project_id": PROJECT, "rows": [{"i": i}]}})
            out.append((status, resp.getheader("Retry-After")))
        self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})
        self.assertEqual(out, [(200, None), (429, "3"), (200, None), (429, "3")])
        self.assertEqual(self.stats()["injected"], {"429": 2})

    def test_fault_413_over_size(self):
        self.control({"faults": {"max_body_bytes": 200}})
        small = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})[0]
        big = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": "x" * 500}})[0]
        self.assertEqual((small, big), (200, 413))
        self.assertEqual(self.stats()["injected"], {"413": 1})

    def test_fault_drop_after_work(self):
        self.control({"faults": {"drop": {"count": 1}}})
        with self.assertRaises((ConnectionError, http.client.HTTPException, OSError)):
            self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "dropped", "val": 42}})
        self.assertEqual(self.stats()["injected"], {"drop": 1})
        # the work was done: the object is stored, and the retry gets the same digest
        state = self.c.get("/__state", auth=False)[1]
        self.assertEqual([o["object_id"] for o in state["objects"]], ["dropped"])
        status, body = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "dropped", "val": 42}})
        self.assertEqual((status, body["digest"]), (200, digest_of(42)))
        self.assertEqual(self.audit()["counts"]["objects"], 1)

    def test_fault_delay(self):
        self.control({"faults": {"delay": {"ms": 300, "count": 1}}})
        t0 = time.monotonic()
        self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})
        slow = time.monotonic() - t0
        t0 = time.monotonic()
        self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})
        fast = time.monotonic() - t0
        self.assertGreaterEqual(slow, 0.3)
        self.assertLess(fast, 0.3)
        self.assertEqual(self.stats()["injected"], {"delay": 1})

    def test_fault_down_is_a_transport_error(self):
        self.control({"down_for": 0.6})
        failures = 0
        for _ in range(2):
            try:
                self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})
            except (ConnectionError, http.client.HTTPException, OSError):
                failures += 1
        self.assertEqual(failures, 2)
        self.assertEqual(self.stats()["injected"], {"down": 2})  # control routes still answer
        time.sleep(0.7)
        status, _ = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})
        self.assertEqual(status, 200)

    def test_fault_bad_key_then_reset(self):
        self.control({"faults": {"bad_key": True}})
        self.assertEqual(self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})[0], 401)
        self.assertEqual(self.stats()["injected"], {"401": 1})
        self.control({"reset_faults": True})
        self.assertEqual(self.stats()["injected"], {})
        self.assertEqual(self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})[0], 200)
        self.assertEqual(self.audit()["refused"], [])

    # --- the audit ---

    def test_audit_clean_trace(self):
        _, op = self._upload_op("f")
        _, leaf = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "leaf", "val": {"a": 1}}})
        _, tab = self.c.post("/table/create", {"table": {"project_id": PROJECT, "rows": [{"x": 1}]}})
        ds = {"_type": "Dataset", "rows": f"weave:///{PROJECT}/table/{tab['digest']}",
              "_class_name": "Dataset", "_bases": ["Object", "BaseModel"]}
        _, dsr = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "ds", "val": ds}})
        row_ref = f"weave:///{PROJECT}/object/ds:{dsr['digest']}/attr/rows/id/{tab['row_digests'][0]}"
        root, child, trace = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        inputs = {"leaf": f"weave:///{PROJECT}/object/leaf:{leaf['digest']}", "row": row_ref}
        self.c.post("/call/upsert_batch", {"batch": [
            {"mode": "start", "req": {"start": start_req(root, trace, op=op, inputs=inputs)}},
            {"mode": "start", "req": {"start": start_req(child, trace, parent=root, op=op)}},
            {"mode": "end", "req": {"end": end_req(child, f"weave:///{PROJECT}/call/{root}")}},
            {"mode": "end", "req": {"end": end_req(root)}}]})
        a = self.audit()
        self.assertEqual(a["violations"], [])
        self.assertEqual(a["refused"], [])
        self.assertEqual(a["counts"] | {}, {"calls": 2, "objects": 2, "ops": 1, "tables": 1, "rows": 1,
                                            "files": 1, "starts_received": 2, "ends_received": 2, "refused": 0})

    def _upload_op(self, name):
        src = f"def {name}(): pass\n".encode()
        raw, ctype = multipart({"project_id": PROJECT}, "obj.py", src)
        _, f, _ = self.c.request("POST", "/file/create", raw=raw, headers={"Content-Type": ctype})
        val = {"_type": "CustomWeaveType", "weave_type": {"type": "Op"}, "files": {"obj.py": f["digest"]}}
        _, r = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": name, "val": val}})
        return f["digest"], f"weave:///{PROJECT}/op/{name}:{r['digest']}"

    def test_audit_finds_problems(self):
        _, op = self._upload_op("g")
        # a dangling object ref, a missing end, a parent in another trace, a missing file
        a, b, c = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
        t1, t2 = str(uuid.uuid4()), str(uuid.uuid4())
        self.c.post("/call/upsert_batch", {"batch": [
            {"mode": "start", "req": {"start": start_req(a, t1, op=op, inputs={
                "x": f"weave:///{PROJECT}/object/nothing:{'A' * 43}"})}},
            {"mode": "end", "req": {"end": end_req(a)}},
            {"mode": "start", "req": {"start": start_req(b, t2, parent=a, op=op)}},
            {"mode": "end", "req": {"end": end_req(b)}},
            {"mode": "start", "req": {"start": start_req(c, t1, parent=a, op=op)}},
        ]})
        blob = {"_type": "CustomWeaveType", "weave_type": {"type": "PIL.Image.Image"}, "files": {"image.png": "B" * 43}}
        self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "img", "val": blob}})
        self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "obj", "val": {
            "t": f"weave:///{PROJECT}/table/{'0' * 64}", "op": op.replace("/op/", "/object/")}}})
        self.c.post("/call/end", {"end": end_req(str(uuid.uuid4()))})
        v = self.audit()["violations"]
        text = "\n".join(v)
        self.assertIn(f"call {a} start: dangling ref weave:///{PROJECT}/object/nothing:", text)
        self.assertIn(f"call {c}: a start but no end", text)
        self.assertIn(f"call {b}: parent {a} is in trace {t1}, the call in {t2}", text)
        self.assertIn("file " + "B" * 43 + " never uploaded", text)
        self.assertIn(f"/table/{'0' * 64} (no table", text)
        self.assertIn("is stored as kind op, referenced as object", text)
        self.assertIn("an end but no start", text)
        self.assertEqual(len(v), 7, text)

    def test_audit_conflicting_resend(self):
        cid = str(uuid.uuid4())
        s = start_req(cid)
        self.c.post("/call/start", {"start": s})
        self.c.post("/call/start", {"start": s | {"inputs": {"changed": True}}})
        self.assertTrue(any("second start with different content" in v for v in self.audit()["violations"]))

    def test_keep_alive_and_throughput(self):
        n = 300
        t0 = time.monotonic()
        for i in range(n):
            status, _ = self.c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": i}})
            self.assertEqual(status, 200)
        rate = n / (time.monotonic() - t0)
        self.assertGreater(rate, 200, f"{rate:.0f} requests/s")

    def test_concurrent_clients(self):
        errors = []

        def worker(k):
            c = Client(self.port)
            try:
                for i in range(50):
                    cid = str(uuid.uuid4())
                    st, _ = c.post("/call/upsert_batch", {"batch": [
                        {"mode": "start", "req": {"start": start_req(cid)}},
                        {"mode": "end", "req": {"end": end_req(cid, i)}}]})
                    if st != 200:
                        errors.append(st)
            finally:
                c.close()
        threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        self.assertEqual(self.audit()["counts"]["calls"], 400)


class CliTest(unittest.TestCase):
    def test_port_file_sigterm_and_audit_file(self):
        with tempfile.TemporaryDirectory() as d:
            port_file, audit_file = os.path.join(d, "port"), os.path.join(d, "audit.json")
            proc = subprocess.Popen([sys.executable, os.path.join(HERE, "fake_weave_server.py"), "--port", "0",
                                     "--port-file", port_file, "--api-key", KEY, "--seed", "3",
                                     "--faults", json.dumps({"error": {"count": 1}}),
                                     "--audit-file", audit_file, "--max-seconds", "60"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                deadline = time.monotonic() + 10
                while not os.path.exists(port_file):
                    self.assertIsNone(proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
                    self.assertLess(time.monotonic(), deadline)
                    time.sleep(0.02)
                with open(port_file) as pf:
                    port = int(pf.read())
                c = Client(port)
                self.assertEqual(c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})[0], 503)
                self.assertEqual(c.post("/obj/create", {"obj": {"project_id": PROJECT, "object_id": "o", "val": 1}})[0], 200)
                c.close()
                # loopback only
                s = socket.socket()
                bound = s.connect_ex(("127.0.0.1", port))
                s.close()
                self.assertEqual(bound, 0)
            finally:
                proc.send_signal(signal.SIGTERM)
                out, err = proc.communicate(timeout=20)
            self.assertEqual(proc.returncode, 0, err)
            with open(audit_file) as af:
                report = json.load(af)
            self.assertEqual(report["audit"]["counts"]["objects"], 1)
            self.assertEqual(report["stats"]["injected"], {"503": 1})
            self.assertIn(b"0 violations", err)

    def test_max_seconds(self):
        proc = subprocess.run([sys.executable, os.path.join(HERE, "fake_weave_server.py"), "--api-key", KEY,
                               "--max-seconds", "0.5"], capture_output=True, timeout=20)
        self.assertEqual(proc.returncode, 0, proc.stderr)


if __name__ == "__main__":
    unittest.main()
