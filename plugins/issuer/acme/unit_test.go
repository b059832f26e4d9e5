package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"golang.org/x/crypto/acme"
)

// TestCertID checks the ARI certificate identifier against RFC 9773's
// example (§4.1).
func TestCertID(t *testing.T) {
	aki := []byte{0x69, 0x88, 0x5B, 0x6B, 0x87, 0x46, 0x40, 0x41, 0xE1, 0xB3, 0x7B, 0x84, 0x7B, 0xA0, 0xAE, 0x2C, 0xDE, 0x01, 0xC8, 0xD4}
	cert := &x509.Certificate{AuthorityKeyId: aki, SerialNumber: big.NewInt(0x87654321)}
	got, err := certID(cert)
	if want := "aYhba4dGQEHhs3uEe6CuLN4ByNQ.AIdlQyE"; err != nil || got != want {
		t.Errorf("certID = %q, %v; want %q", got, err, want)
	}
	if _, err := certID(&x509.Certificate{SerialNumber: big.NewInt(1)}); err == nil {
		t.Error("certID of a certificate without AKI")
	}
}

func TestOrderID(t *testing.T) {
	const dir = "https://ca.example.com/dir"
	st := orderState{url: "https://ca.example.com/order/7", presented: time.Unix(1767225600, 0)}
	id := st.id()
	if id != "https://ca.example.com/order/7#dns01-presented=1767225600" {
		t.Errorf("id = %q", id)
	}
	back, err := parseOrderID(id, dir)
	if err != nil || back.url != st.url || !back.presented.Equal(st.presented) {
		t.Errorf("parse(%q) = %+v, %v", id, back, err)
	}
	if back, err := parseOrderID(st.url, dir); err != nil || !back.presented.IsZero() {
		t.Errorf("parse(%q) = %+v, %v", st.url, back, err)
	}
	for _, bad := range []string{"", "plugintest-no-such-order", "https://evil.example.com/order/7",
		"http://ca.example.com/order/7", st.url + "#dns01-presented=x", st.url + "#other"} {
		if _, err := parseOrderID(bad, dir); plugin.ErrorCode(err) != plugin.CodeNotFound {
			t.Errorf("parse(%q): %v, want not_found", bad, err)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for v, want := range map[string]time.Duration{
		"120": 2 * time.Minute, "0": 0, "": 0, "soon": 0, "-5": 0,
		now.Add(90 * time.Second).Format(http.TimeFormat): 90 * time.Second,
		now.Add(-time.Hour).Format(http.TimeFormat):       0,
	} {
		if got := parseRetryAfter(v, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %s, want %s", v, got, want)
		}
	}
}

func TestClassify(t *testing.T) {
	hdr := func(ra string) http.Header { return http.Header{"Retry-After": []string{ra}} }
	prob := func(status int, typ string, h http.Header) error {
		return &acme.Error{StatusCode: status, ProblemType: "urn:ietf:params:acme:error:" + typ, Detail: "the detail", Header: h}
	}
	for _, c := range []struct {
		err        error
		code       string
		field      string
		retryAfter time.Duration
	}{
		{prob(429, "rateLimited", hdr("600")), plugin.CodeTransient, "", 10 * time.Minute},
		{prob(429, "rateLimited", nil), plugin.CodeTransient, "", defaultRateLimitWait},
		{prob(400, "rateLimited", nil), plugin.CodeTransient, "", defaultRateLimitWait},
		{prob(503, "serverInternal", hdr("30")), plugin.CodeTransient, "", 30 * time.Second},
		{prob(400, "badNonce", nil), plugin.CodeTransient, "", 0},
		{prob(403, "externalAccountRequired", nil), plugin.CodeInvalidConfig, fieldEABKeyID, 0},
		{prob(403, "userActionRequired", nil), plugin.CodeInvalidConfig, fieldAgreeTOS, 0},
		{prob(400, "accountDoesNotExist", nil), plugin.CodeInvalidConfig, fieldAccountURL, 0},
		{prob(400, "invalidContact", nil), plugin.CodeInvalidConfig, fieldEmail, 0},
		{prob(400, "invalidProfile", nil), plugin.CodeInvalidConfig, fieldProfile, 0},
		{prob(400, "badCSR", nil), plugin.CodeInvalidInput, "", 0},
		{prob(400, "rejectedIdentifier", nil), plugin.CodeInvalidInput, "", 0},
		{prob(403, "unauthorized", nil), plugin.CodePermanent, "", 0},
		{&url.Error{Op: "Get", URL: "https://ca", Err: errors.New("connection refused")}, plugin.CodeTransient, "", 0},
		{fmt.Errorf("x: %w", context.DeadlineExceeded), plugin.CodeDeadline, "", 0},
		{context.Canceled, plugin.CodeCanceled, "", 0},
		{&acme.OrderError{OrderURL: "https://ca/o/1", Status: "invalid", Problem: prob(403, "unauthorized", nil).(*acme.Error)}, plugin.CodePermanent, "", 0},
		{errors.New("odd"), plugin.CodePermanent, "", 0},
	} {
		err := classify(c.err, "doing it")
		var pe *plugin.Error
		errors.As(err, &pe)
		if plugin.ErrorCode(err) != c.code || (pe != nil && (pe.Field != c.field || pe.RetryAfter != c.retryAfter)) {
			t.Errorf("classify(%v) = %#v, want code %s field %q retry after %s", c.err, err, c.code, c.field, c.retryAfter)
		}
		if !strings.HasPrefix(err.Error(), "doing it") && !strings.Contains(err.Error(), ": doing it") {
			t.Errorf("classify(%v) = %q does not say what was done", c.err, err)
		}
	}
	// The problem document reaches the message whole.
	err := classify(&acme.Error{StatusCode: 403, ProblemType: "urn:ietf:params:acme:error:rejectedIdentifier", Detail: "policy",
		Subproblems: []acme.Subproblem{{Type: "urn:ietf:params:acme:error:caa", Detail: "CAA forbids",
			Identifier: &acme.AuthzID{Type: "dns", Value: "a.example.com"}}}}, "create the order")
	for _, s := range []string{"rejectedIdentifier", "policy", "HTTP 403", "a.example.com: urn:ietf:params:acme:error:caa: CAA forbids"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("%q lacks %q", err, s)
		}
	}
}

func TestIdentifiers(t *testing.T) {
	ids, err := identifiers("WWW.example.com.", []string{"www.example.com", "192.0.2.1", "::ffff:192.0.2.2", "api.example.com"}, challengeHTTP01)
	if err != nil {
		t.Fatal(err)
	}
	want := []acme.AuthzID{{Type: "dns", Value: "www.example.com"}, {Type: "ip", Value: "192.0.2.1"},
		{Type: "ip", Value: "192.0.2.2"}, {Type: "dns", Value: "api.example.com"}}
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("identifiers = %v, want %v", ids, want)
	}
	for _, c := range []struct {
		names     []string
		challenge string
	}{
		{[]string{"admin@example.com"}, challengeHTTP01},
		{[]string{"https://example.com/x"}, challengeHTTP01},
		{[]string{"*.example.com"}, challengeHTTP01},
		{[]string{"192.0.2.1"}, challengeDNS01},
		{[]string{""}, challengeHTTP01},
	} {
		if _, err := identifiers("", c.names, c.challenge); plugin.ErrorCode(err) != plugin.CodeInvalidInput {
			t.Errorf("identifiers(%v, %s): %v, want invalid_input", c.names, c.challenge, err)
		}
	}
	if ids, err := identifiers("*.example.com", []string{"example.com"}, challengeDNS01); err != nil || len(ids) != 2 {
		t.Errorf("wildcard with dns-01: %v, %v", ids, err)
	}
}

func TestDirectoryPresets(t *testing.T) {
	for in, want := range map[string]string{
		"letsencrypt":               "https://acme-v02.api.letsencrypt.org/directory",
		" LetsEncrypt-Staging ":     "https://acme-staging-v02.api.letsencrypt.org/directory",
		"https://ca.example.com/d":  "https://ca.example.com/d",
		"http://127.0.0.1:14000/di": "http://127.0.0.1:14000/di",
	} {
		if got, err := directoryURL(in); err != nil || got != want {
			t.Errorf("directoryURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "letsencrypt-prod", "ftp://ca", "https://user:pw@ca.example.com/d", "/dir"} {
		if _, err := directoryURL(bad); plugin.ErrorCode(err) != plugin.CodeInvalidConfig {
			t.Errorf("directoryURL(%q): %v, want invalid_config", bad, err)
		}
	}
}
