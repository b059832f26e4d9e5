#!/usr/bin/env bash
# make fuzz / make fuzz-smoke: runs every Go fuzz target in the repository,
# in both modules (the committed go.work lets go test name sdk/'s packages
# from the root), one after another, each for the time given as the first
# argument (a Go duration such as 30s or 10m, or a count of inputs such as
# 5000x).
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

# confirmed NAME PKG CORPUS BEFORE: whether a failed fuzz run found a real
# crash. go test can end a fuzz run with "context deadline exceeded" when
# -fuzztime runs out while an input is executing, and then saves that input
# as if it had failed, or saves none. An input is a crash only if it fails
# again when replayed on its own; one that passes is removed, with a
# warning. A failure that saved no input is real (a build error, a failing
# seed) unless all it says is that deadline.
confirmed() {
	local name=$1 pkg=$2 corpus=$3 before=$4 out=$5 id real=0 new=0
	for id in $(ls "$corpus" 2>/dev/null || true); do
		grep -qxF "$id" <<<"$before" && continue
		new=1
		if $GO test -vet=off -count=1 -run "^$name/$id\$" "$pkg" >/dev/null 2>&1; then
			echo "fuzz: $name: the saved input $id passes when replayed: not a crash (the fuzz time ran out mid-input); removed" >&2
			rm -f "$corpus/$id"
		else
			real=1
		fi
	done
	if [ "$new" = 0 ]; then
		# No input saved: the deadline race itself, or a real failure (a
		# failing seed, a build error), which says something else.
		if grep -q 'context deadline exceeded' "$out" && ! grep -qE '^\s+(--- FAIL: '"$name"'/|[a-z_]+_test\.go:[0-9]+:)' "$out"; then
			echo "fuzz: $name: go test ended with 'context deadline exceeded' and saved no input: not a crash (the fuzz time ran out mid-input)" >&2
			return 1
		fi
		return 0
	fi
	[ "$real" = 1 ]
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT
failed=()
count=0
start=$SECONDS
while IFS= read -r file; do
	pkg=./$(dirname "$file")
	for name in $(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(f \*testing\.F).*/\1/p' "$file"); do
		count=$((count + 1))
		echo "fuzz: $name in $pkg for $time"
		corpus="$(dirname "$file")/testdata/fuzz/$name"
		before=$(ls "$corpus" 2>/dev/null || true)
		# Minimizing a crash may take up to a minute; the crash is kept either way.
		if ! $GO test -vet=off -run '^$' -fuzz "^$name\$" -fuzztime "$time" -fuzzminimizetime 30s "$pkg" 2>&1 | tee "$out"; then
			if ! confirmed "$name" "$pkg" "$corpus" "$before" "$out"; then
				continue
			fi
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
