#!/usr/bin/env python3
"""The main job's output, read by Python: `weft demo` writes a Weave-schema SQLite file that
Python's sqlite3 module reads with the expected rows, and every object's stored digest is
what Python computes from its stored value (json + hashlib as the independent oracle)."""
import argparse
import base64
import hashlib
import json
import os
import sqlite3
import subprocess
import sys
import tempfile


def digest(text: str) -> str:
    raw = hashlib.sha256(text.encode()).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=").replace("-", "X").replace("_", "Y")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--ops", type=int, default=25)
    args = ap.parse_args()
    n = args.ops
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)

    with tempfile.TemporaryDirectory() as tmp:
        store = os.path.join(tmp, "demo.db")
        run = subprocess.run([args.weft, "demo", "--store", store, "--ops", str(n), "--threads", "2"],
                             capture_output=True, text=True, timeout=600)
        check(run.returncode == 0, f"weft demo exited {run.returncode}: {run.stderr.strip()}")
        check("calling thread per call" in run.stdout, "the summary has no calling-thread cost line")
        db = sqlite3.connect(store)
        count = lambda table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        expected = {"calls": 3 * n + 2, "objects": 8 + 4 * n, "tables": 1, "table_rows": n, "files": 5 + n}
        for table, want in expected.items():
            got = count(table)
            check(got == want, f"{table}: {got} rows, expected {want}")
        unfinished = db.execute("SELECT count(*) FROM calls WHERE ended_at IS NULL").fetchone()[0]
        check(unfinished == 0, f"{unfinished} calls without ended_at")
        for (cid, inputs, output, summary, attributes) in db.execute(
                "SELECT id, inputs, output, summary, attributes FROM calls"):
            for name, col in (("inputs", inputs), ("output", output), ("summary", summary), ("attributes", attributes)):
                try:
                    json.loads(col)
                except Exception as e:  # noqa: BLE001 - report every malformed column
                    failures.append(f"call {cid}: {name} is not JSON: {e}")
        for (name, val, dig) in db.execute("SELECT object_id, val_dump, digest FROM objects"):
            canon = json.dumps(json.loads(val), sort_keys=True)
            check(canon == val, f"object {name}: val_dump is not canonical JSON")
            check(digest(canon) == dig, f"object {name}: digest {dig} != Python's {digest(canon)}")
        for (dig, val) in db.execute("SELECT digest, val FROM files"):
            check(digest_bytes(val) == dig, f"file {dig}: digest differs from Python's")
        root = db.execute("SELECT summary FROM calls WHERE parent_id IS NULL").fetchall()
        check(len(root) == 1, f"{len(root)} root calls, expected 1")
        if root:
            usage = json.loads(root[0][0]).get("usage", {}).get("gpt-4o-mini", {})
            check(usage.get("requests") == n, f"root usage requests {usage.get('requests')} != {n}")

    for f in failures:
        print("FAIL:", f)
    print(f"demo_store: {1 if not failures else 0} passed, {1 if failures else 0} failed")
    return 1 if failures else 0


def digest_bytes(data: bytes) -> str:
    raw = hashlib.sha256(data).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=").replace("-", "X").replace("_", "Y")


if __name__ == "__main__":
    sys.exit(main())
