"""Tiny check runner shared by the interop suites.

Each check is a function; an AssertionError or any other exception fails it
and the suite goes on. finish() prints "RESULT <suite> passed=N failed=N",
which interop/run.sh adds up, and exits non-zero on any failure.
"""

import os
import sys
import traceback

BASE_URL = os.environ.get("CALBOLT_URL", "http://127.0.0.1:8008/")
if not BASE_URL.endswith("/"):
    BASE_URL += "/"


class Suite:
    def __init__(self, name):
        self.name = name
        self.passed = 0
        self.failed = []

    def check(self, title, fn, *args, **kwargs):
        """Runs fn(*args, **kwargs) as one check and returns its result (None on failure)."""
        try:
            result = fn(*args, **kwargs)
        except AssertionError as e:
            self.failed.append(title)
            print(f"FAIL  {title}: {e}", flush=True)
            return None
        except Exception as e:  # an exception from the client is a failed check too
            self.failed.append(title)
            print(f"FAIL  {title}: {type(e).__name__}: {e}", flush=True)
            if os.environ.get("INTEROP_TRACEBACK"):
                traceback.print_exc()
            return None
        self.passed += 1
        print(f"ok    {title}", flush=True)
        return result

    def finish(self):
        if self.failed:
            print(f"{self.name}: failed checks:")
            for t in self.failed:
                print(f"  - {t}")
        print(f"RESULT {self.name} passed={self.passed} failed={len(self.failed)}", flush=True)
        sys.exit(1 if self.failed else 0)


def require(value, what):
    """Fails the current check when an earlier check did not produce what it needs."""
    assert value is not None, f"skipped: {what} is missing (an earlier check failed)"
    return value
