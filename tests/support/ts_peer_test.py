#!/usr/bin/env python3
"""The official Weave TypeScript SDK against the fake trace server.

    python3 tests/support/ts_peer_test.py [--work-dir DIR] [--npm-cache DIR] [-v]

Proves that the fake server accepts everything the real client sends in a normal run (no
refusals, nothing dropped, a clean audit, the expected numbers of calls, ops, objects,
tables, rows and files), also when the server fails now and then (503s, a 429, a connection
dropped after the work was done: the client's retries must leave the same clean state).

The SDK (npm package `weave`, pinned in ts_peer/package.json and package-lock.json) is
installed with `npm ci` into DIR/node_modules (default: build/ts_peer in the source tree's
root, or $WEFT_TS_PEER_WORK_DIR), never into the source tree; it is installed again only
when the lock file changed. Node.js and npm are required (scripts/setup installs them): the
test fails, it does not skip, when they are missing.

The peer talks only to 127.0.0.1: the base URLs point there, HOME is a scratch directory
(no netrc or wandb settings of the machine), and peer.mjs refuses any other connection.
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PEER_SRC = os.path.join(HERE, "ts_peer")
sys.path.insert(0, HERE)

import fake_weave_server as fws  # noqa: E402

PROJECT = "weft-peer/ts-peer"
KEY = "ts-peer-key-0123456789"
ARGS = None


def tool(name):
    path = shutil.which(name)
    if path is None:
        raise SystemExit(f"ts_peer_test: `{name}` not found. Node.js and npm are required for the "
                         f"TypeScript SDK check; scripts/setup installs them (Debian: nodejs npm).")
    return path


def prepare(work_dir, npm_cache):
    """node_modules for the pinned SDK in work_dir (npm ci when the lock changed)."""
    os.makedirs(work_dir, exist_ok=True)
    with open(os.path.join(PEER_SRC, "package-lock.json"), "rb") as f:
        lock = f.read()
    with open(os.path.join(PEER_SRC, "package.json"), "rb") as f:
        pkg = f.read()
    stamp = hashlib.sha256(pkg + b"\0" + lock).hexdigest()
    stamp_file = os.path.join(work_dir, ".weft-installed")
    installed = os.path.exists(os.path.join(work_dir, "node_modules", "weave", "package.json"))
    current = None
    if os.path.exists(stamp_file):
        with open(stamp_file) as f:
            current = f.read().strip()
    if not installed or current != stamp:
        for name, data in (("package.json", pkg), ("package-lock.json", lock)):
            with open(os.path.join(work_dir, name), "wb") as f:
                f.write(data)
        env = dict(os.environ, npm_config_update_notifier="false", npm_config_fund="false",
                   npm_config_audit="false")
        if npm_cache:
            env["npm_config_cache"] = npm_cache
        t0 = time.monotonic()
        proc = subprocess.run([tool("npm"), "ci", "--no-audit", "--no-fund", "--prefer-offline"],
                              cwd=work_dir, env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise SystemExit(f"ts_peer_test: npm ci failed in {work_dir}:\n{proc.stdout}\n{proc.stderr}")
        with open(stamp_file, "w") as f:
            f.write(stamp + "\n")
        print(f"ts_peer_test: installed the SDK in {work_dir} ({time.monotonic() - t0:.1f} s)", file=sys.stderr)
    shutil.copyfile(os.path.join(PEER_SRC, "peer.mjs"), os.path.join(work_dir, "peer.mjs"))


class TsPeerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.node = tool("node")
        tool("npm")
        cls.work_dir = os.path.abspath(ARGS.work_dir)
        prepare(cls.work_dir, ARGS.npm_cache)

    def run_peer(self, faults=None):
        server = fws.FakeWeaveServer(api_key=KEY, project=PROJECT, faults=faults, seed=1, max_seconds=300)
        port = server.start()
        try:
            with tempfile.TemporaryDirectory() as home:
                env = {k: v for k, v in os.environ.items()
                       if not k.lower().endswith("_proxy") and not k.startswith(("WANDB_", "WF_", "WEAVE_"))}
                env.update(HOME=home, WF_TRACE_SERVER_URL=server.url, WANDB_BASE_URL=server.url,
                           WANDB_API_KEY=KEY, WEFT_PEER_PROJECT=PROJECT, NO_PROXY="127.0.0.1,localhost",
                           no_proxy="127.0.0.1,localhost")
                t0 = time.monotonic()
                proc = subprocess.run([self.node, "peer.mjs"], cwd=self.work_dir, env=env,
                                      capture_output=True, text=True, timeout=180)
                elapsed = time.monotonic() - t0
            audit = server.audit()
            stats = server.stats()
            state = server.state()
        finally:
            server.stop()
        self.assertEqual(proc.returncode, 0, f"the peer failed:\n{proc.stdout}\n{proc.stderr}\n"
                                             f"audit: {json.dumps(audit, indent=1)}")
        lines = [l for l in proc.stdout.splitlines() if l.startswith("{")]
        self.assertTrue(lines, proc.stdout)
        report = json.loads(lines[-1])
        if ARGS.verbose:
            print(f"\npeer: {elapsed:.1f} s; stats {json.dumps(stats['by_route'])}; injected "
                  f"{stats['injected']}", file=sys.stderr)
        return report, audit, stats, state

    def check_clean(self, report, audit, stats, state):
        self.assertEqual(audit["violations"], [])
        self.assertEqual(audit["refused"], [], "the fake server refused what the real client sent")
        self.assertEqual(stats["server_errors"], [])
        # The TS client sends nothing the server would drop (display_name on an end only when
        # a call has one; this run has none).
        self.assertEqual(audit["ignored"], [])
        counts = audit["counts"]
        for k, v in report["expected"].items():
            self.assertEqual(counts[k], v, f"{k}: {counts}")
        self.assertEqual(counts["starts_received"] >= counts["calls"], True)
        for ua in stats["user_agents"]:
            self.assertTrue(ua.startswith("W&B Weave JS Client"), ua)
        calls = state["calls"]
        for c in calls:
            self.assertEqual(c["start"]["attributes"]["weave"]["source"], "js-sdk")
            self.assertEqual(c["start"]["project_id"], PROJECT)
        failed = [c for c in calls if c["end"].get("exception")]
        self.assertEqual([c["end"]["exception"] for c in failed], ["boom: on purpose"])
        row_inputs = [c["start"]["inputs"]["arg0"] for c in calls
                      if isinstance(c["start"]["inputs"].get("arg0"), str) and "/attr/rows/id/" in c["start"]["inputs"]["arg0"]]
        self.assertEqual(len(row_inputs), 1)
        self.assertTrue(row_inputs[0].startswith(report["refs"]["dataset"] + "/attr/rows/id/"))
        # read back in the external form
        by_name = {o["object_id"]: o for o in state["objects"]}
        self.assertTrue(by_name["peer-dataset"]["val"]["rows"].startswith(f"weave:///{PROJECT}/table/"))
        self.assertTrue(by_name["peer-model"]["val"]["predict"].startswith(f"weave:///{PROJECT}/op/PeerModel.predict:"))

    def test_clean_run(self):
        report, audit, stats, state = self.run_peer()
        self.check_clean(report, audit, stats, state)
        statuses = {s for per in stats["by_route"].values() for s in per}
        self.assertEqual(statuses, {"200"}, stats["by_route"])
        for route in ("/obj/create", "/table/create", "/file/create", "/call/upsert_batch",
                      "/table/query", "/obj/read"):
            self.assertIn(route, stats["by_route"])
        # ref-free values (ops, the plain config) have the client-side digest; the model (a
        # ref to its op) and the dataset (a ref to its table) get the server's.
        config = next(o for o in state["objects"] if o["object_id"] == "peer-config")
        self.assertEqual(config["digest"], fws.object_digest(config["val"]))
        model = next(o for o in state["objects"] if o["object_id"] == "peer-model")
        self.assertNotEqual(model["digest"], fws.object_digest(model["val"]))

    def test_run_with_faults(self):
        faults = {"error": {"count": 2, "status": 503, "routes": ["/call/upsert_batch"]},
                  "rate_limit": {"count": 1, "retry_after": 1, "routes": ["/obj/create"]},
                  "drop": {"count": 1, "routes": ["/table/create"]}}
        report, audit, stats, state = self.run_peer(faults)
        self.check_clean(report, audit, stats, state)
        self.assertEqual(stats["injected"], {"503": 2, "429": 1, "drop": 1})
        self.assertEqual(stats["by_route"]["/call/upsert_batch"].get("503i"), 2)
        self.assertEqual(stats["by_route"]["/table/create"], {"200": 2})  # dropped, then repeated


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--work-dir", default=os.environ.get("WEFT_TS_PEER_WORK_DIR",
                                                         os.path.join(ROOT, "build", "ts_peer")))
    ap.add_argument("--npm-cache", default=os.environ.get("WEFT_NPM_CACHE"),
                    help="npm's cache directory (default: npm's own, ~/.npm)")
    ap.add_argument("-v", "--verbose", action="store_true")
    ARGS, rest = ap.parse_known_args()
    unittest.main(argv=[sys.argv[0]] + rest + (["-v"] if ARGS.verbose else []))


if __name__ == "__main__":
    main()
