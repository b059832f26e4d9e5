// Package housecheck holds tests that keep house rules of the whole
// repository that the compiler does not: which packages may import which
// (the dependency direction docs/architecture.md draws) and the one log key
// for errors. It has no code of its own; `go test ./tools/housecheck`
// runs the checks.
package housecheck
