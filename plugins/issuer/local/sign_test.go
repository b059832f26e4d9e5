// Tests of issuing: every accepted key type, names, profiles, validity,
// serials, the refusals, and sub-CA mode.

package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/pem"
	"net"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

const crlURL = "http://pki.example.com/local.crl"

// issue runs IssueCertificate and returns the leaf and the chain.
func issue(t *testing.T, iss *issuer, req plugin.IssueRequest) (*x509.Certificate, []*x509.Certificate) {
	t.Helper()
	res, err := iss.IssueCertificate(context.Background(), req)
	if err != nil {
		t.Fatalf("IssueCertificate: %v", err)
	}
	if res.Status != plugin.StatusIssued {
		t.Fatalf("status %q", res.Status)
	}
	certs := parseCertPEM(t, res.CertificatePEM)
	if len(certs) != 1 {
		t.Fatalf("CertificatePEM holds %d certificates", len(certs))
	}
	return certs[0], chainCerts(t, res.ChainPEM)
}

func TestIssueKeyTypes(t *testing.T) {
	iss := testIssuer(t0)
	cfg := provisioned(t, iss, plugin.Config{fieldCRLURL: crlURL})
	ca := parseCertPEM(t, cfg.String(fieldCACert))[0]
	roots := x509.NewCertPool()
	roots.AddCert(ca)

	for _, kt := range keyTypes {
		t.Run(kt, func(t *testing.T) {
			t.Parallel()
			key := testKey(t, kt)
			leaf, chain := issue(t, iss, plugin.IssueRequest{
				Config:     cfg,
				CSR:        makeCSR(t, key, "ignored.example.com"),
				CommonName: "example.com",
				SANs:       []string{"www.example.com", "192.0.2.10", "2001:db8::1", "ops@example.com", "spiffe://example.com/web"},
			})
			if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0,
				KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSName: "www.example.com"}); err != nil {
				t.Errorf("leaf does not verify: %v", err)
			}
			if len(chain) != 1 || !chain[0].Equal(ca) {
				t.Errorf("chain is not the CA alone")
			}
			if !leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }).Equal(key.Public()) {
				t.Errorf("leaf key is not the CSR's")
			}
			if leaf.Subject.CommonName != "example.com" {
				t.Errorf("CN = %q: the declared name, not the CSR's, is certified", leaf.Subject.CommonName)
			}
			if want := []string{"example.com", "www.example.com"}; !reflect.DeepEqual(leaf.DNSNames, want) {
				t.Errorf("DNS names = %v, want %v", leaf.DNSNames, want)
			}
			if len(leaf.IPAddresses) != 2 || !leaf.IPAddresses[0].Equal(net.ParseIP("192.0.2.10")) ||
				!leaf.IPAddresses[1].Equal(net.ParseIP("2001:db8::1")) {
				t.Errorf("IP addresses = %v", leaf.IPAddresses)
			}
			if !reflect.DeepEqual(leaf.EmailAddresses, []string{"ops@example.com"}) {
				t.Errorf("e-mail addresses = %v", leaf.EmailAddresses)
			}
			if len(leaf.URIs) != 1 || leaf.URIs[0].String() != "spiffe://example.com/web" {
				t.Errorf("URIs = %v", leaf.URIs)
			}
			wantKU := x509.KeyUsageDigitalSignature
			if kt[:3] == "rsa" {
				wantKU |= x509.KeyUsageKeyEncipherment
			}
			if leaf.KeyUsage != wantKU {
				t.Errorf("key usage = %v, want %v", leaf.KeyUsage, wantKU)
			}
			if want := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}; !reflect.DeepEqual(leaf.ExtKeyUsage, want) {
				t.Errorf("ext key usage = %v", leaf.ExtKeyUsage)
			}
			if !leaf.BasicConstraintsValid || leaf.IsCA {
				t.Errorf("basic constraints: valid %v CA %v", leaf.BasicConstraintsValid, leaf.IsCA)
			}
			if !bytes.Equal(leaf.SubjectKeyId, spkiSHA1(t, key.Public())) {
				t.Errorf("SKI is not the SHA-1 of the public key")
			}
			if len(ca.SubjectKeyId) == 0 || !bytes.Equal(leaf.AuthorityKeyId, ca.SubjectKeyId) {
				t.Errorf("AKI %x, CA SKI %x", leaf.AuthorityKeyId, ca.SubjectKeyId)
			}
			if !reflect.DeepEqual(leaf.CRLDistributionPoints, []string{crlURL}) {
				t.Errorf("CRL distribution points = %v", leaf.CRLDistributionPoints)
			}
			if !leaf.NotBefore.Equal(t0.Add(-time.Minute)) || !leaf.NotAfter.Equal(t0.Add(90*day)) {
				t.Errorf("validity %s to %s, want the 90-day default", leaf.NotBefore, leaf.NotAfter)
			}
		})
	}
}

func TestIssueNames(t *testing.T) {
	iss := testIssuer(t0)
	cfg := provisioned(t, iss, plugin.Config{fieldCAKeyType: "ecdsa-p256"})
	csr := makeCSR(t, testKey(t, "ecdsa-p256"), "x")
	tests := []struct {
		name    string
		cn      string
		sans    []string
		profile string
		dns     []string
		ips     []string
		emails  []string
	}{
		{"CN already a SAN keeps SAN order", "b.example.com", []string{"a.example.com", "B.example.com"}, "",
			[]string{"a.example.com", "B.example.com"}, nil, nil},
		{"duplicates dropped", "a.example.com", []string{"a.example.com", "10.0.0.1", "10.0.0.1", "::ffff:10.0.0.1"}, "",
			[]string{"a.example.com"}, []string{"10.0.0.1"}, nil},
		{"IP common name", "10.1.2.3", nil, "", nil, []string{"10.1.2.3"}, nil},
		{"wildcard", "*.apps.example.com", nil, "", []string{"*.apps.example.com"}, nil, nil},
		{"no CN, SANs only", "", []string{"svc.internal"}, "", []string{"svc.internal"}, nil, nil},
		{"client with a person's name", "Alice Example", []string{"alice@example.com"}, "client",
			nil, nil, []string{"alice@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			leaf, _ := issue(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: tt.cn, SANs: tt.sans, Profile: tt.profile})
			if leaf.Subject.CommonName != tt.cn {
				t.Errorf("CN = %q", leaf.Subject.CommonName)
			}
			if !slices.Equal(leaf.DNSNames, tt.dns) {
				t.Errorf("DNS = %v, want %v", leaf.DNSNames, tt.dns)
			}
			var ips []string
			for _, ip := range leaf.IPAddresses {
				ips = append(ips, ip.String())
			}
			if !slices.Equal(ips, tt.ips) {
				t.Errorf("IPs = %v, want %v", ips, tt.ips)
			}
			if !slices.Equal(leaf.EmailAddresses, tt.emails) {
				t.Errorf("e-mails = %v, want %v", leaf.EmailAddresses, tt.emails)
			}
		})
	}
}

func TestIssueProfiles(t *testing.T) {
	iss := testIssuer(t0)
	cfg := provisioned(t, iss, plugin.Config{fieldCAKeyType: "ecdsa-p256"})
	ca := parseCertPEM(t, cfg.String(fieldCACert))[0]
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	csr := makeCSR(t, testKey(t, "ed25519"), "svc.example.com")
	for _, tt := range []struct {
		profile string
		want    []x509.ExtKeyUsage
	}{
		{"", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		{"server", []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}},
		{"client", []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}},
	} {
		t.Run("profile "+tt.profile, func(t *testing.T) {
			leaf, _ := issue(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: "svc.example.com", Profile: tt.profile})
			if !reflect.DeepEqual(leaf.ExtKeyUsage, tt.want) {
				t.Errorf("ext key usage = %v, want %v", leaf.ExtKeyUsage, tt.want)
			}
			for _, eku := range []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth} {
				_, err := leaf.Verify(x509.VerifyOptions{Roots: roots, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{eku}})
				if (err == nil) != slices.Contains(tt.want, eku) {
					t.Errorf("verify for %v: %v", eku, err)
				}
			}
		})
	}
}

func TestIssueValidity(t *testing.T) {
	csr := makeCSR(t, testKey(t, "ecdsa-p256"), "v.example.com")
	// The lifetime is the configuration's: requests carry none.
	tests := []struct {
		name   string
		cfg    plugin.Config
		now    time.Time // when issuing; the CA is made at t0
		want   time.Duration
		wantAt time.Time // NotAfter when it is not now+want
	}{
		{"default", plugin.Config{}, t0, 90 * day, time.Time{}},
		{"configured", plugin.Config{fieldValidity: "10d", fieldMaxValidity: "20d"}, t0, 10 * day, time.Time{}},
		{"configured at the cap", plugin.Config{fieldValidity: "20d", fieldMaxValidity: "20d"}, t0, 20 * day, time.Time{}},
		{"short lifetime", plugin.Config{fieldValidity: "2h"}, t0, 2 * time.Hour, time.Time{}},
		{"capped by the CA", plugin.Config{fieldCAValidity: "100d"}, t0.Add(30 * day), 0, t0.Add(100 * day)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := provisioned(t, testIssuer(t0), tt.cfg)
			leaf, _ := issue(t, testIssuer(tt.now), plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: "v.example.com"})
			want := tt.wantAt
			if want.IsZero() {
				want = tt.now.Add(tt.want)
			}
			if !leaf.NotAfter.Equal(want) {
				t.Errorf("NotAfter = %s, want %s", leaf.NotAfter, want)
			}
			if !leaf.NotBefore.Equal(tt.now.Add(-time.Minute)) {
				t.Errorf("NotBefore = %s, want a minute before %s", leaf.NotBefore, tt.now)
			}
		})
	}
}

func TestIssueSerials(t *testing.T) {
	iss := testIssuer(t0)
	cfg := provisioned(t, iss, plugin.Config{fieldCAKeyType: "ecdsa-p256"})
	csr := makeCSR(t, testKey(t, "ecdsa-p256"), "s.example.com")
	seen := map[string]bool{}
	for range 32 {
		leaf, _ := issue(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: "s.example.com"})
		if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() <= 64 {
			t.Errorf("serial %x has %d bits", leaf.SerialNumber, leaf.SerialNumber.BitLen())
		}
		if seen[leaf.SerialNumber.String()] {
			t.Errorf("serial %x issued twice", leaf.SerialNumber)
		}
		seen[leaf.SerialNumber.String()] = true
	}
}

func TestIssueRefusals(t *testing.T) {
	iss := testIssuer(t0)
	cfg := provisioned(t, iss, plugin.Config{fieldCAKeyType: "ecdsa-p256"})
	policy := cfg.Clone()
	policy[fieldAllowedDomains] = []any{"example.com", "corp.internal"}
	good := makeCSR(t, testKey(t, "ecdsa-p256"), "a.example.com")
	broken := bytes.Clone(good)
	broken[len(broken)-1] ^= 0xff // the last byte of the signature

	tests := []struct {
		name  string
		req   plugin.IssueRequest
		code  string
		field string
	}{
		{"garbage CSR", plugin.IssueRequest{Config: cfg, CSR: []byte("not a CSR"), CommonName: "a.example.com"}, plugin.CodeInvalidInput, ""},
		{"empty CSR", plugin.IssueRequest{Config: cfg, CommonName: "a.example.com"}, plugin.CodeInvalidInput, ""},
		{"broken signature", plugin.IssueRequest{Config: cfg, CSR: broken, CommonName: "a.example.com"}, plugin.CodeInvalidInput, ""},
		{"RSA-1024", plugin.IssueRequest{Config: cfg, CSR: makeCSR(t, testKey(t, "rsa-1024"), "a"), CommonName: "a.example.com"}, plugin.CodeInvalidInput, ""},
		{"P-224", plugin.IssueRequest{Config: cfg, CSR: makeCSR(t, testKey(t, "ecdsa-p224"), "a"), CommonName: "a.example.com"}, plugin.CodeInvalidInput, ""},
		{"P-521", plugin.IssueRequest{Config: cfg, CSR: makeCSR(t, testKey(t, "ecdsa-p521"), "a"), CommonName: "a.example.com"}, plugin.CodeInvalidInput, ""},
		{"unknown profile", plugin.IssueRequest{Config: cfg, CSR: good, CommonName: "a.example.com", Profile: "codesigning"}, plugin.CodeInvalidInput, ""},
		{"no names", plugin.IssueRequest{Config: cfg, CSR: good}, plugin.CodeInvalidInput, ""},
		{"bad SAN", plugin.IssueRequest{Config: cfg, CSR: good, CommonName: "a.example.com", SANs: []string{"not a name"}}, plugin.CodeInvalidInput, ""},
		{"non-ASCII SAN", plugin.IssueRequest{Config: cfg, CSR: good, CommonName: "a.example.com", SANs: []string{"bücher.example"}}, plugin.CodeInvalidInput, ""},
		{"server CN not a name", plugin.IssueRequest{Config: cfg, CSR: good, CommonName: "My Web Server"}, plugin.CodeInvalidInput, ""},
		{"CN too long", plugin.IssueRequest{Config: cfg, CSR: good, CommonName: "a-very-long-label-that-goes-on-and-on.and-on-and-on.example.com.example.com"}, plugin.CodeInvalidInput, ""},
		{"policy: SAN outside", plugin.IssueRequest{Config: policy, CSR: good, CommonName: "a.example.com", SANs: []string{"evil.com"}}, plugin.CodeInvalidInput, ""},
		{"policy: CN outside", plugin.IssueRequest{Config: policy, CSR: good, CommonName: "example.org"}, plugin.CodeInvalidInput, ""},
		{"policy: suffix is not a subdomain", plugin.IssueRequest{Config: policy, CSR: good, CommonName: "notexample.com"}, plugin.CodeInvalidInput, ""},
		{"policy: IP SAN", plugin.IssueRequest{Config: policy, CSR: good, CommonName: "a.example.com", SANs: []string{"10.0.0.1"}}, plugin.CodeInvalidInput, ""},
		{"policy: e-mail SAN", plugin.IssueRequest{Config: policy, CSR: good, CommonName: "a.example.com", SANs: []string{"a@example.com"}}, plugin.CodeInvalidInput, ""},
		{"policy: URI SAN", plugin.IssueRequest{Config: policy, CSR: good, CommonName: "a.example.com", SANs: []string{"https://example.com/"}}, plugin.CodeInvalidInput, ""},
		{"policy: client name", plugin.IssueRequest{Config: policy, CSR: good, CommonName: "Alice", Profile: "client"}, plugin.CodeInvalidInput, ""},
		{"missing CA", plugin.IssueRequest{Config: plugin.Config{}, CSR: good, CommonName: "a.example.com"}, plugin.CodeInvalidConfig, fieldCACert},
		{"half a CA", plugin.IssueRequest{Config: plugin.Config{fieldCACert: cfg[fieldCACert]}, CSR: good, CommonName: "a.example.com"}, plugin.CodeInvalidConfig, fieldCAKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := iss.IssueCertificate(context.Background(), tt.req)
			wantCode(t, err, tt.code, tt.field)
			_, err = iss.RenewCertificate(context.Background(), plugin.RenewRequest{IssueRequest: tt.req})
			wantCode(t, err, tt.code, tt.field)
		})
	}

	t.Run("expired CA", func(t *testing.T) {
		_, err := testIssuer(t0.Add(3651*day)).IssueCertificate(context.Background(),
			plugin.IssueRequest{Config: cfg, CSR: good, CommonName: "a.example.com"})
		wantCode(t, err, plugin.CodeInvalidConfig, fieldCACert)
	})
	t.Run("policy allows its domains", func(t *testing.T) {
		leaf, _ := issue(t, iss, plugin.IssueRequest{Config: policy, CSR: good, CommonName: "example.com",
			SANs: []string{"deep.sub.example.com", "*.example.com", "Host.Corp.Internal"}})
		if len(leaf.DNSNames) != 4 {
			t.Errorf("DNS names = %v", leaf.DNSNames)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := iss.IssueCertificate(ctx, plugin.IssueRequest{Config: cfg, CSR: good, CommonName: "a.example.com"})
		wantCode(t, err, plugin.CodeCanceled, "")
	})
}

func TestSubCA(t *testing.T) {
	rootKey, midKey, subKey := testKey(t, "rsa-3072"), testKey(t, "ecdsa-p384"), testKey(t, "ecdsa-p256")
	root := makeCA(t, caSpec{cn: "Enterprise Root", key: rootKey})
	mid := makeCA(t, caSpec{cn: "Enterprise Issuing", key: midKey, parent: root, parentKey: rootKey})
	sub := makeCA(t, caSpec{cn: "certctl Sub", key: subKey, parent: mid, parentKey: midKey})
	cfg := plugin.Config{
		fieldCACert:  certPEM(sub),
		fieldCAKey:   keyPEM(t, subKey),
		fieldCAChain: certPEM(mid) + "\n" + certPEM(root),
		fieldCRLURL:  crlURL,
	}
	iss := testIssuer(t0)
	if out := provisioned(t, iss, cfg); !reflect.DeepEqual(out, cfg) {
		t.Fatalf("Provision changed a sub-CA configuration")
	}
	leaf, chain := issue(t, iss, plugin.IssueRequest{Config: cfg, CSR: makeCSR(t, testKey(t, "rsa-2048"), "x"),
		CommonName: "app.corp.example"})
	if len(chain) != 3 || !chain[0].Equal(sub) || !chain[1].Equal(mid) || !chain[2].Equal(root) {
		t.Fatalf("chain is not sub-CA, intermediate, root: %d certificates", len(chain))
	}
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(root)
	intermediates.AddCert(sub)
	intermediates.AddCert(mid)
	paths, err := leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: intermediates, CurrentTime: t0,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, DNSName: "app.corp.example"})
	if err != nil {
		t.Fatalf("leaf does not verify up to the root: %v", err)
	}
	if p := paths[0]; len(p) != 4 || !p[1].Equal(sub) || !p[3].Equal(root) {
		t.Errorf("path does not run through the sub-CA")
	}
	if !bytes.Equal(leaf.AuthorityKeyId, sub.SubjectKeyId) {
		t.Errorf("AKI is not the sub-CA's SKI")
	}

	// The CA key may come in the SEC 1 encoding too.
	t.Run("SEC 1 key", func(t *testing.T) {
		der, err := x509.MarshalECPrivateKey(subKey.(*ecdsa.PrivateKey))
		if err != nil {
			t.Fatal(err)
		}
		c := cfg.Clone()
		c[fieldCAKey] = string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
		if err := iss.ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: c}); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("chain out of order", func(t *testing.T) {
		c := cfg.Clone()
		c[fieldCAChain] = certPEM(root) + certPEM(mid)
		wantCode(t, iss.ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: c}), plugin.CodeInvalidConfig, fieldCAChain)
	})
	t.Run("chain missing a link", func(t *testing.T) {
		c := cfg.Clone()
		c[fieldCAChain] = certPEM(root)
		wantCode(t, iss.ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: c}), plugin.CodeInvalidConfig, fieldCAChain)
	})
	t.Run("leaf capped by the chain", func(t *testing.T) {
		long := makeCA(t, caSpec{cn: "Long Sub", key: subKey, parent: mid, parentKey: midKey, notAfter: t0.Add(10 * 365 * day)})
		c := cfg.Clone()
		c[fieldCACert] = certPEM(long)
		c[fieldMaxValidity] = "3650d"
		c[fieldValidity] = "90d"
		now := mid.NotAfter.Add(-10 * day)
		leaf, _ := issue(t, testIssuer(now), plugin.IssueRequest{Config: c, CSR: makeCSR(t, subKey, "x"),
			CommonName: "x.example"})
		if !leaf.NotAfter.Equal(mid.NotAfter) {
			t.Errorf("NotAfter %s, want the intermediate's %s", leaf.NotAfter, mid.NotAfter)
		}
	})
	t.Run("intermediate expired", func(t *testing.T) {
		long := makeCA(t, caSpec{cn: "Long Sub", key: subKey, parent: mid, parentKey: midKey, notAfter: t0.Add(10 * 365 * day)})
		c := cfg.Clone()
		c[fieldCACert] = certPEM(long)
		_, err := testIssuer(t0.Add(6*365*day)).IssueCertificate(context.Background(),
			plugin.IssueRequest{Config: c, CSR: makeCSR(t, subKey, "x"), CommonName: "x.example"})
		wantCode(t, err, plugin.CodeInvalidConfig, fieldCAChain)
	})
}
