package plugintest_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
)

// The kit passes the SDK's example plugin, and test plugins of the other
// kinds that keep the contract.

func TestExampleIssuerConforms(t *testing.T) {
	skipShort(t)
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "../example"),
		Kind:        plugin.KindIssuer,
		ValidConfig: plugin.Config{},
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "negative validity", Config: plugin.Config{"validity": -3600.0}, Field: "validity"},
			{Name: "certificate without key", Config: plugin.Config{"ca_cert": "x", "ca_key": ""}},
		},
		Issuer: &plugintest.IssuerCases{Provision: true, KeyTypes: plugintest.KeyTypes,
			CommonName: "192.0.2.1", SANs: []string{"a.example.com", "B.example.com", "2001:db8::1"}},
	})
}

func TestNotifierConforms(t *testing.T) {
	skipShort(t)
	url, received := receiver(t)
	plugintest.Run(t, plugintest.Options{
		Binary:      plugintest.Build(t, "./testdata/testnotifier"),
		Kind:        plugin.KindNotifier,
		ValidConfig: plugin.Config{"url": url},
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "no url", Config: plugin.Config{}, Field: "url"},
			{Name: "not http", Config: plugin.Config{"url": "ftp://x"}, Field: "url"},
		},
		Notifier: &plugintest.NotifierCases{Received: received},
	})
}

func TestTargetConforms(t *testing.T) {
	skipShort(t)
	plugintest.Run(t, plugintest.Options{
		Binary:         plugintest.Build(t, "./testdata/testtarget"),
		Kind:           plugin.KindTarget,
		ValidConfig:    plugin.Config{"dir": t.TempDir()},
		InvalidConfigs: []plugintest.InvalidConfig{{Name: "no dir", Config: plugin.Config{"dir": "/nonexistent/x"}, Field: "dir"}},
		Target:         &plugintest.TargetCases{Deploy: true, ValidateDeployment: true},
	})
}

// The kit catches plugins that break the contract: each check is run on
// its own against a misbehaving plugin, and must pass or fail as listed.

func TestBadIssuerFails(t *testing.T) {
	skipShort(t)
	s := start(t, plugintest.Options{
		Binary:      plugintest.Build(t, "./testdata/badissuer"),
		Kind:        plugin.KindIssuer,
		ValidConfig: plugin.Config{"mode": "normal"},
		InvalidConfigs: []plugintest.InvalidConfig{
			{Name: "unknown mode", Config: plugin.Config{"mode": "unknown"}, Field: "mode"},
		},
		Issuer: &plugintest.IssuerCases{Provision: true},
	})
	runChecks(t, s, map[string]bool{
		"wrong_kind_handshake":        true,
		"info":                        false, // a field without a description
		"valid_config":                true,
		"invalid_config/unknown_mode": false, // ValidateConfig accepts everything
		"garbage_config":              false, // ditto
		"canceled_context":            true,
		"short_deadline":              true,
		"concurrent_calls":            true,
		"provision":                   true,
		"provision_again":             false, // changes the configuration each time
		"issue/ecdsa-p256":            false, // certifies a key of its own
		"renew":                       false,
		"garbage_csr":                 false, // issues anyway
		"unknown_order":               true,
		"sign_crl":                    false, // returns garbage
		"revoke_bad_serial":           false, // crashes
		"still_answers":               false, // crashed
	})
	if s.Process.Ping() == nil {
		t.Error("the bad issuer still answers: revoke_bad_serial should have crashed it")
	}
}

func TestDuplicatingNotifierFails(t *testing.T) {
	skipShort(t)
	url, received := receiver(t)
	s := start(t, plugintest.Options{
		Binary:      plugintest.Build(t, "./testdata/testnotifier"),
		Kind:        plugin.KindNotifier,
		ValidConfig: plugin.Config{"url": url, "copies": 2},
		InvalidConfigs: []plugintest.InvalidConfig{
			// The plugin refuses it, but not for the field the test expects.
			{Name: "wrong field", Config: plugin.Config{"url": "ftp://x"}, Field: "copies"},
		},
		Notifier: &plugintest.NotifierCases{Received: received},
	})
	runChecks(t, s, map[string]bool{
		"wrong_kind_handshake":       true,
		"info":                       true,
		"valid_config":               true,
		"invalid_config/wrong_field": false,
		"garbage_config":             true,
		"canceled_context":           true,
		"short_deadline":             true,
		"concurrent_calls":           true,
		"send_alert":                 false, // delivered twice
		"send_event":                 false,
		"still_answers":              true,
	})
}

func TestDryRunWritingTargetFails(t *testing.T) {
	skipShort(t)
	s := start(t, plugintest.Options{
		Binary:      plugintest.Build(t, "./testdata/testtarget"),
		Kind:        plugin.KindTarget,
		ValidConfig: plugin.Config{"dir": t.TempDir(), "dry_run_writes": true},
		InvalidConfigs: []plugintest.InvalidConfig{
			// Valid after all: the kit must say the plugin accepted it.
			{Name: "accepted", Config: plugin.Config{"dir": t.TempDir()}},
		},
		Target: &plugintest.TargetCases{Deploy: true, ValidateDeployment: true},
	})
	runChecks(t, s, map[string]bool{
		"wrong_kind_handshake":    true,
		"info":                    true,
		"valid_config":            true,
		"invalid_config/accepted": false,
		"garbage_config":          true,
		"canceled_context":        true,
		"short_deadline":          true,
		"concurrent_calls":        true,
		"dry_run":                 false, // wrote and reported a change
		"deploy":                  true,
		"validate_deployment":     true,
		"still_answers":           true,
	})
}

func TestStartRefusesWrongKind(t *testing.T) {
	skipShort(t)
	bin := plugintest.Build(t, "./testdata/testnotifier")
	if _, err := plugintest.Start(t, plugintest.Options{Binary: bin, Kind: plugin.KindIssuer}); err == nil {
		t.Fatal("a notifier binary was started as an issuer")
	}
}

func TestOptionsAreChecked(t *testing.T) {
	for name, o := range map[string]plugintest.Options{
		"no binary":        {Kind: plugin.KindIssuer},
		"bad kind":         {Binary: "x", Kind: "frobnicator"},
		"cases for a kind": {Binary: "x", Kind: plugin.KindNotifier, Issuer: &plugintest.IssuerCases{}},
		"unknown key type": {Binary: "x", Kind: plugin.KindIssuer, Issuer: &plugintest.IssuerCases{KeyTypes: []string{"dsa-1024"}}},
	} {
		if _, err := plugintest.Start(t, o); err == nil {
			t.Errorf("%s: Start accepted the options", name)
		}
	}
}

func skipShort(t *testing.T) {
	t.Helper()
}

func start(t *testing.T, o plugintest.Options) *plugintest.Session {
	t.Helper()
	s, err := plugintest.Start(t, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runChecks runs every check of s and compares its outcome with want
// (check name → passes).
func runChecks(t *testing.T, s *plugintest.Session, want map[string]bool) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range s.Checks() {
		seen[c.Name] = true
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		err := c.Run(ctx)
		cancel()
		pass, ok := want[c.Name]
		switch {
		case !ok:
			t.Errorf("check %s has no expected outcome (it returned %v)", c.Name, err)
		case pass && err != nil:
			t.Errorf("check %s failed: %v", c.Name, err)
		case !pass && err == nil:
			t.Errorf("check %s passed, want it to fail", c.Name)
		default:
			t.Logf("check %s: %v", c.Name, err)
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("check %s did not run", name)
		}
	}
}

// A plugin that embeds plugin.UnimplementedIssuer builds and serves with
// nothing but Info, but embedding makes nothing optional: the kit fails it
// wherever an issuer must validate a configuration or issue, with the
// unimplemented error naming the method, and passes what an issuer may
// leave unimplemented (orders, revocation).
func TestBareIssuerFails(t *testing.T) {
	skipShort(t)
	s, err := plugintest.Start(t, plugintest.Options{
		Binary:      plugintest.Build(t, "./testdata/bareissuer"),
		Kind:        plugin.KindIssuer,
		ValidConfig: plugin.Config{},
		Issuer:      &plugintest.IssuerCases{},
	})
	if err != nil {
		t.Fatal(err)
	}
	runChecks(t, s, map[string]bool{
		"wrong_kind_handshake": true,
		"info":                 true,
		"valid_config":         false, // ValidateConfig is unimplemented
		"garbage_config":       true,  // refused, if only as unimplemented
		"canceled_context":     false, // the call after it fails
		"short_deadline":       false, // ditto
		"concurrent_calls":     false,
		"issue/ecdsa-p256":     false, // IssueCertificate is unimplemented
		"renew":                false,
		"garbage_csr":          false, // unimplemented, not invalid_input
		"unknown_order":        true,
		"sign_crl":             false, // it needs a certificate issued first
		"revoke_bad_serial":    true,
		"still_answers":        true,
	})
	for _, c := range s.Checks() {
		want := map[string]string{"valid_config": "does not implement ValidateConfig",
			"issue/ecdsa-p256": "does not implement IssueCertificate"}[c.Name]
		if want == "" {
			continue
		}
		if err := c.Run(context.Background()); plugin.ErrorCode(err) != plugin.CodeUnimplemented || !strings.Contains(err.Error(), want) {
			t.Errorf("check %s: %v, want an unimplemented error saying %q", c.Name, err, want)
		}
	}
}

// receiver starts an HTTP server counting the requests it gets.
func receiver(t *testing.T) (url string, received func() int) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		n.Add(1)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func() int { return int(n.Load()) }
}
