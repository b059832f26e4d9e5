package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsShowTheTestedScript keeps the OpenSSL CA script of
// docs/issuers.md identical to the one the tests run.
func TestDocsShowTheTestedScript(t *testing.T) {
	script, err := os.ReadFile(filepath.Join("testdata", "openssl-ca.sh"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "issuers.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```sh\n"+string(script)+"```\n") {
		t.Error("docs/issuers.md does not show plugins/issuer/script/testdata/openssl-ca.sh as it is, " +
			"in a sh code block: copy the script into the Script issuer section")
	}
}
