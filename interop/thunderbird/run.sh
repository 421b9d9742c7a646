#!/usr/bin/env bash
# interop/thunderbird/run.sh — the real Thunderbird, headless, against calbolt.
#
# Builds bin/calbolt (unless CALBOLT_BIN names a binary), then runs
# tb_interop.py, which starts its own server, user and Thunderbird profile in
# a fresh temporary directory and talks to loopback only. See README.md.
#
# Needs Debian's thunderbird, python3 and curl. Prints one line per check,
# "RESULT thunderbird passed=N failed=N" (the form interop/run.sh adds up) and
# last "thunderbird: N passed, N failed"; exits non-zero if any check failed.
#
# Environment: CALBOLT_BIN=path skips the build; PYTHON (default
# /usr/bin/python3); THUNDERBIRD_BIN (default
# /usr/lib/thunderbird/thunderbird-bin); TB_TIMEOUT (default 240 s, the limit
# for the whole run); KEEP=1 keeps the temporary directory; TB_VERBOSE=1 also
# prints the logs when everything passed.
set -euo pipefail

cd "$(dirname "$0")/../.."
root=$PWD

# Debian's interpreter, as interop/run.sh uses (only the standard library is
# needed, sqlite3 included).
PYTHON=${PYTHON:-/usr/bin/python3}
missing=()
command -v "$PYTHON" >/dev/null || missing+=(python3)
command -v curl >/dev/null || missing+=(curl)
[ -x "${THUNDERBIRD_BIN:-/usr/lib/thunderbird/thunderbird-bin}" ] || missing+=(thunderbird)
if [ ${#missing[@]} -gt 0 ]; then
	echo "interop/thunderbird: missing ${missing[*]}: apt-get install -y ${missing[*]}"
	echo "RESULT thunderbird passed=0 failed=1"
	echo "thunderbird: 0 passed, 1 failed"
	exit 1
fi

if [ -z "${CALBOLT_BIN:-}" ]; then
	echo "go build -o bin/calbolt ./cmd/calbolt"
	go build -o bin/calbolt ./cmd/calbolt
	CALBOLT_BIN=$root/bin/calbolt
fi
export CALBOLT_BIN

# Loopback only, never through an outside proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost
export PYTHONDONTWRITEBYTECODE=1

# The script bounds every wait and the whole run (TB_TIMEOUT); this is the
# backstop should Python itself hang.
limit=$((${TB_TIMEOUT:-240} + 60))
exec timeout --foreground -k 10 "$limit" "$PYTHON" -u interop/thunderbird/tb_interop.py
