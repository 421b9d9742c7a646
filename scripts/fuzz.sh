#!/usr/bin/env bash
# scripts/fuzz.sh FUZZTIME MINIMIZETIME — run every fuzz target of the module
# for FUZZTIME each (used by `make fuzz-short` and `make fuzz`).
#
# A target fails when fuzzing finds something: a failing input is written
# to testdata/fuzz/, or the target panics or reports an error. Go 1.26's
# fuzz coordinator can also fail a target with a bare "context deadline
# exceeded" when -fuzztime runs out while a worker is busy
# (go.dev/issue/75804, fixed in Go 1.27), having found nothing. That case is
# told apart by its output, and the target's corpus is then replayed
# deterministically (go test -run) to confirm there is nothing to find.
set -euo pipefail
fuzztime=${1:?usage: scripts/fuzz.sh FUZZTIME MINIMIZETIME}
minimize=${2:?usage: scripts/fuzz.sh FUZZTIME MINIMIZETIME}
GO=${GO:-go}
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT

n=0
dirs=$(grep -rlE --include='*_test.go' --exclude-dir=.git --exclude-dir=testdata \
	'^func Fuzz[A-Z0-9_]' . | xargs -r -n1 dirname | sort -u)
for dir in $dirs; do
	for name in $($GO test -list '^Fuzz' "$dir" | grep '^Fuzz' || true); do
		n=$((n + 1))
		echo "$GO test -run '^\$' -fuzz '^$name\$' -fuzztime=$fuzztime -fuzzminimizetime=$minimize $dir"
		if $GO test -run '^$' -fuzz "^$name\$" -fuzztime="$fuzztime" -fuzzminimizetime="$minimize" "$dir" 2>&1 | tee "$out"; then
			continue
		fi
		if grep -q 'context deadline exceeded' "$out" &&
			! grep -qE 'Failing input written|panic:|_test\.go:[0-9]+:' "$out"; then
			echo "fuzz: $name stopped on Go's fuzztime race (go.dev/issue/75804) with nothing found; replaying its corpus"
			$GO test -count=1 -run "^$name\$" "$dir"
			continue
		fi
		echo "fuzz: $name found a failure" >&2
		exit 1
	done
done
echo "fuzz: ran $n fuzz targets for $fuzztime each"
