#!/usr/bin/env python3
"""Runs the examples and reads what they stored with Python's sqlite3 (an independent reader).

quickstart: two calls, retrieve a child of answer in the same trace, inputs keyed by the
parameter names. evaluation: the model struct saved as an Object of class Model, and
predict's inputs holding its weave:/// ref; the dataset a table of three rows. Also checks
that the README's embedding section is examples/quickstart.cc, verbatim.
"""
import argparse
import json
import os
import re
import sqlite3
import subprocess
import sys
import tempfile


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def run(binary, db):
    out = subprocess.run([binary, db], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        fail(f"{binary} exited {out.returncode}: {out.stdout}{out.stderr}")
    return out.stdout


def calls(db):
    con = sqlite3.connect(db)
    con.row_factory = sqlite3.Row
    return {r["id"]: r for r in con.execute("select * from calls")}, con


def check_readme(source_dir):
    readme = open(os.path.join(source_dir, "README.md"), encoding="utf-8").read()
    quickstart = open(os.path.join(source_dir, "examples/quickstart.cc"), encoding="utf-8").read()
    blocks = re.findall(r"```cpp\n(.*?)```", readme, re.S)
    if quickstart.rstrip() + "\n" not in blocks:
        fail("README.md's embedding section is not examples/quickstart.cc (copy it over)")


def check_quickstart(binary, db):
    run(binary, db)
    rows, _ = calls(db)
    if len(rows) != 2:
        fail(f"quickstart: {len(rows)} calls, expected 2")
    by_op = {r["op_name"].split("/")[-1].split(":")[0]: r for r in rows.values()}
    answer, retrieve = by_op.get("answer"), by_op.get("retrieve")
    if answer is None or retrieve is None:
        fail(f"quickstart: ops {sorted(by_op)}, expected answer and retrieve")
    if answer["parent_id"] is not None or retrieve["parent_id"] != answer["id"]:
        fail("quickstart: retrieve is not a child of answer")
    if retrieve["trace_id"] != answer["trace_id"]:
        fail("quickstart: the two calls are in different traces")
    if json.loads(answer["inputs"]) != {"question": "what does weft do?", "max_words": 3}:
        fail(f"quickstart: answer's inputs are {answer['inputs']}")
    if answer["exception"] is not None or answer["ended_at"] is None:
        fail("quickstart: answer did not end cleanly")


def check_evaluation(binary, db):
    run(binary, db)
    rows, con = calls(db)
    ops = sorted(r["op_name"].split("/")[-1].split(":")[0] for r in rows.values())
    if ops != ["evaluate"] + ["predict"] * 3 + ["score"] * 3:
        fail(f"evaluation: ops {ops}")
    models = con.execute(
        "select object_id, digest, val_dump from objects where leaf_object_class = 'Model'"
    ).fetchall()
    if len(models) != 1:
        fail(f"evaluation: {len(models)} Model objects, expected 1")
    name, digest, val = models[0]
    if json.loads(val)["temperature"] != 0.0:
        fail(f"evaluation: the Model object holds {val}")
    ref = f"weave:///acme/evaluation/object/{name}:{digest}"
    predicts = [r for r in rows.values() if "/op/predict:" in r["op_name"]]
    for p in predicts:
        if json.loads(p["inputs"])["model"] != ref:
            fail(f"evaluation: predict's model input is not {ref}: {p['inputs']}")
    n_rows = con.execute("select count(*) from table_rows").fetchone()[0]
    if n_rows != 3:
        fail(f"evaluation: {n_rows} table rows, expected 3")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--examples", required=True, help="directory holding the built examples")
    ap.add_argument("--source", required=True, help="weft's source directory")
    args = ap.parse_args()
    check_readme(args.source)
    with tempfile.TemporaryDirectory() as tmp:
        check_quickstart(os.path.join(args.examples, "quickstart"), os.path.join(tmp, "q.db"))
        check_evaluation(os.path.join(args.examples, "evaluation"), os.path.join(tmp, "e.db"))
        run(os.path.join(args.examples, "metrics"), os.path.join(tmp, "m.db"))
    print("examples: ok")


if __name__ == "__main__":
    main()
