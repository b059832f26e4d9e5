package plugin_test

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"testing"
	"time"
)

// TestVersionFlag builds real plugins the way make build does (with the
// build version in -ldflags) and runs them with --version, as a user
// would: one line on stdout, status 0, no handshake needed.
func TestVersionFlag(t *testing.T) {
	for _, tc := range []struct {
		dir, pkg, binary, want string
	}{
		{".", "./example", "certctl-plugin-issuer-example", `1\.0\.0 \(issuer example, build v9\.8\.7-test, `},
		// A plugin of certctl's root module, built in that module (so that
		// this works with GOWORK=off too).
		{"../..", "./plugins/issuer/local", "certctl-plugin-issuer-local", `1\.0\.0 \(issuer local, build v9\.8\.7-test, `},
	} {
		t.Run(tc.binary, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a cold build is slow
			defer cancel()
			bin := filepath.Join(t.TempDir(), tc.binary)
			build := exec.CommandContext(ctx, "go", "build", "-C", tc.dir, "-o", bin,
				"-ldflags", "-X github.com/certctl/certctl/sdk/plugin.BuildVersion=v9.8.7-test", tc.pkg)
			if out, err := build.CombinedOutput(); err != nil {
				t.Fatalf("go build: %v\n%s", err, out)
			}
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(ctx, bin, "--version")
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("%s --version: %v\nstderr: %s", tc.binary, err, stderr.String())
			}
			want := regexp.MustCompile(`^` + regexp.QuoteMeta(tc.binary) + ` ` + tc.want +
				regexp.QuoteMeta(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) + `\)\n$`)
			if !want.MatchString(stdout.String()) {
				t.Errorf("--version printed %q, want a line matching %s", stdout.String(), want)
			}
		})
	}
}
