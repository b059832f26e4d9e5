package dns01

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/acmetest"
)

// writeHook writes a shell script into a temp dir and returns its path.
func writeHook(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dns-hook.sh")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func hookConfig(s *acmetest.DNSServer, command ...string) plugin.Config {
	raw := rfc2136Config(s)
	for _, f := range []string{FieldNameserver, FieldTSIGKeyName, FieldTSIGSecret} {
		delete(raw, f)
	}
	raw[FieldProvider] = ProviderHook
	cmd := make([]any, len(command))
	for i, c := range command {
		cmd[i] = c
	}
	raw[FieldHookCommand] = cmd
	return raw
}

// The hook gets its configured arguments, then the action, name and value,
// with the same in its environment; this one hands them to a real
// RFC 2136 client (the test binary, see TestMain), so the record ends up
// in the DNS server.
func TestHookPresentCleanUp(t *testing.T) {
	s := startDNS(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "calls")
	script := writeHook(t, `set -eu
server=$1 zone=$2 key=$3 secret=$4 action=$5 fqdn=$6 value=$7
[ "$CERTCTL_DNS_ACTION" = "$action" ] || { echo "CERTCTL_DNS_ACTION=$CERTCTL_DNS_ACTION, argument $action" >&2; exit 2; }
[ "$CERTCTL_DNS_FQDN" = "$fqdn" ] || { echo "CERTCTL_DNS_FQDN=$CERTCTL_DNS_FQDN, argument $fqdn" >&2; exit 2; }
[ "$CERTCTL_DNS_VALUE" = "$value" ] || { echo "CERTCTL_DNS_VALUE differs from the argument" >&2; exit 2; }
echo "$action $fqdn $CERTCTL_DNS_DOMAIN" >> "`+log+`"
DNS01_TEST_HOOK=1 exec "`+exe+`" "$server" "$zone" "$key" "$secret" "$action" "$fqdn" "$value"
`)
	cfg := mustConfig(t, hookConfig(s, script, s.Addr, testZone, s.TSIGKeyName, s.TSIGSecret))
	sol, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ch := Challenge{Domain: "*.shop.certctl.test", KeyAuthorization: "tok.thumb"}
	fqdn, value := ch.Record()
	if err := sol.Present(ctxT(t), ch); err != nil {
		t.Fatalf("Present: %v", err)
	}
	if got := s.TXT(fqdn); !slices.Equal(got, []string{value}) {
		t.Fatalf("TXT after the hook's present: %v", got)
	}
	waitPropagated(t, cfg, fqdn, value)
	if err := sol.CleanUp(ctxT(t), ch); err != nil {
		t.Fatalf("CleanUp: %v", err)
	}
	if got := s.TXT(fqdn); len(got) != 0 {
		t.Fatalf("TXT after the hook's cleanup: %v", got)
	}
	calls, _ := os.ReadFile(log)
	want := "present _acme-challenge.shop.certctl.test. shop.certctl.test\ncleanup _acme-challenge.shop.certctl.test. shop.certctl.test\n"
	if string(calls) != want {
		t.Fatalf("hook calls:\n%s\nwant:\n%s", calls, want)
	}
}

// The hook is given where the CNAME points, not the name the CA asks.
func TestHookFollowsCNAME(t *testing.T) {
	s := startDNS(t)
	s.SetCNAME("_acme-challenge.app.certctl.test", "app.delegated.test")
	out := filepath.Join(t.TempDir(), "args")
	script := writeHook(t, `echo "$@" > "`+out+`"`)
	sol, err := New(mustConfig(t, hookConfig(s, script)))
	if err != nil {
		t.Fatal(err)
	}
	ch := Challenge{Domain: "app.certctl.test", KeyAuthorization: "tok.thumb"}
	if err := sol.Present(ctxT(t), ch); err != nil {
		t.Fatal(err)
	}
	_, value := ch.Record()
	got, _ := os.ReadFile(out)
	if want := "present app.delegated.test. " + value + "\n"; string(got) != want {
		t.Fatalf("hook arguments %q, want %q", got, want)
	}
}

func TestHookFailures(t *testing.T) {
	s := startDNS(t)
	ch := Challenge{Domain: "www.certctl.test", KeyAuthorization: "tok.thumb"}

	failing := writeHook(t, `echo "zone is locked by another job" >&2; exit 3`)
	sol, _ := New(mustConfig(t, hookConfig(s, failing)))
	err := sol.Present(ctxT(t), ch)
	contains(t, err, failing, "present", "_acme-challenge.www.certctl.test.", "exit status 3", "zone is locked by another job")
	var ee interface{ ExitCode() int }
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Fatalf("exit code not reachable through the error: %v", err)
	}

	// stderr is bounded: the tail is kept.
	noisy := writeHook(t, `i=0; while [ $i -lt 2000 ]; do echo "line $i of noise" >&2; i=$((i+1)); done; echo "the real reason" >&2; exit 1`)
	sol, _ = New(mustConfig(t, hookConfig(s, noisy)))
	err = sol.Present(ctxT(t), ch)
	contains(t, err, "the real reason")
	if len(err.Error()) > maxHookStderr+500 {
		t.Fatalf("error of %d bytes: stderr not bounded", len(err.Error()))
	}

	slow := writeHook(t, `exec sleep 600`)
	raw := hookConfig(s, slow)
	raw[FieldHookTimeout] = "300ms"
	sol, _ = New(mustConfig(t, raw))
	contains(t, sol.Present(ctxT(t), ch), "killed", FieldHookTimeout)

	sol, _ = New(mustConfig(t, hookConfig(s, filepath.Join(t.TempDir(), "missing-hook"))))
	err = sol.Present(ctxT(t), ch)
	if err == nil || !strings.Contains(err.Error(), "missing-hook") {
		t.Fatalf("missing program: %v", err)
	}
}
