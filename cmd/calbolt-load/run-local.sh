#!/usr/bin/env bash
# Runs calbolt-load against a fresh server on loopback: builds both
# binaries, creates a user in a temporary data directory, starts the server
# with request logging at warn (per-request info lines would be measured
# too), runs one scenario and stops the server. Used by `make load`.
# For the freebusy scenario it also creates the other users of -fb-users
# (default 10: load1 … load9), with the same password.
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
if [ "$scenario" = freebusy ]; then
	# The users calbolt-load -fb-users names: a number N (alice and
	# load1 … load<N-1>) or a list of names.
	fbusers=10
	args=("$@")
	for ((i = 0; i < ${#args[@]}; i++)); do
		case ${args[i]} in
		-fb-users | --fb-users) fbusers=${args[i + 1]:-} ;;
		-fb-users=* | --fb-users=*) fbusers=${args[i]#*=} ;;
		esac
	done
	if [[ $fbusers =~ ^[0-9]+$ ]]; then
		names=()
		for ((i = 1; i < fbusers; i++)); do names+=("load$i"); done
	else
		IFS=, read -r -a names <<<"$fbusers"
	fi
	for name in "${names[@]}"; do
		name=${name// /}
		[ -n "$name" ] && [ "$name" != alice ] || continue
		bin/calbolt user add "$name" --data "$dir/data" <"$dir/pw" >/dev/null
	done
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
bin/calbolt serve --addr "127.0.0.1:$port" --data "$dir/data" --log-level warn 2>"$dir/server.log" &
server=$!
bin/calbolt-load -url "http://127.0.0.1:$port" -user alice -password-file "$dir/pw" \
	-wait 10s -scenario "$scenario" -server-pid "$server" "$@"
