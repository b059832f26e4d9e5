package main

import (
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
)

// TestScriptsFitCommandLine checks that every script, with parameters as
// long as a configuration allows, fits cmd.exe's command line.
func TestScriptsFitCommandLine(t *testing.T) {
	c, err := readConfig(plugin.Config{fieldAddress: "win01.example.com", fieldUsername: "Administrator", fieldPassword: "x",
		fieldSite: strings.Repeat("S", 256), fieldBindingHost: strings.Repeat(strings.Repeat("h", 62)+".", 4) + "example.com"[:253-4*63],
		fieldIPAddress: "2001:db8:1234:5678:9abc:def0:1234:5678", fieldStore: strings.Repeat("W", 64)})
	if err != nil {
		t.Fatal(err)
	}
	tp := strings.Repeat("A", 40)
	p := probeResult{BindingFound: true, Thumbprint: tp, Store: strings.Repeat("W", 64)}
	for _, s := range []script{probeScript(c, tp), importScript(c, "certctl-0123456789abcdef01234567", tp, strings.Repeat("p", 32)),
		cleanupScript("certctl-0123456789abcdef01234567"), bindScript(c, tp), restoreScript(c, p, tp, true), verifyScript(c),
		uploadScript("certctl-0123456789abcdef01234567", strings.Repeat("Q", chunkSize("certctl-0123456789abcdef01234567")), true)} {
		n := len(s.commandLine())
		t.Logf("%s: %d characters of script, %d of command line", s.op, len(s.text()), n)
		if n > maxCommandLine {
			t.Errorf("the %s script's command line is %d characters, over %d", s.op, n, maxCommandLine)
		}
	}
}

// TestPSQuote checks that values survive PowerShell's single-quoted
// strings, typographic quotes included, as the fake host reads them.
func TestPSQuote(t *testing.T) {
	for _, v := range []string{"", "Default Web Site", "O'Brien's site", "‘curly’ ‚low‛ quotes", `$(calc) "x" ` + "`n", "日本語のサイト"} {
		got, n, err := readQuoted(psQuote(v))
		if err != nil || got != v || n != len(psQuote(v)) {
			t.Errorf("psQuote(%q) = %s reads back as %q (%d bytes, %v)", v, psQuote(v), got, n, err)
		}
	}
}

// TestDecodeStderr checks the reading of powershell.exe's CLIXML error
// output.
func TestDecodeStderr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"'powershell.exe' is not recognized as an internal or external command,\r\n", "'powershell.exe' is not recognized as an internal or external command,"},
		{clixml("At line:1 char:1\r\n", "+ Get-Thing\r\n", "The term 'Get-Thing' is not recognized.\r\n"),
			"At line:1 char:1\r\n+ Get-Thing\r\nThe term 'Get-Thing' is not recognized."},
		{"#< CLIXML\r\n<Objs><S S=\"Error\">a &lt; b_x000D__x000A_</S><S S=\"verbose\">ignored</S></Objs>", "a < b"},
	} {
		if got := decodeStderr(tc.in); got != tc.want {
			t.Errorf("decodeStderr(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestSplitChunks checks that the chunks put the PFX back together.
func TestSplitChunks(t *testing.T) {
	s := strings.Repeat("ABCD", 1500)
	for _, size := range []int{4, 2048, 6000, 7000} {
		chunks := splitChunks(s, size)
		if strings.Join(chunks, "") != s || len(chunks) != (len(s)+size-1)/size {
			t.Errorf("splitChunks(%d) gave %d chunks that do not rejoin", size, len(chunks))
		}
		for _, c := range chunks {
			if len(c) > size {
				t.Errorf("a chunk of %d bytes, over %d", len(c), size)
			}
		}
	}
}
