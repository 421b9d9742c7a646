#!/usr/bin/env bash
# interop/run.sh [pycaldav|vdirsyncer|litmus|thunderbird ...]
#
# Builds bin/calbolt, starts it on a free loopback port with a throw-away data
# directory and users alice, bob and carol (passwords alicesecret, bobsecret,
# carolsecret), and drives it with third-party clients from Debian's packages
# (`make interop-deps` installs the first three):
#   pycaldav    interop/caldav_client.py   python3-caldav: discovery, MKCALENDAR,
#               save/search/modify/delete, sync tokens, isolation, free-busy
#               (REPORT and scheduling outbox) (alice, bob)
#   vdirsyncer  interop/vdirsyncer_test.py  two-way sync with a local folder (carol)
#   litmus      interop/litmus_check.py    litmus basic+props against alice's
#               calendar home, judged against interop/litmus-expected-failures.txt
#   thunderbird interop/thunderbird/run.sh  headless Thunderbird: sync, writes
#               and its free-busy service (it needs the thunderbird package;
#               see interop/thunderbird/README.md)
# With no argument all four run. The last line is
# "interop: N passed, N failed"; the exit status is non-zero if any check failed.
#
# Environment: CALBOLT_BIN=path skips the build; PYTHON (default
# /usr/bin/python3, the interpreter Debian's python3-caldav is installed for);
# KEEP=1 keeps the temporary directory.
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
all_suites=(pycaldav vdirsyncer litmus thunderbird)
suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=("${all_suites[@]}")
for s in "${suites[@]}"; do
	case $s in
	pycaldav | vdirsyncer | litmus | thunderbird) ;;
	*)
		echo "usage: interop/run.sh [pycaldav|vdirsyncer|litmus|thunderbird ...]" >&2
		exit 2
		;;
	esac
done

PYTHON=${PYTHON:-/usr/bin/python3}
export PYTHONDONTWRITEBYTECODE=1
# Everything here talks to loopback only: never through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
export no_proxy=127.0.0.1,localhost NO_PROXY=127.0.0.1,localhost

started=$SECONDS
work=$(mktemp -d "${TMPDIR:-/tmp}/calbolt-interop.XXXXXX")
server_pid=""
log_dumped=0

dump_log() {
	[ "$log_dumped" = 0 ] || return 0
	log_dumped=1
	if [ -s "$work/server.log" ]; then
		echo "----- server log: warnings and errors -----"
		grep -E 'level=(WARN|ERROR)' "$work/server.log" | tail -n 50 || true
		echo "----- server log ($work/server.log, last 200 lines) -----"
		tail -n 200 "$work/server.log"
		echo "----- end of server log -----"
	fi
}

cleanup() {
	local rc=$?
	if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
	fi
	[ "$rc" = 0 ] || dump_log
	if [ "${KEEP:-}" = 1 ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ -n "${CALBOLT_BIN:-}" ]; then
	bin=$CALBOLT_BIN
else
	echo "go build -o bin/calbolt ./cmd/calbolt"
	go build -o bin/calbolt ./cmd/calbolt
	bin=$root/bin/calbolt
fi

data=$work/data
mkdir -p "$data"
# Passwords come on stdin, never from a flag. Users exist before the server
# starts, so it creates no first-run user.
printf 'alicesecret\n' | "$bin" user add alice --data "$data"
printf 'bobsecret\n' | "$bin" user add bob --data "$data"
printf 'carolsecret\n' | "$bin" user add carol --data "$data"

port=$("$PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port/
echo "starting $bin serve --addr 127.0.0.1:$port --data $data"
"$bin" serve --addr "127.0.0.1:$port" --data "$data" >"$work/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 1 100); do
	if curl -fsS -o /dev/null "${base}healthz" 2>/dev/null; then
		break
	fi
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "interop: the server exited before it became healthy"
		exit 1
	fi
	sleep 0.1
done
curl -fsS -o /dev/null "${base}healthz" || {
	echo "interop: ${base}healthz did not answer 200 within 10s"
	exit 1
}
echo "server up at $base (pid $server_pid)"

export CALBOLT_URL=$base CALBOLT_WORK=$work
total_pass=0
total_fail=0
for s in "${suites[@]}"; do
	echo
	echo "===== suite $s ====="
	out=$work/$s.out
	case $s in
	pycaldav) cmd=("$PYTHON" interop/caldav_client.py) ;;
	vdirsyncer) cmd=("$PYTHON" interop/vdirsyncer_test.py) ;;
	litmus) cmd=("$PYTHON" interop/litmus_check.py) ;;
	# Starts its own server from the same binary; needs Debian's thunderbird.
	thunderbird) cmd=(env CALBOLT_BIN="$bin" PYTHON="$PYTHON" bash interop/thunderbird/run.sh) ;;
	esac
	rc=0
	"${cmd[@]}" 2>&1 | tee "$out" || rc=$?
	# Each suite ends with "RESULT <suite> passed=N failed=N".
	line=$(grep -E '^RESULT ' "$out" | tail -n 1 || true)
	if [[ $line =~ passed=([0-9]+)\ failed=([0-9]+) ]]; then
		p=${BASH_REMATCH[1]}
		f=${BASH_REMATCH[2]}
	else
		echo "suite $s printed no RESULT line (exit $rc): counted as one failure"
		p=0
		f=1
	fi
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "suite $s exited $rc with no failed check: counted as one failure"
		f=1
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "interop: the server died during suite $s"
		total_fail=$((total_fail + 1))
		break
	fi
done

# The server stops cleanly on SIGTERM, and the store it leaves behind keeps its
# invariants after everything the clients did.
echo
echo "===== server shutdown and store check ====="
if kill -0 "$server_pid" 2>/dev/null; then
	kill -TERM "$server_pid"
	rc=0
	for _ in $(seq 1 100); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$server_pid" 2>/dev/null; then
		echo "FAIL  the server did not exit within 10s of SIGTERM"
		total_fail=$((total_fail + 1))
	else
		wait "$server_pid" || rc=$?
		server_pid=""
		if [ "$rc" = 0 ]; then
			echo "ok    the server exits 0 on SIGTERM"
			total_pass=$((total_pass + 1))
		else
			echo "FAIL  the server exited $rc on SIGTERM, want 0"
			total_fail=$((total_fail + 1))
		fi
	fi
fi
if [ -z "$server_pid" ]; then
	if "$bin" check --data "$data"; then
		echo "ok    calbolt check: the store's invariants hold"
		total_pass=$((total_pass + 1))
	else
		echo "FAIL  calbolt check found violations"
		total_fail=$((total_fail + 1))
	fi
fi

echo
[ "$total_fail" = 0 ] || dump_log
echo "interop suites (${suites[*]}) took $((SECONDS - started))s"
echo "interop: $total_pass passed, $total_fail failed"
[ "$total_fail" = 0 ]
