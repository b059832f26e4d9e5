package cli

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// readCLIDoc returns docs/cli.md.
func readCLIDoc(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../../../docs/cli.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestEveryCommandDocumented: every command has an example in its help
// and in docs/cli.md, so the documentation cannot fall behind the tree.
func TestEveryCommandDocumented(t *testing.T) {
	t.Parallel()
	doc := readCLIDoc(t)
	a := &app{streams: Streams{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}}, getenv: func(string) string { return "" }}
	root := a.rootCommand()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			if sub.Hidden || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if sub.HasSubCommands() && sub.Name() != "plugins" { // plugins lists, and holds more
				walk(sub)
				continue
			}
			path := sub.CommandPath()
			if !strings.Contains(doc, path+" ") && !strings.Contains(doc, path+"\n") {
				t.Errorf("docs/cli.md has no example of %q", path)
			}
			if strings.TrimSpace(sub.Example) == "" && sub.Name() != "current-context" {
				t.Errorf("%q has no Example in its help", path)
			}
			if sub.HasSubCommands() {
				walk(sub)
			}
		}
	}
	walk(root)
}

// TestExitStatusesDocumented: the table in docs/cli.md is the constants.
func TestExitStatusesDocumented(t *testing.T) {
	t.Parallel()
	doc := readCLIDoc(t)
	rows := regexp.MustCompile(`(?m)^\| (\d) \| (\w+)`).FindAllStringSubmatch(doc, -1)
	want := map[int]string{ExitOK: "done", ExitError: "any", ExitUsage: "usage", ExitNotFound: "not", ExitUnauthorized: "unauthorized",
		ExitConflict: "conflict", ExitTimeout: "timeout", ExitInvalid: "invalid", ExitFailed: "failed"}
	if len(rows) != len(want) {
		t.Fatalf("docs/cli.md lists %d exit statuses, the code has %d", len(rows), len(want))
	}
	for _, r := range rows {
		n, _ := strconv.Atoi(r[1])
		if want[n] != r[2] {
			t.Errorf("exit status %d is documented as %q, want a row starting %q", n, r[2], want[n])
		}
	}
}

// TestMainInProcess runs Main itself (what the binary's main calls) for
// what needs no server: the version, help, and a usage error.
func TestMainInProcess(t *testing.T) {
	t.Parallel()
	run := func(args ...string) (string, string, int) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), args, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut}, func(string) string { return "" })
		return out.String(), errOut.String(), code
	}
	if out, _, code := run("--version"); code != 0 || !strings.HasPrefix(out, "certctl ") {
		t.Errorf("--version: %d %q", code, out)
	}
	if out, _, code := run("certs"); code != 0 || !strings.Contains(out, "Available Commands:") {
		t.Errorf("certs alone shows its help: %d %q", code, out)
	}
	if _, errOut, code := run("certs", "list", "--limit", "x"); code != ExitUsage || !strings.Contains(errOut, `invalid argument "x"`) {
		t.Errorf("a bad flag value: %d %q", code, errOut)
	}
}
