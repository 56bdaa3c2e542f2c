#!/usr/bin/env python3
"""`weft demo --remote` and `weft replay --outbox` against the fake Weave trace server
(tests/support/fake_weave_server.py), asserting exact delivery:

* clean: the server's audit is clean, it stored exactly the calls, objects, ops, tables,
  rows and files the demo says it delivered, and as many of each as the same workload
  leaves in the SQLite store (read with Python's sqlite3);
* faults: 10% 503s, 5% connections dropped after the work is done, 429s with Retry-After,
  a 256 KiB request limit (413): the same, complete, with the retries and splits counted;
* complete mode (`--calls-complete`: /v2/.../calls/complete) through the same faults, and a
  server whose project requires it (CALLS_COMPLETE_MODE_REQUIRED): complete, the store
  switching by itself once;
* down: the server resets every connection for 5 s while the demo runs: complete;
* bad key: exit 1, one clear error naming the server, nothing stored, every request kept in
  the outbox; `weft replay --outbox` with the right key then delivers all of it;
* kill -9 during an outage (every request answered 503): what reached the outbox (counted
  with sqlite3 after the kill) is delivered by `weft replay --outbox`, and the server then
  holds the whole workload.
"""
import argparse
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from fake_weave_server import FakeWeaveServer  # noqa: E402

KEY = "test-key-0123456789"
PROJECT = "weft/demo"
FAILURES = []


def check(cond, what):
    if not cond:
        FAILURES.append(what)
        print("FAIL:", what, flush=True)


def get(server, path):
    with urllib.request.urlopen(server.url + path, timeout=30) as r:
        return json.load(r)


def control(server, cmd):
    req = urllib.request.Request(server.url + "/__control", data=json.dumps(cmd).encode(), method="POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)


def run_demo(weft, cwd, url, ops, key=KEY, extra=(), timeout=600):
    env = dict(os.environ, WANDB_API_KEY=key, HOME=cwd)
    env.pop("WF_TRACE_SERVER_URL", None)
    return subprocess.run([weft, "demo", "--remote", url, "--project", PROJECT, "--ops", str(ops), *extra],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def summary(out):
    m = re.search(r"calls\s+(\d+) started, (\d+) ended", out)
    o = re.search(r"objects\s+(\d+) obj_create", out)
    t = re.search(r"tables\s+(\d+) table_create", out)
    f = re.search(r"files\s+(\d+) file_create", out)
    if not (m and o and t and f):
        return None
    return {"starts": int(m.group(1)), "ends": int(m.group(2)), "obj_create": int(o.group(1)),
            "tables": int(t.group(1)), "files": int(f.group(1))}


def sqlite_counts(weft, tmp, ops):
    db = os.path.join(tmp, "local.db")
    subprocess.run([weft, "demo", "--store", db, "--ops", str(ops), "--project", PROJECT], cwd=tmp,
                   check=True, capture_output=True, timeout=600)
    con = sqlite3.connect(db)
    q = lambda sql: con.execute(sql).fetchone()[0]
    return {"calls": q("select count(*) from calls"),
            "objects": q("select count(*) from objects where kind = 'object'"),
            "ops": q("select count(*) from objects where kind = 'op'"),
            "tables": q("select count(*) from tables"),
            "rows": q("select count(*) from table_rows"),
            "files": q("select count(*) from files")}


def expect_complete(name, server, proc, expected):
    check(proc.returncode == 0, f"{name}: demo exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}")
    s = summary(proc.stdout)
    check(s is not None, f"{name}: no summary in\n{proc.stdout}")
    audit = get(server, "/__audit")
    c = audit["counts"]
    check(audit["violations"] == [], f"{name}: audit violations {audit['violations'][:5]}")
    check(audit.get("refused", []) == [], f"{name}: server refused {audit.get('refused', [])[:5]}")
    for k in ("calls", "objects", "ops", "tables", "rows", "files"):
        check(c[k] == expected[k], f"{name}: server holds {c[k]} {k}, the same workload into SQLite {expected[k]}")
    if s:
        check(s["starts"] == s["ends"] == c["calls"], f"{name}: demo says {s}, server {c}")
        check(s["obj_create"] == c["objects"] + c["ops"], f"{name}: demo {s['obj_create']} obj_create, server {c}")
        check(s["tables"] == c["tables"] and s["files"] == c["files"], f"{name}: demo {s}, server {c}")
    return audit


def outbox_depth(path):
    if not os.path.exists(path):
        return 0
    con = sqlite3.connect(path)
    try:
        return con.execute("select count(*) from outbox").fetchone()[0]
    finally:
        con.close()  # the outbox is locked to one process: let weft open it next


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--ops", type=int, default=60)
    args = ap.parse_args()
    weft = os.path.abspath(args.weft)
    with tempfile.TemporaryDirectory() as tmp:
        expected = sqlite_counts(weft, tmp, args.ops)
        print("the workload into SQLite:", expected, flush=True)
        server = FakeWeaveServer(api_key=KEY, seed=7)
        server.start()
        try:
            # clean
            d = tempfile.mkdtemp(dir=tmp)
            p = run_demo(weft, d, server.url, args.ops)
            expect_complete("clean", server, p, expected)
            check(outbox_depth(os.path.join(d, "weft-outbox.db")) == 0, "clean: outbox not empty")

            # faults
            control(server, {"reset": True})
            control(server, {"faults": {"error": {"rate": 0.1}, "drop": {"rate": 0.05},
                                        "rate_limit": {"count": 3, "retry_after": 1},
                                        "max_body_bytes": 256 * 1024}})
            d = tempfile.mkdtemp(dir=tmp)
            p = run_demo(weft, d, server.url, args.ops)
            expect_complete("faults", server, p, expected)
            inj = get(server, "/__stats")["injected"]
            check(inj.get("503", 0) > 0 and inj.get("drop", 0) > 0 and inj.get("429", 0) == 3,
                  f"faults: injected {inj}")
            retried = re.search(r"retried\s+429=(\d+) 5xx=(\d+) timeout=(\d+) connection=(\d+)", p.stdout)
            # A connection dropped before the answer on a reused connection is re-sent by
            # libcurl itself (it cannot tell it from a stale keep-alive), so the store's own
            # connection retries are at most the drops.
            check(retried is not None and int(retried.group(1)) == 3 and int(retried.group(2)) == inj.get("503", 0)
                  and int(retried.group(4)) <= inj.get("drop", 0),
                  f"faults: retries printed {retried and retried.groups()} for injected {inj}")
            split = re.search(r"split\s+(\d+) batches in halves", p.stdout)
            check(split is not None and int(split.group(1)) == inj.get("413", 0),
                  f"faults: splits {split and split.group(1)} for {inj.get('413', 0)} 413s")

            # complete mode (/v2/.../calls/complete) through the same faults
            control(server, {"reset": True})
            control(server, {"faults": {"error": {"rate": 0.1}, "drop": {"rate": 0.05},
                                        "rate_limit": {"count": 3, "retry_after": 1},
                                        "max_body_bytes": 256 * 1024}})
            d = tempfile.mkdtemp(dir=tmp)
            p = run_demo(weft, d, server.url, args.ops, extra=("--calls-complete",))
            expect_complete("complete mode + faults", server, p, expected)
            routes = get(server, "/__stats")["by_route"]
            check("/call/upsert_batch" not in routes and "/v2/{entity}/{project}/calls/complete" in routes,
                  f"complete mode + faults: routes {sorted(routes)}")

            # a project that requires complete mode: the store switches by itself
            control(server, {"reset": True})
            control(server, {"calls_mode": "complete-required"})
            d = tempfile.mkdtemp(dir=tmp)
            p = run_demo(weft, d, server.url, args.ops)
            expect_complete("complete mode required", server, p, expected)
            inj = get(server, "/__stats")["injected"]
            check(inj.get("complete_mode_required", 0) > 0 and "switched 1 times" in p.stdout,
                  f"complete mode required: injected {inj}\n{p.stdout}")
            control(server, {"calls_mode": "any"})

            # down for 5 s while the demo runs
            control(server, {"reset": True})
            control(server, {"down_for": 5})
            d = tempfile.mkdtemp(dir=tmp)
            t0 = time.monotonic()
            p = run_demo(weft, d, server.url, args.ops)
            expect_complete("down 5 s", server, p, expected)
            check(time.monotonic() - t0 >= 4.0, "down 5 s: the demo finished before the server came back")

            # bad key, then replay with the right one
            control(server, {"reset": True})
            d = tempfile.mkdtemp(dir=tmp)
            p = run_demo(weft, d, server.url, args.ops, key="wrong-key")
            check(p.returncode == 1, f"bad key: exit {p.returncode}\n{p.stdout}\n{p.stderr}")
            check("refused the API key" in p.stderr and server.url in p.stderr,
                  f"bad key: no clear error naming the server in\n{p.stderr}")
            check("wrong-key" not in p.stdout + p.stderr, "bad key: the key appears in the output")
            check(get(server, "/__audit")["counts"]["calls"] == 0, "bad key: the server stored calls")
            kept = outbox_depth(os.path.join(d, "weft-outbox.db"))
            s = summary(p.stdout) or {}
            check(kept > 0, "bad key: nothing kept in the outbox")
            env = dict(os.environ, WANDB_API_KEY=KEY, HOME=d)
            r = subprocess.run([weft, "replay", "--outbox", "weft-outbox.db", "--remote", server.url, "--timeout", "60"],
                               cwd=d, env=env, capture_output=True, text=True, timeout=300)
            check(r.returncode == 0, f"bad key replay: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
            check(f"{kept} delivered" in r.stdout, f"bad key replay: expected {kept} delivered in\n{r.stdout}")
            audit = get(server, "/__audit")
            check(audit["violations"] == [] and audit["counts"]["calls"] == expected["calls"],
                  f"bad key replay: audit {audit['counts']} {audit['violations'][:3]}")
            check(outbox_depth(os.path.join(d, "weft-outbox.db")) == 0, "bad key replay: outbox not empty")

            # kill -9 during an outage, then replay
            control(server, {"reset": True})
            control(server, {"faults": {"error": {"rate": 1.0}}})
            d = tempfile.mkdtemp(dir=tmp)
            env = dict(os.environ, WANDB_API_KEY=KEY, HOME=d)
            demo = subprocess.Popen([weft, "demo", "--remote", server.url, "--project", PROJECT, "--ops", str(args.ops)],
                                    cwd=d, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            # Wait (with a deadline) until the calls' batches are being refused: they are in the outbox.
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                st = get(server, "/__stats")["by_route"].get("/call/upsert_batch", {})
                if sum(st.values()) >= 3:
                    break
                time.sleep(0.05)
            demo.send_signal(signal.SIGKILL)
            demo.wait(timeout=60)
            in_outbox = outbox_depth(os.path.join(d, "weft-outbox.db"))
            check(in_outbox > 0, "kill -9: nothing in the outbox")
            control(server, {"reset_faults": True})
            r = subprocess.run([weft, "replay", "--outbox", "weft-outbox.db", "--remote", server.url, "--timeout", "60"],
                               cwd=d, env=env, capture_output=True, text=True, timeout=300)
            check(r.returncode == 0 and f"{in_outbox} delivered" in r.stdout,
                  f"kill -9 replay: {in_outbox} in the outbox; exit {r.returncode}\n{r.stdout}\n{r.stderr}")
            audit = get(server, "/__audit")
            check(audit.get("refused", []) == [], f"kill -9 replay: refused {audit.get('refused', [])[:3]}")
            check(outbox_depth(os.path.join(d, "weft-outbox.db")) == 0, "kill -9 replay: outbox not empty")
        finally:
            server.stop()
    if FAILURES:
        print(f"0 passed, {len(FAILURES)} failed")
        sys.exit(1)
    print("remote demo: clean, faults, complete mode + faults, complete mode required, down 5 s, bad key + replay, kill -9 + replay: all delivered")


if __name__ == "__main__":
    main()
