// Package doctest runs certctl's documentation as tests: the shell blocks
// of a Markdown file, in order, against the real binaries in bin/ (a
// certctl-server started as `make run` starts it, on its embedded
// PostgreSQL), each block required to succeed and its printed output
// compared with the output the document shows. Its tests also hold the
// front-door test (bin/certctl-server started as `make run` starts it,
// until /readyz answers, then stopped with SIGINT) and the demo's test
// (tools/demo/demo.sh compared with docs/demo.md, then stopped with
// Ctrl-C).
//
// The tests need bin/ (`make build`; `make test` builds first) and curl, jq
// and openssl (nginx too for the agent guide) on PATH; a missing one is a
// test failure that names it, never a skip.
//
// # Conventions for writing a document that runs
//
// (tools/doctest/README.md says the same for documentation writers.)
//
// Blocks. A fenced block whose info string is `sh` (or `bash`) is run with
// bash (`set -euo pipefail`), in the repository's root directory, as a
// reader would type it. Shell state carries from block to block: variables
// (exported or not), functions and the working directory. A block must not
// call `exit`. Blocks with any other language (`json`, `nginx`, `go`, ...)
// are not run.
//
// Expected output. A fenced block with no language, or `text`, that comes
// after a `sh` block (prose may sit between, another fenced block may not)
// is that block's expected output, compared with what the block printed
// (stdout and stderr together). Before comparing, both sides are
// normalised: RFC 3339 and OpenSSL timestamps become <time>, UUIDs <uuid>,
// API keys, agent credentials and enrollment tokens (cck_, cca_, cce_)
// <key>, hexadecimal runs of 12 digits or more (serials, fingerprints)
// <hex>, Go durations (80h11m0s, 1.5s) <duration>; inside a line, a run
// of two or more spaces after text is one gap of two (table columns are as
// wide as their widest value, which may be a normalised one); trailing
// spaces and leading and trailing blank lines are ignored. In the expected output a
// line that is exactly `...` matches any number of lines (zero too), and
// `...` inside a line matches any text within that line. A `sh` block with
// no output block after it is not checked for output.
//
// Substitutions, for what a reader copies by hand. In `sh` blocks the
// literal `cck_...` becomes the admin key the server printed, and
// `127.0.0.1:8443` becomes the test server's address (and the reverse in
// what the block printed, before comparing). A `free-port` directive adds
// more addresses the same way.
//
// Directives are HTML comments on a line of their own, invisible to readers:
//
//	<!-- doctest: skip: <reason> -->
//	    the next fenced block, and its output block, are not run (for what
//	    cannot run inside a test, such as `make test` or `make build`).
//	<!-- doctest: make-run -->
//	    the next `sh` block is `make run`: instead of running it, the runner
//	    starts bin/certctl-server as `make run` does (embedded database, a
//	    fresh data directory, a loopback port) and waits for /readyz; the
//	    next time, it stops the running server with SIGINT (it must exit 0)
//	    and starts it again on the same data directory and address. The
//	    block's output block is compared with what the server printed on
//	    stdout (its logs go to stderr and are not compared).
//	<!-- doctest: restart-server -->
//	    before running the next `sh` block, stop the server with SIGINT (it
//	    must exit 0) and start it again on the same data directory and
//	    address, as a reader does with Ctrl-C and `make run`.
//	<!-- doctest: background -->
//	    the next `sh` block runs in the background (as in another
//	    terminal), with the state so far; what it changes in the shell's
//	    state is not carried. Its output is shown if the document fails. At
//	    the end of the document it gets SIGINT and must exit 0.
//	<!-- doctest: cleanup -->
//	    the next `sh` block runs at the end of the document even when an
//	    earlier block failed (stop daemons the document started).
//	<!-- doctest: free-port 127.0.0.1:8444 -->
//	    from here on, `127.0.0.1:8444` in `sh` blocks becomes a free
//	    loopback port of the test machine (and back in outputs).
//
// The server is started by the first `make-run` block, or before the first
// `sh` block that runs if none came before. At the end of the document,
// background blocks and anything else the blocks left running in their
// process groups get SIGINT, then the server is stopped and must exit 0.
//
// A failing block is reported with the document's file and line, the
// block, what it printed and the end of the server's log.
package doctest
