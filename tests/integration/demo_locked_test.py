#!/usr/bin/env python3
"""`weft demo` while another process holds the store locked for 8 s (longer than SQLite's
5 s busy timeout): the demo either lands every row (exit 0) or exits non-zero saying what
was not written; it must never exit 0 with rows missing. Python's sqlite3 holds the lock
and then reads the rows back."""
import argparse
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weft", required=True)
    ap.add_argument("--hold-seconds", type=float, default=8.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "locked.db")
        subprocess.run([args.weft, "demo", "--store", db, "--ops", "2"], check=True, capture_output=True)
        before = sqlite3.connect(db).execute("select count(*) from calls").fetchone()[0]
        holder = sqlite3.connect(db, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")
        demo = subprocess.Popen([args.weft, "demo", "--store", db, "--ops", "100"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        time.sleep(args.hold_seconds)  # the fault's duration, not a synchronisation
        holder.execute("COMMIT")
        holder.close()
        out, err = demo.communicate(timeout=600)
        con = sqlite3.connect(db)
        total = con.execute("select count(*) from calls").fetchone()[0]
        open_calls = con.execute("select count(*) from calls where ended_at is null").fetchone()[0]
        m = re.search(r"calls\s+(\d+) started, (\d+) ended", out)
        if demo.returncode == 0:
            if m is None or int(m.group(1)) != int(m.group(2)):
                sys.exit(f"FAIL: demo exited 0 without a complete summary:\n{out}\n{err}")
            if total != before + int(m.group(1)) or open_calls != 0:
                sys.exit(f"FAIL: demo exited 0 but the store holds {total} calls ({open_calls} open), "
                         f"expected {before} + {m.group(1)}")
            print(f"demo_locked: every row landed ({m.group(1)} calls) after an {args.hold_seconds:.0f} s lock")
        else:
            lines = [l for l in err.splitlines() if l.startswith("weft demo:")]
            if not lines:
                sys.exit(f"FAIL: demo exited {demo.returncode} without saying what was not written:\n{err}")
            print(f"demo_locked: exited {demo.returncode}: {lines[-1]}")


if __name__ == "__main__":
    main()
