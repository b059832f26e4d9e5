package provider

// secrets_test.go: the scan TestMain runs after the tests, over every state
// file terraform wrote for them: no private key, and none of the secrets
// registered with noteSecret (write-only values sent, keys and tokens from
// ephemeral resources, the provider's API key) may be there in clear.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// privateKeyPEM matches a PEM private key block of any kind (PKCS#1, #8,
// EC), also JSON-escaped inside a state file.
var privateKeyPEM = regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)

// scanStateFiles searches every *.tfstate* file under dir. It fails when
// acceptance tests ran and it finds no state file at all: a scan of
// nothing proves nothing.
func scanStateFiles(dir string) error {
	secretsSeen.Lock()
	defer secretsSeen.Unlock()
	files, findings := 0, []string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.Contains(d.Name(), ".tfstate") {
			return nil
		}
		files++
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		findings = append(findings, scanState(p, string(data), secretsSeen.values)...)
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", dir, err)
	}
	if files == 0 && acceptanceTests.Load() > 0 {
		return errors.New("no state file was written: the scan would prove nothing")
	}
	if len(findings) > 0 {
		return fmt.Errorf("%d finding(s) in %d state files:\n%s", len(findings), files, strings.Join(findings, "\n"))
	}
	fmt.Printf("state scan: %d state files, %d secrets, no finding\n", files, len(secretsSeen.values))
	return nil
}

// scanState returns what the state text of file p holds that it must not.
func scanState(p, text string, secrets map[string]string) []string {
	var out []string
	if privateKeyPEM.MatchString(text) {
		out = append(out, p+": a PEM private key")
	}
	for v, what := range secrets {
		// JSON escapes newlines and some characters; look for both forms.
		escaped := strings.ReplaceAll(strings.ReplaceAll(v, "\n", `\n`), `"`, `\"`)
		if strings.Contains(text, v) || strings.Contains(text, escaped) {
			out = append(out, fmt.Sprintf("%s: %s", p, what))
		}
	}
	return out
}

// TestScanStateFindsSecrets proves the scan can fail: it finds a private
// key and a registered secret in a state file, and nothing in a clean one.
func TestScanStateFindsSecrets(t *testing.T) {
	secrets := map[string]string{"s3cret-value\nline2": "a webhook secret"}
	dirty := `{"resources":[{"instances":[{"attributes":{"key":"-----BEGIN EC PRIVATE KEY-----\nMHc=\n","x":"s3cret-value\nline2"}}]}]}`
	if got := scanState("dirty.tfstate", dirty, secrets); len(got) != 2 {
		t.Errorf("scan of a state with a key and a secret: %q, want 2 findings", got)
	}
	clean := `{"resources":[{"instances":[{"attributes":{"certificate_pem":"-----BEGIN CERTIFICATE-----\nMIIB\n"}}]}]}`
	if got := scanState("clean.tfstate", clean, secrets); len(got) != 0 {
		t.Errorf("scan of a clean state: %q, want none", got)
	}
}
