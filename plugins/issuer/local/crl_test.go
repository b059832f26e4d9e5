// Tests of CRL signing.

package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"math/big"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

func TestSignCRL(t *testing.T) {
	for _, kt := range []string{"ecdsa-p384", "rsa-2048", "ed25519"} {
		t.Run(kt, func(t *testing.T) {
			t.Parallel()
			iss := testIssuer(t0)
			cfg := provisioned(t, iss, plugin.Config{fieldCAKeyType: kt})
			ca := parseCertPEM(t, cfg.String(fieldCACert))[0]
			leaf, _ := issue(t, iss, plugin.IssueRequest{Config: cfg, CSR: makeCSR(t, testKey(t, "ecdsa-p256"), "r"),
				CommonName: "revoked.example.com"})
			revoked := []plugin.RevokedCertificate{
				{SerialNumber: leaf.SerialNumber.Text(16), RevokedAt: t0.Add(-time.Hour), Reason: 1},
				{SerialNumber: "0a:1b:2c", RevokedAt: t0.Add(-2 * time.Hour), Reason: 4},
				{SerialNumber: "FFEE", RevokedAt: t0.Add(-3 * time.Hour), Reason: 0},
			}
			signed, err := iss.SignCRL(context.Background(), plugin.CRLRequest{Config: cfg, Number: 42,
				ThisUpdate: t0, NextUpdate: t0.Add(6 * time.Hour), Revoked: revoked})
			der := signed.DER
			if err != nil {
				t.Fatal(err)
			}
			crl, err := x509.ParseRevocationList(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := crl.CheckSignatureFrom(ca); err != nil {
				t.Errorf("CRL signature: %v", err)
			}
			if crl.Number.Int64() != 42 || !crl.ThisUpdate.Equal(t0) || !crl.NextUpdate.Equal(t0.Add(6*time.Hour)) {
				t.Errorf("number %v, this update %s, next update %s", crl.Number, crl.ThisUpdate, crl.NextUpdate)
			}
			if !bytes.Equal(crl.AuthorityKeyId, ca.SubjectKeyId) {
				t.Errorf("AKI is not the CA's SKI")
			}
			if len(crl.RevokedCertificateEntries) != len(revoked) {
				t.Fatalf("%d entries, want %d", len(crl.RevokedCertificateEntries), len(revoked))
			}
			wantSerials := []*big.Int{leaf.SerialNumber, big.NewInt(0x0a1b2c), big.NewInt(0xffee)}
			for i, e := range crl.RevokedCertificateEntries {
				if e.SerialNumber.Cmp(wantSerials[i]) != 0 || !e.RevocationTime.Equal(revoked[i].RevokedAt) ||
					e.ReasonCode != revoked[i].Reason {
					t.Errorf("entry %d = serial %x at %s reason %d, want %x at %s reason %d", i,
						e.SerialNumber, e.RevocationTime, e.ReasonCode, wantSerials[i], revoked[i].RevokedAt, revoked[i].Reason)
				}
			}
		})
	}
}

func TestSignCRLDefaultsAndRefusals(t *testing.T) {
	iss := testIssuer(t0)
	cfg := provisioned(t, iss, plugin.Config{fieldCAKeyType: "ecdsa-p256"})
	ctx := context.Background()

	signed, err := iss.SignCRL(ctx, plugin.CRLRequest{Config: cfg, Number: 1})
	der := signed.DER
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	if !crl.ThisUpdate.Equal(t0) || !crl.NextUpdate.Equal(t0.Add(24*time.Hour)) || len(crl.RevokedCertificateEntries) != 0 {
		t.Errorf("empty CRL: this update %s, next update %s, %d entries", crl.ThisUpdate, crl.NextUpdate,
			len(crl.RevokedCertificateEntries))
	}

	entry := func(serial string, reason int) []plugin.RevokedCertificate {
		return []plugin.RevokedCertificate{{SerialNumber: serial, RevokedAt: t0, Reason: reason}}
	}
	tests := []struct {
		name  string
		req   plugin.CRLRequest
		code  string
		field string
	}{
		{"bad serial", plugin.CRLRequest{Config: cfg, Revoked: entry("not-hex", 0)}, plugin.CodeInvalidInput, ""},
		{"zero serial", plugin.CRLRequest{Config: cfg, Revoked: entry("00", 0)}, plugin.CodeInvalidInput, ""},
		{"serial over 20 octets", plugin.CRLRequest{Config: cfg, Revoked: entry("01"+string(bytes.Repeat([]byte("ff"), 20)), 0)}, plugin.CodeInvalidInput, ""},
		{"duplicate serial", plugin.CRLRequest{Config: cfg, Revoked: append(entry("abc", 1), entry("0ABC", 1)...)}, plugin.CodeInvalidInput, ""},
		{"reason 7", plugin.CRLRequest{Config: cfg, Revoked: entry("abc", 7)}, plugin.CodeInvalidInput, ""},
		{"no revocation time", plugin.CRLRequest{Config: cfg, Revoked: []plugin.RevokedCertificate{{SerialNumber: "abc"}}}, plugin.CodeInvalidInput, ""},
		{"negative number", plugin.CRLRequest{Config: cfg, Number: -1}, plugin.CodeInvalidInput, ""},
		{"next update first", plugin.CRLRequest{Config: cfg, ThisUpdate: t0, NextUpdate: t0.Add(-time.Hour)}, plugin.CodeInvalidInput, ""},
		{"missing CA", plugin.CRLRequest{Config: plugin.Config{}}, plugin.CodeInvalidConfig, fieldCACert},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iss.SignCRL(ctx, tt.req)
			wantCode(t, err, tt.code, tt.field)
		})
	}

	t.Run("CA without cRLSign", func(t *testing.T) {
		key := testKey(t, "ecdsa-p256")
		ca := makeCA(t, caSpec{cn: "No CRL", key: key, keyUsage: x509.KeyUsageCertSign})
		_, err := iss.SignCRL(ctx, plugin.CRLRequest{Config: plugin.Config{fieldCACert: certPEM(ca), fieldCAKey: keyPEM(t, key)}})
		wantCode(t, err, plugin.CodeInvalidConfig, fieldCACert)
	})
}
