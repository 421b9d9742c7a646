#!/usr/bin/python3
"""Runs litmus (WebDAV conformance, Debian's litmus 0.13) suites basic and
props against alice's calendar home and judges each test against
interop/litmus-expected-failures.txt.

litmus assumes a plain WebDAV server: it makes plain collections with MKCOL
and stores arbitrary files with PUT. A CalDAV calendar home holds only
calendars and a calendar holds only iCalendar objects (RFC 4791 §4.1, §5.2),
so some litmus tests fail by design; each such test is listed with its reason.
Only an unexpected failure fails this suite; a listed test that now passes is
reported so the list can shrink.

Usage: litmus_check.py [--from-file OUTPUT]   (re-judge a saved litmus output)
Environment: CALBOLT_URL (server root), LITMUS_TESTS (default "basic props").
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urljoin

from checks import BASE_URL

HERE = Path(__file__).resolve().parent
EXPECTED = HERE / "litmus-expected-failures.txt"
TESTS = os.environ.get("LITMUS_TESTS", "basic props")
URL = urljoin(BASE_URL, "/dav/calendars/alice/")

RESULT_RE = re.compile(r"^\s*(\d+)\.\s+(\w+?)\.*\s+(pass|FAIL|SKIPPED|WARNING:)\s*(.*)$")
# after a warning litmus prints the result on a line of its own: "    ...... pass (with 1 warning)"
CONT_RE = re.compile(r"^\s+\.+\s+(pass|FAIL|SKIPPED|WARNING:)\s*(.*)$")
SUITE_RE = re.compile(r"^-> running `(\w+)':")


def load_expected():
    """Returns {test id: reason} from the list; a test id is suite/NN.name, as litmus numbers them."""
    out = {}
    for n, line in enumerate(EXPECTED.read_text().splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        tid, _, reason = line.partition(" ")
        if not re.fullmatch(r"\w+/\d+\.\w+", tid) or not reason.strip():
            sys.exit(f"{EXPECTED.name}:{n}: want 'suite/NN.name reason', got {line!r}")
        out[tid] = reason.strip()
    return out


def parse(text):
    """Returns [(test id, result, detail)] for every test in litmus output and
    {test id: [warning]}; result is pass, FAIL or SKIPPED."""
    suite, current = "?", None
    results, warnings = [], {}

    def note(result, detail):
        if result == "WARNING:":
            warnings.setdefault(current, []).append(detail)
        else:
            results.append((current, result, detail))

    for raw in text.split("\n"):
        # litmus rewrites the line with \r before it prints the result
        line = raw.split("\r")[-1]
        m = SUITE_RE.match(line)
        if m:
            suite = m.group(1)
            continue
        m = RESULT_RE.match(line)
        if m:
            num, name, result, detail = m.groups()
            current = f"{suite}/{int(num):02d}.{name}"
            note(result, detail.strip())
            continue
        m = CONT_RE.match(line)
        if m and current:
            note(m.group(1), m.group(2).strip())
    return results, warnings


def main():
    expected = load_expected()
    if len(sys.argv) == 3 and sys.argv[1] == "--from-file":
        text = Path(sys.argv[2]).read_bytes().decode(errors="replace")
    else:
        env = dict(os.environ, TESTS=TESTS)
        cmd = ["litmus", "-k", URL, "alice", "alicesecret"]
        print(f"TESTS='{TESTS}' {' '.join(cmd[:3])} alice ***", flush=True)
        # bytes, not text=True: universal newlines would turn litmus's \r into line breaks
        # litmus writes debug.log and child.log into its working directory.
        with tempfile.TemporaryDirectory(prefix="litmus-") as cwd:
            p = subprocess.run(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        text = p.stdout.decode(errors="replace")
    # Show litmus's own report, minus the progress half of each line.
    print("\n".join(line.split("\r")[-1] for line in text.split("\n")))
    print()

    passed = failed = skipped = 0
    unexpected_fail, unexpected_pass, seen = [], [], set()
    results, warnings = parse(text)
    for tid, result, detail in results:
        seen.add(tid)
        if result == "pass":
            passed += 1
            if tid in expected:
                unexpected_pass.append(tid)
        elif result == "SKIPPED":
            skipped += 1
        elif tid in expected:
            passed += 1  # an expected failure is a passed check
            print(f"expected failure  {tid}: {expected[tid]}")
        else:
            failed += 1
            unexpected_fail.append(f"{tid}: {detail}")
    if not seen:
        print("litmus printed no test results")
        failed += 1
    for tid, ws in warnings.items():
        for w in ws:
            print(f"litmus warning    {tid}: {w}")
    for tid in unexpected_pass:
        print(f"UNEXPECTED PASS   {tid}: now passes; remove it from {EXPECTED.name}")
    for tid in sorted(set(expected) - seen):
        print(f"note              {tid}: listed as an expected failure but litmus did not report it")
    for f in unexpected_fail:
        print(f"UNEXPECTED FAIL   {f}")
    print(f"litmus: {passed} passed or failed as expected, {len(unexpected_fail)} unexpected failures, {skipped} skipped")
    print(f"RESULT litmus passed={passed} failed={failed}", flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
