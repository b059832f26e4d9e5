#!/usr/bin/env bash
# make fuzz / make fuzz-smoke: runs every Go fuzz target in the module, one
# after another, each for the time given as the first argument (a Go
# duration such as 30s or 10m, or a count of inputs such as 5000x).
#
# Targets are found by their declarations (func FuzzXxx(f *testing.F) in a
# _test.go file), so a new one runs without being listed here. A crash
# fails the run: go test writes the input that caused it to
# testdata/fuzz/<FuzzName>/ next to the target, where it stays, committed,
# as a regression case that every plain `go test` runs. Inputs that only
# widen coverage go to go test's cache ($(go env GOCACHE)/fuzz), not to the
# repository. Every target runs even when one fails; the exit status says
# whether any did.
set -euo pipefail
cd "$(dirname "$0")/../.."
time=${1:?usage: tools/fuzz/run.sh FUZZTIME (e.g. 30s)}
GO=${GO:-go}

failed=()
count=0
start=$SECONDS
while IFS= read -r file; do
	pkg=./$(dirname "$file")
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$file"); do
		count=$((count + 1))
		echo "fuzz: $name in $pkg for $time"
		# Minimizing a crash may take up to a minute; the crash is kept either way.
		if ! $GO test -vet=off -run '^$' -fuzz "^$name\$" -fuzztime "$time" -fuzzminimizetime 30s "$pkg"; then
			failed+=("$name ($pkg)")
		fi
	done
done < <({ git ls-files --cached --others --exclude-standard -- '*_test.go' 2>/dev/null ||
	find . -name '*_test.go' -not -path './node_modules/*' -not -path './.git/*' | sed 's|^\./||'; } |
	xargs grep -l '^func Fuzz[A-Za-z0-9_]*(f \*testing\.F)' | sort)

echo "fuzz: $count targets in $((SECONDS - start)) s"
[ "$count" -gt 0 ] || { echo "fuzz: no fuzz target found" >&2; exit 1; }
if [ "${#failed[@]}" -gt 0 ]; then
	echo "fuzz: crashes in: ${failed[*]}; the inputs are under testdata/fuzz/ next to each target" >&2
	exit 1
fi
