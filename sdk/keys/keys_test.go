package keys

import (
	"crypto/x509"
	"testing"
)

func TestGenerateTypeOfAndCSR(t *testing.T) {
	for _, kt := range Types {
		if kt == "rsa-4096" || kt == "rsa-3072" {
			continue // slow; the same code path as rsa-2048
		}
		key, err := Generate(kt)
		if err != nil {
			t.Fatalf("%s: %v", kt, err)
		}
		if got := TypeOf(key.Public()); got != kt {
			t.Errorf("TypeOf(%s key) = %q", kt, got)
		}
		der, err := CSR("a.example.com", []string{"a.example.com", "192.0.2.1", "ops@example.com", "spiffe://x/y"}, key)
		if err != nil {
			t.Fatalf("%s CSR: %v", kt, err)
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil || csr.CheckSignature() != nil {
			t.Fatalf("%s CSR does not verify: %v", kt, err)
		}
		if len(csr.DNSNames) != 1 || len(csr.IPAddresses) != 1 || len(csr.EmailAddresses) != 1 || len(csr.URIs) != 1 {
			t.Errorf("%s CSR names: %v %v %v %v", kt, csr.DNSNames, csr.IPAddresses, csr.EmailAddresses, csr.URIs)
		}
		if pemKey, err := MarshalPEM(key); err != nil || len(pemKey) == 0 {
			t.Errorf("%s MarshalPEM: %v", kt, err)
		}
	}
	if _, err := Generate("dsa"); err == nil {
		t.Error("unknown key type accepted")
	}
}
