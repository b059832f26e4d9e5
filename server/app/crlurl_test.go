package app_test

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/certctl/certctl/server/pgtest"
)

// A local CA created through the API without crl_url gets the CRL this
// server serves for it as its distribution point, in the certificates it
// issues; the server's public URL comes from its configuration.
func TestLocalIssuerGetsDefaultCRLURL(t *testing.T) {
	s := start(t, map[string]string{"CERTCTL_DATABASE_URL": pgtest.NewDatabase(t), "CERTCTL_DATA_DIR": t.TempDir(),
		"CERTCTL_PUBLIC_URL": "https://certctl.example.test/"})
	key := s.key()

	iss := call(t, s.addr, "POST", "/api/v1/issuers", key, `{"name":"team-ca","type":"local","config":{"ca_key_type":"ecdsa-p256"}}`, 201)
	want := "https://certctl.example.test/crl/team-ca.crl"
	if got := iss["config"].(map[string]any)["crl_url"]; got != want {
		t.Errorf("crl_url of a new local issuer = %v, want %s", got, want)
	}
	explicit := call(t, s.addr, "POST", "/api/v1/issuers", key,
		`{"name":"own-crl","type":"local","config":{"ca_key_type":"ecdsa-p256","crl_url":"http://crl.example.test/own.crl"}}`, 201)
	if got := explicit["config"].(map[string]any)["crl_url"]; got != "http://crl.example.test/own.crl" {
		t.Errorf("an explicit crl_url became %v", got)
	}
	none := call(t, s.addr, "POST", "/api/v1/issuers", key, `{"name":"no-crl","type":"local","config":{"crl_url":""}}`, 201)
	if got := none["config"].(map[string]any)["crl_url"]; got != "" && got != nil {
		t.Errorf(`crl_url "" (none) became %v`, got)
	}

	cert := call(t, s.addr, "POST", "/api/v1/certificates", key,
		fmt.Sprintf(`{"name":"www","common_name":"www.example.com","issuer_id":%q}`, iss["id"]), 201)
	path := fmt.Sprintf("/api/v1/certificates/%s/versions", cert["id"])
	var versions []any
	for deadline := time.Now().Add(time.Minute); len(versions) == 0; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the certificate was not issued within a minute")
		}
		versions, _ = call(t, s.addr, "GET", path, key, "", 200)["items"].([]any)
	}
	block, _ := pem.Decode([]byte(versions[0].(map[string]any)["certificate_pem"].(string)))
	if block == nil {
		t.Fatal("the version has no PEM certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(leaf.CRLDistributionPoints, []string{want}) {
		t.Errorf("CRL distribution points = %v, want [%s]", leaf.CRLDistributionPoints, want)
	}

	// The URL's path is where this server serves that issuer's CRL.
	resp, err := http.Get("http://" + s.addr + "/crl/team-ca.crl")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /crl/team-ca.crl: %d", resp.StatusCode)
	}
}
