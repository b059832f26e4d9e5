package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
)

func TestReadConfig(t *testing.T) {
	t.Parallel()
	f := newFakeBigIP(t, "pw-1234")
	base := plugin.Config{fieldAddress: "https://bigip.example.com", fieldUsername: "admin", fieldPassword: "pw-1234",
		fieldProfile: "www_clientssl"}

	c, err := readConfig(base)
	if err != nil {
		t.Fatal(err)
	}
	if c.base != "https://bigip.example.com:443" || c.partition != "Common" || c.profile != "/Common/www_clientssl" ||
		c.parentProfile != "/Common/clientssl" || c.prefix != "certctl" || c.insecure || c.timeout.String() != "30s" {
		t.Errorf("defaults: %+v", c)
	}
	c, err = readConfig(with(with(with(base, fieldPartition, "Tenant1"), fieldVirtualServer, "vs_www"), fieldAddress, "https://[2001:db8::1]:8443/"))
	if err != nil {
		t.Fatal(err)
	}
	if c.profile != "/Tenant1/www_clientssl" || c.virtualServer != "/Tenant1/vs_www" || c.base != "https://[2001:db8::1]:8443" {
		t.Errorf("partition, virtual server, address: %+v", c)
	}
	if c, err = readConfig(with(base, fieldVirtualServer, "/Common/app.app/vs_www")); err != nil || c.virtualServer != "/Common/app.app/vs_www" {
		t.Errorf("virtual server full path: %+v, %v", c, err)
	}
	if c, err = readConfig(with(base, fieldCACertPEM, f.caPEM())); err != nil || c.roots == nil {
		t.Errorf("ca_cert_pem: %v", err)
	}

	for _, tc := range []struct {
		name  string
		cfg   plugin.Config
		field string
	}{
		{"no address", with(base, fieldAddress, nil), fieldAddress},
		{"http", with(base, fieldAddress, "http://bigip.example.com"), fieldAddress},
		{"path", with(base, fieldAddress, "https://bigip.example.com/mgmt"), fieldAddress},
		{"user info", with(base, fieldAddress, "https://admin:x@bigip.example.com"), fieldAddress},
		{"bad port", with(base, fieldAddress, "https://bigip.example.com:99999"), fieldAddress},
		{"no password", with(base, fieldPassword, nil), fieldPassword},
		{"empty password", with(base, fieldPassword, ""), fieldPassword},
		{"no profile", with(base, fieldProfile, nil), fieldProfile},
		{"profile path", with(base, fieldProfile, "/Common/www"), fieldProfile},
		{"partition", with(base, fieldPartition, "a/b"), fieldPartition},
		{"parent not a path", with(base, fieldParentProfile, "clientssl"), fieldParentProfile},
		{"parent is the profile", with(base, fieldParentProfile, "/Common/www_clientssl"), fieldParentProfile},
		{"prefix", with(base, fieldNamePrefix, "9lives"), fieldNamePrefix},
		{"ca garbage", with(base, fieldCACertPEM, "not pem"), fieldCACertPEM},
		{"ca and insecure", with(with(base, fieldCACertPEM, f.caPEM()), fieldInsecureSkipVerify, true), fieldCACertPEM},
		{"virtual server", with(base, fieldVirtualServer, "vs www"), fieldVirtualServer},
		{"verify address", with(base, fieldVerifyAddress, "10.0.0.1"), fieldVerifyAddress},
		{"timeout", with(base, fieldTimeout, "11m"), fieldTimeout},
		{"timeout short", with(base, fieldTimeout, "100ms"), fieldTimeout},
		{"unknown field", with(base, "port", 443.0), "port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readConfig(tc.cfg)
			var pe *plugin.Error
			if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidConfig || pe.Field != tc.field {
				t.Fatalf("error %v, want invalid_config on %s", err, tc.field)
			}
			if strings.Contains(pe.Message, "pw-1234") {
				t.Errorf("the error quotes the password")
			}
		})
	}
}

func TestSerials(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int64{
		"0a:1b:2c": 0x0a1b2c, "0A:1B:2C": 0x0a1b2c, "a1b2": 0xa1b2, "4660 (0x1234)": 0x1234, " 01 ": 1,
	} {
		if got := parseF5Serial(in); got == nil || got.Cmp(big.NewInt(want)) != 0 {
			t.Errorf("parseF5Serial(%q) = %v, want %x", in, got, want)
		}
	}
	for _, in := range []string{"", "none", "zz:11"} {
		if got := parseF5Serial(in); got != nil {
			t.Errorf("parseF5Serial(%q) = %v, want nil", in, got)
		}
	}
	// Without a serial from the BIG-IP, the versioned name tells it.
	for _, tc := range []struct {
		obj  certObject
		want *big.Int
	}{
		{certObject{FullPath: "/Common/certctl-www-a1b2.crt"}, big.NewInt(0xa1b2)},
		{certObject{FullPath: "/Common/certctl-www-a1b2.crt", SerialNumber: "ff"}, big.NewInt(0xff)},
		{certObject{FullPath: "/Common/certctl-www-a1b2-chain.crt"}, nil},
		{certObject{FullPath: "/Common/other-www-a1b2.crt"}, nil},
	} {
		got := objectSerial(&tc.obj, "certctl")
		if (got == nil) != (tc.want == nil) || got != nil && got.Cmp(tc.want) != 0 {
			t.Errorf("objectSerial(%+v) = %v, want %v", tc.obj, got, tc.want)
		}
	}
	for obj, want := range map[certObject]string{
		{SubjectAlternativeName: "DNS:*.example.com, DNS:www.example.com"}: "www.example.com",
		{Subject: "CN=api.example.com,O=Example"}:                          "api.example.com",
		{Subject: "CN=Example Server"}:                                     "",
	} {
		if got := leafDNSName(&obj); got != want {
			t.Errorf("leafDNSName(%+v) = %q, want %q", obj, got, want)
		}
	}
}

// TestClient drives the iControl REST client against the fake directly.
func TestClient(t *testing.T) {
	t.Parallel()
	f := newFakeBigIP(t, "pw-secret-5678")
	c, err := readConfig(f.config())
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()

	t.Run("login refused", func(t *testing.T) {
		bad := c
		bad.password = "wrong-password-9"
		err := newClient(bad, nil).login(ctx)
		var pe *plugin.Error
		if !errors.As(err, &pe) || pe.Field != fieldPassword || !strings.Contains(pe.Message, "Authentication failed.") {
			t.Fatalf("login with a wrong password: %v", err)
		}
		// The BIG-IP's answer echoes the request body: none of it is quoted.
		if strings.Contains(err.Error(), "wrong-password-9") || strings.Contains(err.Error(), "originalRequestBody") {
			t.Errorf("the error quotes the request: %v", err)
		}
	})

	t.Run("chunked upload", func(t *testing.T) {
		cl := newClient(c, nil)
		if err := cl.login(ctx); err != nil {
			t.Fatal(err)
		}
		defer cl.logout(ctx)
		data := bytes.Repeat([]byte("0123456789abcdef"), (5<<20)/2/16) // 2.5 MiB
		n := len(f.callsSnapshot())
		if err := cl.upload(ctx, "big.bin", data); err != nil {
			t.Fatal(err)
		}
		var ranges []string
		for _, call := range f.callsSnapshot()[n:] {
			ranges = append(ranges, call.ContentRange)
		}
		total := len(data)
		want := []string{fmt.Sprintf("0-1048575/%d", total), fmt.Sprintf("1048576-2097151/%d", total),
			fmt.Sprintf("2097152-%d/%d", total-1, total)}
		if strings.Join(ranges, " ") != strings.Join(want, " ") {
			t.Errorf("Content-Range headers %v, want %v", ranges, want)
		}
		f.mu.Lock()
		got := f.files["big.bin"]
		f.mu.Unlock()
		if got == nil || !bytes.Equal(got.data, data) {
			t.Errorf("the fake did not receive the file whole")
		}
		cl.removeUpload(ctx, "big.bin")
		if left := f.uploadedFiles(); len(left) > 0 {
			t.Errorf("unix-rm left %v", left)
		}
	})

	t.Run("errors", func(t *testing.T) {
		cl := newClient(c, nil)
		if err := cl.login(ctx); err != nil {
			t.Fatal(err)
		}
		defer cl.logout(ctx)
		p, err := cl.getProfile(ctx, "/Common/missing")
		if p != nil || err != nil {
			t.Errorf("missing profile: %v, %v; want nil, nil", p, err)
		}
		err = cl.do(ctx, request{method: http.MethodPost, path: profilePath, body: map[string]any{"name": "x", "bogus": 1}}, nil)
		if code := plugin.ErrorCode(classify(err)); code != plugin.CodePermanent || !isStatus(err, 400) ||
			!strings.Contains(err.Error(), "unexpected json pair") {
			t.Errorf("bad body: %v (code %s), want a permanent HTTP 400 quoting the BIG-IP", err, code)
		}
		err = cl.do(ctx, request{method: http.MethodPost, path: profilePath, body: map[string]any{"name": "clientssl"}}, nil)
		if !isStatus(err, http.StatusConflict) || !strings.Contains(err.Error(), "already exists") {
			t.Errorf("creating an existing profile: %v, want HTTP 409", err)
		}
		f.setFault(func(c fakeCall) *fakeReply {
			r := f5Error(500, "restjavad busy")
			return &r
		})
		defer f.setFault(nil)
		_, err = cl.getProfile(ctx, "/Common/clientssl")
		if code := plugin.ErrorCode(classify(err)); code != plugin.CodeTransient {
			t.Errorf("HTTP 500: %v (code %s), want transient", err, code)
		}
	})

	t.Run("canceled", func(t *testing.T) {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		err := newClient(c, nil).login(cctx)
		if code := plugin.ErrorCode(err); code != plugin.CodeCanceled {
			t.Errorf("login with a canceled context: %v (code %s)", err, code)
		}
	})
}
