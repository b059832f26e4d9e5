package acmetest

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestStartPebble starts Pebble with its DNS from pebble-challtestsrv and
// reads the directory and the roots through the CA bundle it gives.
func TestStartPebble(t *testing.T) {
	p := StartPebble(t, PebbleOptions{AlternateRoots: 1, EAB: map[string]string{"kid-1": "c2VjcmV0LWhtYWMta2V5LWZvci10ZXN0cw"}})
	resp, err := p.HTTPClient().Get(p.DirectoryURL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var dir struct {
		NewOrder string `json:"newOrder"`
		Meta     struct {
			ExternalAccountRequired bool              `json:"externalAccountRequired"`
			Profiles                map[string]string `json:"profiles"`
		} `json:"meta"`
		RenewalInfo string `json:"renewalInfo"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&dir); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("directory: %s %v", resp.Status, err)
	}
	if dir.NewOrder == "" || !dir.Meta.ExternalAccountRequired || len(dir.Meta.Profiles) != 2 || dir.RenewalInfo == "" {
		t.Errorf("directory = %+v", dir)
	}
	if p.RootPEM(t, 0) == p.RootPEM(t, 1) {
		t.Error("alternate root is the main root")
	}
	if p.Challtestsrv == nil || p.DNSServer != p.Challtestsrv.DNSAddr {
		t.Errorf("no challtestsrv for DNS: %+v", p)
	}
	if _, ok := p.CertStatus(t, "abcdef"); ok {
		t.Error("status of a serial never issued")
	}
}
