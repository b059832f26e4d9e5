// Tests of the plugin's description, Provision, ValidateConfig and the
// calls that keep no state (revoke, order status).

package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"reflect"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
)

func TestInfo(t *testing.T) {
	info, err := newIssuer().Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "local" || info.Kind != plugin.KindIssuer || info.Version != "1.0.0" || info.Description == "" {
		t.Errorf("info = %+v", info)
	}
	if err := info.Schema.Check(); err != nil {
		t.Fatal(err)
	}
	if got := info.Schema.SensitiveFields(); !reflect.DeepEqual(got, []string{fieldCAKey}) {
		t.Errorf("sensitive fields = %v, want only %s", got, fieldCAKey)
	}
	cfg, err := info.Schema.Normalize(plugin.Config{})
	if err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]any{
		fieldCommonName: "certctl local CA", fieldOrganization: "certctl", fieldCAKeyType: "ecdsa-p256",
		fieldCAValidity: "3650d", fieldValidity: "90d", fieldMaxValidity: "397d",
	} {
		if cfg[field] != want {
			t.Errorf("default %s = %v, want %v", field, cfg[field], want)
		}
	}
}

// spkiSHA1 is the RFC 5280 method-1 key identifier, computed independently
// of subjectKeyID.
func spkiSHA1(t *testing.T, pub crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	var spki struct {
		Algorithm pkix.AlgorithmIdentifier
		PublicKey asn1.BitString
	}
	if _, err := asn1.Unmarshal(der, &spki); err != nil {
		t.Fatal(err)
	}
	sum := sha1.Sum(spki.PublicKey.Bytes)
	return sum[:]
}

func TestProvisionGeneratesCA(t *testing.T) {
	for _, kt := range keyTypes {
		t.Run(kt, func(t *testing.T) {
			t.Parallel()
			iss := testIssuer(t0)
			in := plugin.Config{fieldCAKeyType: kt, fieldCommonName: "Example CA", fieldOrganization: "Example Ltd"}
			cfg := provisioned(t, iss, in)
			if len(in) != 3 {
				t.Errorf("Provision changed its argument: %v", in)
			}
			for k, v := range in {
				if cfg[k] != v {
					t.Errorf("Provision lost %s: %v", k, cfg[k])
				}
			}
			ca := parseCertPEM(t, cfg.String(fieldCACert))[0]
			if err := ca.CheckSignatureFrom(ca); err != nil {
				t.Errorf("CA not self-signed: %v", err)
			}
			if !ca.BasicConstraintsValid || !ca.IsCA || ca.MaxPathLen != 0 || !ca.MaxPathLenZero {
				t.Errorf("basic constraints: valid %v CA %v maxpathlen %d zero %v",
					ca.BasicConstraintsValid, ca.IsCA, ca.MaxPathLen, ca.MaxPathLenZero)
			}
			if want := x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature; ca.KeyUsage != want {
				t.Errorf("key usage = %v, want %v", ca.KeyUsage, want)
			}
			if !bytes.Equal(ca.SubjectKeyId, spkiSHA1(t, ca.PublicKey)) {
				t.Errorf("SKI is not the SHA-1 of the public key")
			}
			if ca.Subject.CommonName != "Example CA" || !reflect.DeepEqual(ca.Subject.Organization, []string{"Example Ltd"}) {
				t.Errorf("subject = %v", ca.Subject)
			}
			if !ca.NotBefore.Equal(t0.Add(-clockSkew)) || !ca.NotAfter.Equal(t0.Add(3650*day)) {
				t.Errorf("validity %s to %s", ca.NotBefore, ca.NotAfter)
			}
			if ca.SerialNumber.BitLen() <= 64 {
				t.Errorf("serial has %d bits", ca.SerialNumber.BitLen())
			}
			if got, err := leafKeyType(ca.PublicKey); err != nil || got != kt {
				t.Errorf("CA key type = %q (%v), want %s", got, err, kt)
			}
			key, err := parsePrivateKey(cfg.String(fieldCAKey))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains([]byte(cfg.String(fieldCAKey)), []byte("BEGIN PRIVATE KEY")) {
				t.Errorf("key is not PKCS#8 PEM")
			}
			if !key.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(ca.PublicKey) {
				t.Errorf("key does not match certificate")
			}
			if err := iss.ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: cfg}); err != nil {
				t.Errorf("ValidateConfig of a provisioned config: %v", err)
			}
			// Provisioning again never replaces the CA.
			again := provisioned(t, iss, cfg)
			if !reflect.DeepEqual(again, cfg) {
				t.Errorf("re-provisioning changed the configuration")
			}
			// The CA signs with its key type.
			res, err := iss.IssueCertificate(context.Background(), plugin.IssueRequest{
				Config: cfg, CSR: makeCSR(t, testKey(t, "ecdsa-p256"), "a.example.com"), CommonName: "a.example.com",
			})
			if err != nil {
				t.Fatal(err)
			}
			leaf := parseCertPEM(t, res.CertificatePEM)[0]
			if err := leaf.CheckSignatureFrom(ca); err != nil {
				t.Errorf("leaf not signed by the CA: %v", err)
			}
		})
	}
}

func TestProvisionDefaults(t *testing.T) {
	cfg := provisioned(t, testIssuer(t0), plugin.Config{})
	ca := parseCertPEM(t, cfg.String(fieldCACert))[0]
	if kt, _ := leafKeyType(ca.PublicKey); kt != "ecdsa-p256" {
		t.Errorf("default CA key type = %s", kt)
	}
	if ca.Subject.CommonName != "certctl local CA" || !reflect.DeepEqual(ca.Subject.Organization, []string{"certctl"}) {
		t.Errorf("default subject = %v", ca.Subject)
	}
	if len(cfg) != 2 {
		t.Errorf("Provision stored more than the CA: %v", schema.Redact(cfg))
	}
}

func TestProvisionCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := testIssuer(t0).Provision(ctx, plugin.ProvisionRequest{Config: plugin.Config{fieldCAKeyType: "rsa-4096"}})
	wantCode(t, err, plugin.CodeCanceled, "")
}

func TestValidateConfig(t *testing.T) {
	rootKey, subKey, otherKey := testKey(t, "ecdsa-p384"), testKey(t, "ecdsa-p256"), testKey(t, "ed25519")
	root := makeCA(t, caSpec{cn: "Root", key: rootKey})
	sub := makeCA(t, caSpec{cn: "Sub", key: subKey, parent: root, parentKey: rootKey})
	otherRoot := makeCA(t, caSpec{cn: "Other Root", key: otherKey})
	subCfg := plugin.Config{fieldCACert: certPEM(sub), fieldCAKey: keyPEM(t, subKey), fieldCAChain: certPEM(root)}
	with := func(kv ...any) plugin.Config {
		c := subCfg.Clone()
		for i := 0; i < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		return c
	}
	selfSigned := func(s caSpec) plugin.Config {
		s.key = subKey
		return plugin.Config{fieldCACert: certPEM(makeCA(t, s)), fieldCAKey: keyPEM(t, subKey)}
	}

	tests := []struct {
		name  string
		cfg   plugin.Config
		field string // "" means valid
	}{
		{"no CA yet", plugin.Config{}, ""},
		{"sub-CA", subCfg, ""},
		{"self-signed CA given", plugin.Config{fieldCACert: certPEM(root), fieldCAKey: keyPEM(t, rootKey)}, ""},
		{"sub-CA without chain", plugin.Config{fieldCACert: certPEM(sub), fieldCAKey: keyPEM(t, subKey)}, ""},
		{"certificate without key", plugin.Config{fieldCACert: certPEM(root)}, fieldCAKey},
		{"key without certificate", plugin.Config{fieldCAKey: keyPEM(t, rootKey)}, fieldCACert},
		{"chain without CA", plugin.Config{fieldCAChain: certPEM(root)}, fieldCACert},
		{"key does not match", with(fieldCAKey, keyPEM(t, otherKey)), fieldCAKey},
		{"garbage key", with(fieldCAKey, "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), fieldCAKey},
		{"garbage certificate", with(fieldCACert, "not PEM"), fieldCACert},
		{"two certificates", with(fieldCACert, certPEM(sub)+certPEM(root)), fieldCACert},
		{"chain of another root", with(fieldCAChain, certPEM(otherRoot)), fieldCAChain},
		{"chain with a key in it", with(fieldCAChain, certPEM(root)+keyPEM(t, rootKey)), fieldCAChain},
		{"not a CA", selfSigned(caSpec{cn: "Leaf", notCA: true}), fieldCACert},
		{"no certSign usage", selfSigned(caSpec{cn: "No sign", keyUsage: x509.KeyUsageDigitalSignature}), fieldCACert},
		{"no SKI", selfSigned(caSpec{cn: "No SKI", noSKI: true}), fieldCACert},
		{"expired", selfSigned(caSpec{cn: "Old", notBefore: t0.Add(-800 * day), notAfter: t0.Add(-day)}), fieldCACert},
		{"not yet valid", selfSigned(caSpec{cn: "Future", notBefore: t0.Add(day)}), fieldCACert},
		{"CRL URL but no cRLSign", func() plugin.Config {
			c := selfSigned(caSpec{cn: "No CRL", keyUsage: x509.KeyUsageCertSign})
			c[fieldCRLURL] = "http://crl.example.com/ca.crl"
			return c
		}(), fieldCRLURL},
		{"RSA-1024 CA key", func() plugin.Config {
			k := testKey(t, "rsa-1024")
			return plugin.Config{fieldCACert: certPEM(makeCA(t, caSpec{cn: "Weak", key: k})), fieldCAKey: keyPEM(t, k)}
		}(), fieldCAKey},
		{"validity over max", plugin.Config{fieldValidity: "400d"}, fieldValidity},
		{"zero max validity", plugin.Config{fieldMaxValidity: "0s"}, fieldMaxValidity},
		{"bad duration", plugin.Config{fieldCAValidity: "ten years"}, fieldCAValidity},
		{"bad CRL URL", plugin.Config{fieldCRLURL: "crl.example.com"}, fieldCRLURL},
		{"wildcard allowed domain", plugin.Config{fieldAllowedDomains: []any{"*.example.com"}}, fieldAllowedDomains},
		{"unknown key type", plugin.Config{fieldCAKeyType: "dsa-1024"}, fieldCAKeyType},
		{"unknown field", plugin.Config{"colour": "blue"}, "colour"},
		{"empty CA name", plugin.Config{fieldCommonName: ""}, fieldCommonName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iss := testIssuer(t0)
			err := iss.ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: tt.cfg})
			if tt.field == "" {
				if err != nil {
					t.Fatalf("ValidateConfig: %v", err)
				}
				return
			}
			wantCode(t, err, plugin.CodeInvalidConfig, tt.field)
			// Provision refuses the same configurations and never
			// generates a CA over a broken one.
			_, err = iss.Provision(context.Background(), plugin.ProvisionRequest{Config: tt.cfg})
			wantCode(t, err, plugin.CodeInvalidConfig, tt.field)
		})
	}
}

func TestProvisionKeepsGivenCA(t *testing.T) {
	key := testKey(t, "ecdsa-p256")
	root := makeCA(t, caSpec{cn: "Given Root", key: key})
	cfg := plugin.Config{fieldCACert: certPEM(root), fieldCAKey: keyPEM(t, key), fieldCAKeyType: "rsa-4096"}
	out := provisioned(t, testIssuer(t0), cfg)
	if !reflect.DeepEqual(out, cfg) {
		t.Errorf("Provision changed a configuration that has a CA")
	}
}

func TestRevokeAndOrderStatus(t *testing.T) {
	iss := testIssuer(t0)
	ctx := context.Background()
	for _, tt := range []struct {
		serial string
		reason int
		code   string
	}{
		{"0a1b2c3d4e5f", 1, ""},
		{"0A:1B:2C", 0, ""},
		{"", 0, plugin.CodeInvalidInput},
		{"xyz", 0, plugin.CodeInvalidInput},
		{"-1f", 0, plugin.CodeInvalidInput},
		{"0", 0, plugin.CodeInvalidInput},
		{"ff", 7, plugin.CodeInvalidInput},
		{"ff", 11, plugin.CodeInvalidInput},
	} {
		err := iss.RevokeCertificate(ctx, plugin.RevokeRequest{SerialNumber: tt.serial, Reason: tt.reason})
		if plugin.ErrorCode(err) != tt.code {
			t.Errorf("revoke %q reason %d: %v, want code %q", tt.serial, tt.reason, err, tt.code)
		}
	}
	_, err := iss.GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: plugin.Config{}, OrderID: "order-1"})
	wantCode(t, err, plugin.CodeNotFound, "")
}
