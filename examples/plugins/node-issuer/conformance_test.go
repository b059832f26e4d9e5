// Package nodeissuer_test runs certctl's conformance kit against the issuer
// plugin written in Node.js in this directory, as it runs against Go
// plugins: the protocol is gRPC with go-plugin's handshake, which any
// language can speak.
package nodeissuer_test

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// launcher is the plugin's executable: a shell script that runs plugin.js.
const launcher = "certctl-plugin-issuer-nodeca"

// npmTimeout bounds `npm ci`: it takes seconds from npm's cache, longer
// on a machine that fetches the packages from the registry.
const npmTimeout = 5 * time.Minute

func TestConformance(t *testing.T) {
	dir := install(t)
	plugintest.Run(t, plugintest.Options{
		Binary:      filepath.Join(dir, launcher),
		Kind:        plugin.KindIssuer,
		ValidConfig: plugin.Config{"validity": "7d"},
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "validity not a duration", Config: plugin.Config{"validity": "soon"}, Field: "validity"},
			{Name: "key without certificate", Config: plugin.Config{"ca_key": "secret"}, Field: "ca_cert"},
			{Name: "certificate not PEM", Config: plugin.Config{"ca_cert": "not a certificate", "ca_key": "secret"}, Field: "ca_cert"},
		},
		Issuer: &plugintest.IssuerCases{
			Provision:  true,
			KeyTypes:   []string{"ecdsa-p256", "ecdsa-p384", "rsa-2048", "ed25519"},
			CommonName: "app.example.com",
			SANs:       []string{"www.example.com", "192.0.2.7"},
		},
	})
}

// TestProtoIsTheSDKs keeps the plugin's copy of the protocol definition
// identical to the SDK's: the plugin loads it at run time.
func TestProtoIsTheSDKs(t *testing.T) {
	sdk, err := os.ReadFile("../../../sdk/plugin/proto/pluginv1/plugin.proto")
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile("proto/plugin.proto")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sdk, copied) {
		t.Error("proto/plugin.proto differs from sdk/plugin/proto/pluginv1/plugin.proto: copy the SDK's file over it")
	}
}

// install copies the plugin's sources (not a node_modules of the working
// tree) into a temporary directory and installs its dependencies there
// with `npm ci`, exactly as package-lock.json pins them. Node.js and npm
// are required: the test fails, saying so, when they are missing.
func install(t *testing.T) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: the Node.js plugin's conformance test needs Node.js 20 or later and npm "+
				"(Debian: apt-get install nodejs npm; .ci/run installs them)", tool)
		}
	}
	dir := t.TempDir()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && d.Name() == "node_modules":
			return filepath.SkipDir
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dir, path), 0o755)
		case strings.HasSuffix(path, ".go"):
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, path), data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatalf("copy the plugin: %v", err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--prefer-offline", "--no-audit", "--no-fund")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm ci: %v\n%s", err, out)
	}
	return dir
}
