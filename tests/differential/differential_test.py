#!/usr/bin/env python3
"""Differential test: weft's canonical JSON and digests against Python's own.

Python is the oracle (docs/COMPATIBILITY.md#digests): the canonical JSON of a text is
json.dumps(json.loads(text), sort_keys=True), the object digest is the URL-safe base64
of its SHA-256 with '-'->'X', '_'->'Y' and no padding, a table digest is the hex SHA-256
of the concatenated row digests, a file digest is the base digest of the raw bytes.

Random values (seeded) are written as JSON text with randomised escapes, number spellings,
whitespace and duplicate keys, then fed to `weft canon --lines` and `weft digest --lines`
(one process per mode for all values), plus tables, rows, files, pretty-printed values,
one large value, and texts both sides must reject.

    python3 differential_test.py --weft build/weft --count 3000 [--seed N]

On failure it prints the seed, the case, the first differing byte and the command to
reproduce, and exits 1. The last line is always "differential: N passed, M failed".
"""
import argparse
import base64
import hashlib
import json
import math
import os
import random
import shlex
import struct
import subprocess
import sys

MAX_DEPTH = 500  # below Python's recursion limit for json.loads/dumps; weft allows 1000


def base_digest(data: bytes) -> str:
    b64 = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).decode()
    return b64.rstrip("=").replace("-", "X").replace("_", "Y")


def canon(text: str) -> str:
    return json.dumps(json.loads(text), sort_keys=True)


def object_digest_of_canon(c: str) -> str:
    return base_digest(c.encode("utf-8"))


def table_line(rows_canon) -> str:
    rds = [object_digest_of_canon(c) for c in rows_canon]
    return " ".join(rds + [hashlib.sha256("".join(rds).encode()).hexdigest()])


# --- random values -------------------------------------------------------------------

SPECIAL_FLOATS = [
    0.0, -0.0, math.nan, math.inf, -math.inf, 5e-324, -5e-324, 1.5e-323,
    2.2250738585072014e-308, 2.225073858507201e-308, 1.7976931348623157e308,
    1e16, 1e15, 9999999999999998.0, 1.5e16, 123456789012345678.0, 1.2345678901234568e17,
    0.0001, 0.00009999999999999999, 1e-05, 0.1, 0.3, 1 / 3, 2.0 ** 53, 2.0 ** 53 + 2,
    2.0 ** 63, 2.0 ** 64, 1e22, 1e23, 123.456, -1.0, 1.0, 100.0, 1e100, 1e-100,
]
SPECIAL_INTS = [
    0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 53, 2 ** 53 + 1, 2 ** 63 - 1, 2 ** 63, 2 ** 63 + 1,
    -(2 ** 63), -(2 ** 63) - 1, 2 ** 64 - 1, 2 ** 64, 2 ** 64 + 1, -(2 ** 64), 10 ** 19,
    -(10 ** 19), 10 ** 30, 10 ** 200,
]
# Spellings substituted for number leaves: json.loads decides what they mean.
TRICKY_NUMBER_TEXTS = [
    "1e400", "-1e400", "1e-400", "-1e-400", "4.9e-324", "2.4703282292062328e-324",
    "2.4703282292062327e-324", "1E2", "1e+2", "1e-0", "0e0", "-0.0", "0.0e-10", "-0",
    "9007199254740993.0", "0.1000000000000000055511151231257827021181583404541015625",
    "1.7976931348623158e308", "1.7976931348623159e308", "123456789012345678901234567890e-10",
    "1" + "0" * 400 + ".0", "0." + "0" * 400 + "1", "100000000000000000000000000000000000001.5",
    "18446744073709551616", "-9223372036854775809", "9223372036854775807",
    "-9223372036854775808", "1" + "0" * 200, "2.5e-5", "7.0E+20", "1.0e16", "0.00001",
]
# Keys whose code-point order differs from UTF-16 order (U+E000..U+FFFF vs non-BMP).
SPECIAL_KEYS = ["\uffff", "\U00010000", "\ue000", "\U0001f600", "\ud7ff", "\ufb01", "a", "B",
                "", "\u00e9", "_", "~", "A\u0000", "A", "\u007f", "\u2028"]
STRING_SPECIALS = ['"', "\\", "/", "\u2028", "\u2029", "\ufeff", "\ufffe", "\uffff", "\x7f",
                   "\b", "\f", "\n", "\r", "\t", "\x00"]


def rand_char(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.45:
        return chr(rng.randint(0x20, 0x7E))
    if r < 0.55:
        return chr(rng.randint(0x00, 0x1F))
    if r < 0.60:
        return rng.choice(STRING_SPECIALS)
    if r < 0.65:
        return chr(rng.randint(0x7F, 0xFF))
    if r < 0.85:
        cp = rng.randint(0x100, 0xFFFF - 0x800)
        return chr(cp if cp < 0xD800 else cp + 0x800)  # skip the surrogate block
    return chr(rng.randint(0x10000, 0x10FFFF))


def rand_string(rng: random.Random, max_len=20) -> str:
    return "".join(rand_char(rng) for _ in range(rng.randint(0, max_len)))


def rand_float(rng: random.Random) -> float:
    r = rng.random()
    if r < 0.2:
        return rng.choice(SPECIAL_FLOATS)
    if r < 0.4:  # any bit pattern: subnormals, NaN payloads, huge exponents
        return struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
    if r < 0.5:  # subnormal
        return struct.unpack("<d", (rng.getrandbits(52) | (rng.getrandbits(1) << 63))
                             .to_bytes(8, "little"))[0]
    if r < 0.75:  # every decimal magnitude
        return float(f"{rng.random():.{rng.randint(1, 17)}f}e{rng.randint(-330, 310)}")
    if r < 0.85:  # integral
        return float(rng.randint(-(2 ** rng.randint(1, 70)), 2 ** rng.randint(1, 70)))
    return rng.uniform(-1000, 1000)


def rand_int(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.3:
        return rng.choice(SPECIAL_INTS) + rng.choice([0, 0, 0, -1, 1])
    if r < 0.7:
        return rng.randint(-1000, 1000)
    if r < 0.9:
        return rng.randint(-(2 ** 64), 2 ** 64)
    k = rng.randint(19, 300)
    return rng.randint(-(10 ** k), 10 ** k)


def rand_key(rng: random.Random) -> str:
    return rng.choice(SPECIAL_KEYS) if rng.random() < 0.3 else rand_string(rng, 8)


def rand_scalar(rng: random.Random):
    r = rng.random()
    if r < 0.08:
        return None
    if r < 0.16:
        return rng.random() < 0.5
    if r < 0.40:
        return rand_int(rng)
    if r < 0.70:
        return rand_float(rng)
    return rand_string(rng)


def rand_value(rng: random.Random, depth=0):
    # Containers get rarer with depth and only the top level is ever wide, so a value
    # averages a few hundred bytes; deep_value() covers depth.
    if depth >= 6 or rng.random() < 0.3 + 0.12 * depth:
        return rand_scalar(rng)
    wide = depth == 0 and rng.random() < 0.05
    n = rng.randint(20, 300) if wide else rng.choice([0, 0, 1, 2, 3, 5, 8])
    child_depth = 5 if wide else depth + 1
    if rng.random() < 0.5:
        return [rand_value(rng, child_depth) for _ in range(n)]
    return {rand_key(rng): rand_value(rng, child_depth) for _ in range(n)}


def deep_value(rng: random.Random):
    v = rand_scalar(rng)
    for _ in range(rng.randint(50, MAX_DEPTH - 5)):
        r = rng.random()
        v = [v] if r < 0.4 else {rand_key(rng): v} if r < 0.8 else [1, v, {"k": "x"}]
    return v


def make_value(rng: random.Random):
    r = rng.random()
    if r < 0.03:
        return deep_value(rng)
    if r < 0.10:
        return rand_scalar(rng)
    return rand_value(rng)


# --- random JSON text ----------------------------------------------------------------

def ws(rng: random.Random, newlines: bool) -> str:
    if rng.random() < 0.7:
        return ""
    pool = " \t\r\n" if newlines else " \t\r"
    return "".join(rng.choice(pool) for _ in range(rng.randint(1, 3)))


def u_escape(cp: int, rng: random.Random) -> str:
    s = f"\\u{cp:04x}"
    return s.upper().replace("\\U", "\\u") if rng.random() < 0.3 else s


SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "/": "\\/", "\b": "\\b", "\f": "\\f", "\n": "\\n",
                 "\r": "\\r", "\t": "\\t"}


def string_text(s: str, rng: random.Random) -> str:
    out = ['"']
    for ch in s:
        cp = ord(ch)
        escape = rng.random() < 0.2
        if ch in SHORT_ESCAPES and (cp < 0x20 or ch in '"\\' or escape):
            out.append(SHORT_ESCAPES[ch] if rng.random() < 0.7 else u_escape(cp, rng))
        elif cp < 0x20 or (escape and cp <= 0xFFFF):
            out.append(u_escape(cp, rng))
        elif escape:  # non-BMP as a surrogate pair
            v = cp - 0x10000
            out.append(u_escape(0xD800 + (v >> 10), rng) + u_escape(0xDC00 + (v & 0x3FF), rng))
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def float_text(f: float, rng: random.Random) -> str:
    if math.isnan(f):
        return "NaN"
    if math.isinf(f):
        return "Infinity" if f > 0 else "-Infinity"
    r = rng.random()
    if r < 0.5:
        return repr(f)
    if r < 0.7:
        return format(f, ".17e")
    if r < 0.8:
        return format(f, ".16E")
    g = format(f, ".17g")
    return g if ("." in g or "e" in g) else g + ".0"


def value_text(v, rng: random.Random, newlines: bool) -> str:
    """Random but valid JSON text for v (iterative: values can be hundreds deep)."""
    out = []
    stack = [("value", v)]
    while stack:
        op, x = stack.pop()
        if op == "raw":
            out.append(x)
            continue
        if x is None:
            out.append("null")
        elif x is True or x is False:
            out.append("true" if x else "false")
        elif isinstance(x, int):
            out.append(rng.choice(TRICKY_NUMBER_TEXTS) if rng.random() < 0.03 else str(x))
        elif isinstance(x, float):
            out.append(rng.choice(TRICKY_NUMBER_TEXTS) if rng.random() < 0.03
                       else float_text(x, rng))
        elif isinstance(x, str):
            out.append(string_text(x, rng))
        elif isinstance(x, list):
            parts = [("raw", "[" + ws(rng, newlines))]
            for i, item in enumerate(x):
                if i:
                    parts.append(("raw", ws(rng, newlines) + "," + ws(rng, newlines)))
                parts.append(("value", item))
            parts.append(("raw", ws(rng, newlines) + "]"))
            stack.extend(reversed(parts))
        else:
            items = list(x.items())
            if items and rng.random() < 0.1:
                # A duplicate key: json.loads keeps the last value, as weft must.
                k, _ = rng.choice(items)
                items.insert(0, (k, rand_scalar(rng)))
            parts = [("raw", "{" + ws(rng, newlines))]
            for i, (k, item) in enumerate(items):
                if i:
                    parts.append(("raw", ws(rng, newlines) + "," + ws(rng, newlines)))
                parts.append(("raw", string_text(k, rng) + ws(rng, newlines) + ":" +
                              ws(rng, newlines)))
                parts.append(("value", item))
            parts.append(("raw", ws(rng, newlines) + "}"))
            stack.extend(reversed(parts))
    return ws(rng, newlines) + "".join(out) + ws(rng, newlines)


def make_text(v, rng: random.Random, newlines=False) -> str:
    if rng.random() < 0.3:  # what Python itself writes, with its options varied
        seps = rng.choice([None, (",", ":"), (", ", ": "), (" , ", " : ")])
        indent = rng.choice([None, 0, 2, "\t"]) if newlines else None
        return json.dumps(v, ensure_ascii=rng.random() < 0.5, separators=seps, indent=indent,
                          sort_keys=rng.random() < 0.5)
    return value_text(v, rng, newlines)


# Texts both Python and weft must reject.
INVALID_TEXTS = [b"", b" ", b"[1,]", b"{\"a\":1,}", b"01", b"1.", b".5", b"+1", b"'a'", b"[1 2]",
                 b"{1:2}", b"tru", b"nan", b"inf", b"\"abc", b"\"\\x\"", b"\"a\tb\"",
                 b"\"\\u12\"", b"[", b"{\"a\"}", b"1 2", b"\"\xff\"", b"\"\xc3\"", b"--1",
                 b"1e", b"-", b"[1]]"]
# (Not here: b'"\xed\xa0\x80"', an encoded lone surrogate. json.loads(bytes) decodes with
# "surrogatepass" and accepts it; weft rejects it as invalid UTF-8. Weave's values are
# Python str, which it never encodes that way, so this difference cannot reach a digest.)


# --- running weft --------------------------------------------------------------------

class Checker:
    def __init__(self, args):
        self.args = args
        self.passed = 0
        self.failed = 0
        self.reported = 0

    def repro(self) -> str:
        a = self.args
        return (f"python3 {shlex.quote(os.path.abspath(__file__))} --weft "
                f"{shlex.quote(a.weft)} --count {a.count} --seed {a.seed}")

    def fail(self, what: str, detail: str):
        self.failed += 1
        if self.reported < 5:
            self.reported += 1
            print(f"FAIL [seed {self.args.seed}] {what}\n{detail}\n  reproduce: {self.repro()}",
                  file=sys.stderr)

    def run(self, argv, data: bytes):
        try:
            p = subprocess.run([self.args.weft] + argv, input=data, capture_output=True,
                               timeout=300)
        except subprocess.TimeoutExpired:
            return "timeout", b"", b"no answer within 300 s"
        return p.returncode, p.stdout, p.stderr

    def compare_lines(self, mode, argv, inputs, expected):
        """inputs: list of str/bytes lines; expected: list of str, one per input."""
        data = b"".join((x if isinstance(x, bytes) else x.encode()) + b"\n" for x in inputs)
        rc, out, err = self.run(argv, data)
        if rc != 0:
            self.fail(f"{mode}: weft {' '.join(argv)} exited {rc}",
                      f"  stderr: {err.decode(errors='replace').strip()}")
            self.failed += len(inputs) - 1
            return
        got = out.decode("utf-8", errors="replace").split("\n")
        if got and got[-1] == "":
            got.pop()
        if len(got) != len(expected):
            self.fail(f"{mode}: {len(got)} output lines for {len(expected)} inputs", "")
        for i, (g, e) in enumerate(zip(got, expected)):
            if g == e:
                self.passed += 1
            else:
                self.report_diff(f"{mode}: case {i}", inputs[i], g, e)

    def report_diff(self, what, inp, got: str, want: str):
        off = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]),
                   min(len(got), len(want)))
        lo = max(0, off - 40)
        shown = inp if isinstance(inp, str) else inp.decode("utf-8", errors="replace")
        self.fail(f"{what} differs at offset {off}",
                  f"  input : {shown[:300]!r}{'...' if len(shown) > 300 else ''}\n"
                  f"  weft  : ...{got[lo:off + 40]!r}\n  python: ...{want[lo:off + 40]!r}")

    def check_single(self, mode, argv, data: bytes, want: str):
        rc, out, err = self.run(argv, data)
        got = out.decode("utf-8", errors="replace")
        if rc != 0:
            self.fail(f"{mode}: weft {' '.join(argv)} exited {rc}",
                      f"  stderr: {err.decode(errors='replace').strip()}")
        elif got != want:
            self.report_diff(mode, data[:300], got, want)
        else:
            self.passed += 1

    def check_rejected(self, data: bytes):
        rc, out, err = self.run(["canon"], data)
        lines = err.decode(errors="replace").split("\n")
        if rc == 2 and len(lines) == 2 and lines[1] == "" and lines[0].startswith("weft canon: "):
            self.passed += 1
        else:
            self.fail(f"invalid text {data!r} not rejected cleanly",
                      f"  exit {rc}, stdout {out[:100]!r}, stderr {err[:300]!r}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--weft", required=True, help="path to the weft binary")
    ap.add_argument("--count", type=int, default=3000, help="number of random values")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random)")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(2 ** 32)
    if not (os.path.isfile(args.weft) and os.access(args.weft, os.X_OK)):
        print(f"differential: {args.weft} is not an executable file", file=sys.stderr)
        print("differential: 0 passed, 1 failed")
        return 1
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 4 * MAX_DEPTH))
    rng = random.Random(args.seed)
    c = Checker(args)

    # 1. Values: canon and object digest, one process each, one value per line.
    texts, canons = [], []
    for _ in range(args.count):
        t = make_text(make_value(rng), rng)
        texts.append(t)
        canons.append(canon(t))
    c.compare_lines("canon --lines", ["canon", "--lines"], texts, canons)
    c.compare_lines("digest --lines", ["digest", "--lines"], texts,
                    [object_digest_of_canon(x) for x in canons])

    # 2. Rows (the dict-valued values) and tables of rows.
    rows = [(t, x) for t, x in zip(texts, canons) if x.startswith("{")]
    c.compare_lines("digest --kind row --lines", ["digest", "--kind", "row", "--lines"],
                    [t for t, _ in rows], [object_digest_of_canon(x) for _, x in rows])
    table_texts, table_want = [], []
    for _ in range(max(1, args.count // 10)):
        table = [{rand_key(rng): rand_value(rng, 4) for _ in range(rng.randint(0, 4))}
                 for _ in range(rng.choice([0, 1, 2, 5, 20]))]
        t = make_text(table, rng)
        table_texts.append(t)
        table_want.append(table_line([json.dumps(r, sort_keys=True) for r in json.loads(t)]))
    c.compare_lines("digest --kind table --lines", ["digest", "--kind", "table", "--lines"],
                    table_texts, table_want)

    # 3. Files: raw bytes, one process per file, and many small ones per line.
    blobs = [b"", b"\x00", b"\n", bytes(range(256)) * 4,
             rng.randbytes(rng.randint(1, 5000)), rng.randbytes(1 << 20)]
    for i, b in enumerate(blobs):
        c.check_single(f"file {i} ({len(b)} bytes)", ["digest", "--kind", "file"], b,
                       base_digest(b) + "\n")
    lines = [rng.randbytes(rng.randint(0, 200)).replace(b"\n", b"") for _ in range(200)]
    c.compare_lines("digest --kind file --lines", ["digest", "--kind", "file", "--lines"],
                    lines, [base_digest(b) for b in lines])

    # 4. Whole-input mode: pretty-printed texts (newlines as whitespace) and one big value.
    for i in range(10):
        t = make_text(make_value(rng), rng, newlines=True)
        c.check_single(f"canon pretty {i}", ["canon"], t.encode(), canon(t) + "\n")
    big = [{"id": i, "text": rand_string(rng, 200), "score": rand_float(rng),
            "tags": [rand_key(rng) for _ in range(5)]} for i in range(3000)]
    big_text = make_text(big, rng, newlines=True)
    big_canon = canon(big_text)
    c.check_single("canon big", ["canon"], big_text.encode(), big_canon + "\n")
    c.check_single("digest big", ["digest"], big_text.encode(),
                   object_digest_of_canon(big_canon) + "\n")

    # 5. Texts both sides reject.
    for data in INVALID_TEXTS:
        try:
            json.loads(data)
            raise SystemExit(f"differential: Python accepts {data!r}; fix INVALID_TEXTS")
        except ValueError:
            pass
        c.check_rejected(data)

    if c.failed:
        print(f"seed {args.seed}; reproduce: {c.repro()}", file=sys.stderr)
    print(f"differential: {c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
