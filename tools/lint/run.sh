#!/usr/bin/env bash
# make lint: go vet, staticcheck and govulncheck over both modules, the
# root one and sdk/ (github.com/certctl/certctl/sdk), which the committed
# go.work joins; ./... stops at sdk/, so every command names ./sdk/... too.
#
# The tools are pinned here and built from the Go module proxy by `go run
# module@version` (cached after the first run), so the module's go.mod does
# not carry them. govulncheck cannot reach vuln.go.dev from every machine,
# so its database is built locally from the golang.org/x/vulndb module (the
# same OSV reports vuln.go.dev serves, at the pinned revision) with that
# module's own cmd/indexdb, and kept in a cache directory per revision.
# To check against newer reports, raise VULNDB_VERSION to a newer
# pseudo-version of golang.org/x/vulndb.
set -euo pipefail
cd "$(dirname "$0")/../.."

STATICCHECK=honnef.co/go/tools/cmd/staticcheck@v0.8.2
GOVULNCHECK=golang.org/x/vuln/cmd/govulncheck@v1.9.0
VULNDB_VERSION=${VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}
GO=${GO:-go}

echo "== go.work"
# make takes the toolchain from go.mod; the workspace must ask for the same
# one, or a plain go command in the checkout would pick another.
work=$(sed -n 's/^toolchain //p' go.work) mod=$(sed -n 's/^toolchain //p' go.mod)
[ "$work" = "$mod" ] || { echo "make lint: go.work's toolchain line ($work) differs from go.mod's ($mod): keep them equal" >&2; exit 1; }

echo "== go vet"
$GO vet ./... ./sdk/...
# The sdk module alone, as a module that depends on it builds it.
(cd sdk && GOWORK=off $GO vet ./...)

echo "== staticcheck ($STATICCHECK)"
$GO run "$STATICCHECK" ./... ./sdk/...

echo "== govulncheck ($GOVULNCHECK, golang.org/x/vulndb@$VULNDB_VERSION)"
cache=${CERTCTL_LINT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/certctl-lint}
db=$cache/vulndb-$VULNDB_VERSION
if [ ! -f "$db/index/db.json" ]; then
	src=$($GO mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
	[ -d "$src/data/osv" ] || { echo "make lint: golang.org/x/vulndb@$VULNDB_VERSION has no data/osv (got '$src')" >&2; exit 1; }
	mkdir -p "$cache"
	tmp=$(mktemp -d "$cache/build.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# indexdb belongs to the vulndb module: build it there, with that
	# module's own requirements (its directory in the module cache is
	# read-only, so the binary goes to the temporary directory).
	(cd "$src" && GOFLAGS=-mod=mod $GO build -o "$tmp/indexdb" ./cmd/indexdb)
	"$tmp/indexdb" -vulns "$src/data/osv" -out "$tmp/db"
	rm -rf "$db"
	mv "$tmp/db" "$db"
fi
# Exit status 3 means a vulnerability is reachable from certctl's code;
# govulncheck prints each with its call path and the version that fixes it.
# The root module's packages, with the versions certctl builds with (the
# SDK's code it uses included); then the sdk module alone (GOWORK=off),
# with the versions its own go.mod selects, which are what a plugin that
# depends on the SDK alone gets.
echo "-- the root module"
$GO run "$GOVULNCHECK" -db "file://$db" ./...
echo "-- the sdk module alone"
(cd sdk && GOWORK=off $GO run "$GOVULNCHECK" -db "file://$db" ./...)
