package doctest

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	doc := strings.Join([]string{
		"# Title",                            // 1
		"<!-- doctest: make-run -->",         // 2
		"```sh",                              // 3
		"make run",                           // 4
		"```",                                // 5
		"Prose between.",                     // 6
		"```",                                // 7
		"listening",                          // 8
		"```",                                // 9
		"```json",                            // 10
		`{"a": 1}`,                           // 11
		"```",                                // 12
		"```",                                // 13: after a json block, not an output
		"illustration",                       // 14
		"```",                                // 15
		"<!-- doctest: skip: needs a VM -->", // 16
		"```bash",                            // 17
		"vagrant up",                         // 18
		"```",                                // 19
		"1. In a list:",                      // 20
		"   <!-- doctest: background -->",    // 21
		"   ```sh",                           // 22
		"   agent --flag",                    // 23
		"     indented more",                 // 24
		"   ```",                             // 25
		"<!-- doctest: free-port 127.0.0.1:8444 -->", // 26
		"````sh",      // 27
		"cat <<'EOF'", // 28
		"```",         // 29
		"EOF",         // 30
		"````",        // 31
		"````text",    // 32
		"```",         // 33
		"````",        // 34
	}, "\n")
	blocks, err := Parse("doc.md", doc)
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 4 {
		t.Fatalf("got %d blocks, want 4", len(blocks))
	}
	b := blocks[0]
	if b.Line != 3 || !b.MakeRun || b.Text != "make run\n" || b.Output == nil || b.Output.Text != "listening\n" || b.Output.Line != 7 {
		t.Errorf("block 0: %+v, output %+v", b, b.Output)
	}
	if b := blocks[1]; b.Skip != "needs a VM" || b.Lang != "bash" || b.Output != nil {
		t.Errorf("block 1: %+v", b)
	}
	if b := blocks[2]; !b.Background || b.Text != "agent --flag\n  indented more\n" {
		t.Errorf("block 2: %+v %q", b, b.Text)
	}
	if b := blocks[3]; len(b.FreePorts) != 1 || b.FreePorts[0] != "127.0.0.1:8444" || b.Text != "cat <<'EOF'\n```\nEOF\n" || b.Output == nil || b.Output.Text != "```\n" {
		t.Errorf("block 3: %+v %q", b, b.Text)
	}
}

func TestParseErrors(t *testing.T) {
	for name, doc := range map[string]string{
		"unknown directive":     "<!-- doctest: frobnicate -->\n```sh\nx\n```\n",
		"skip without a reason": "<!-- doctest: skip -->\n```sh\nx\n```\n",
		"directive on json":     "<!-- doctest: background -->\n```json\n{}\n```\n",
		"dangling directive":    "```sh\nx\n```\n<!-- doctest: cleanup -->\n",
		"unclosed block":        "```sh\nx\n",
		"bad free port":         "<!-- doctest: free-port 8444 -->\n```sh\nx\n```\n",
	} {
		if _, err := Parse("doc.md", doc); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
