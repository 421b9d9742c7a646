#!/usr/bin/env bash
# Runs calbolt-load against a fresh server on loopback: builds both
# binaries, creates a user in a temporary data directory, starts the server
# with request logging at warn (per-request info lines would be measured
# too), runs one scenario and stops the server. Used by `make load`.
#
#   cmd/calbolt-load/run-local.sh [SCENARIO] [calbolt-load flags...]
set -euo pipefail
cd "$(dirname "$0")/../.."
scenario=${1:-issue2}
shift || true

go build -o bin/calbolt ./cmd/calbolt
go build -o bin/calbolt-load ./cmd/calbolt-load

dir=$(mktemp -d)
server=""
cleanup() {
	[ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT

printf 'load-password\n' >"$dir/pw"
bin/calbolt user add alice --data "$dir/data" <"$dir/pw" >/dev/null
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bin/calbolt serve --addr "127.0.0.1:$port" --data "$dir/data" --log-level warn 2>"$dir/server.log" &
server=$!
bin/calbolt-load -url "http://127.0.0.1:$port" -user alice -password-file "$dir/pw" \
	-wait 10s -scenario "$scenario" -server-pid "$server" "$@"
