package agent_test

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/agent"
	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/acmetest"
)

// The ACME issuer against Pebble, with HTTP-01 presented by the agent
// through NGINX's webroot: Pebble validates the name by fetching the
// challenge from NGINX (Pebble's HTTP-01 port is NGINX's plain HTTP port,
// and its DNS answers 127.0.0.1 for every name), the certificate is made
// from the agent's CSR (the key never leaves the agent), deployed to
// NGINX, served, and its chain verifies against Pebble's root; the
// challenge files are gone afterwards. A renewal orders again.
func TestHTTP01WithPebbleThroughNginx(t *testing.T) {
	s := startHTTP01Setup(t, serverPlugins(t, "issuer/acme"), func(c *agent.Config, site nginxSite) {
		c.HTTP01Webroot = site.webroot
	})
	_, port, err := net.SplitHostPort(s.site.httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	httpPort, _ := strconv.Atoi(port)
	pebble := acmetest.StartPebble(t, acmetest.PebbleOptions{HTTPPort: httpPort, AuthzReusePercent: -1})

	s.createACMEIssuer(t, pebble)
	name, san := uniqueName(), "api-"+uniqueName()
	cert := s.createCertificate(t, name, san) // two names: two challenges presented at once

	first := s.waitServed(t, cert.ID, "", 2*time.Minute)
	leaf := verifyVersion(t, first, pebble.Roots(t, 0), name)
	verifyVersion(t, first, pebble.Roots(t, 0), san)
	if st, ok := pebble.CertStatus(t, leaf.SerialNumber.Text(16)); !ok || st.Status != "Valid" {
		t.Errorf("Pebble's status of the served certificate: %+v %v", st, ok)
	}
	s.checkCleanedUp(t)
	fetches := func() int {
		log, _ := os.ReadFile(s.site.accessLog)
		if strings.Contains(string(log), "\" 404 ") {
			t.Errorf("nginx answered a challenge request with 404:\n%s", log)
		}
		return strings.Count(string(log), "GET /.well-known/acme-challenge/")
	}
	n := fetches()
	if n < 2 {
		t.Fatalf("Pebble fetched %d challenges from nginx, want one for each name", n)
	}

	s.env.MustDo(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", s.env.AdminKey, nil, 202)
	second := s.waitServed(t, cert.ID, first.SerialNumber, 2*time.Minute)
	verifyVersion(t, second, pebble.Roots(t, 0), name)
	s.checkCleanedUp(t)
	if m := fetches(); m <= n {
		t.Errorf("the renewal was not validated through nginx: %d challenge fetches before, %d after", n, m)
	}
}

// On a host where nothing serves port 80 the agent's own listener answers
// Pebble (Pebble's HTTP-01 port is the listener's), and closes once the
// order is done.
func TestHTTP01WithPebbleThroughAgentListener(t *testing.T) {
	listenPort := acmetest.FreePort(t)
	listen := "127.0.0.1:" + strconv.Itoa(listenPort)
	s := startHTTP01Setup(t, serverPlugins(t, "issuer/acme"), func(c *agent.Config, _ nginxSite) {
		c.HTTP01Listen = listen
	})
	pebble := acmetest.StartPebble(t, acmetest.PebbleOptions{HTTPPort: listenPort, AuthzReusePercent: -1})
	s.createACMEIssuer(t, pebble)
	name := uniqueName()
	cert := s.createCertificate(t, name)
	v := s.waitServed(t, cert.ID, "", 2*time.Minute)
	verifyVersion(t, v, pebble.Roots(t, 0), name)
	if !strings.Contains(s.agentLogs.String(), "HTTP-01 challenge fetched") {
		t.Errorf("Pebble did not fetch the challenge from the agent's listener:\n%s", s.agentLogs.String())
	}
	eventually(t, s.env, "the listener to close", func() bool {
		c, err := net.DialTimeout("tcp", listen, 5*time.Second)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
}

// The certctl-agent binary killed (SIGKILL) after it reported the
// challenge and before the ACME plugin asked Pebble to validate it: started
// again, it serves the challenge again (through NGINX's webroot, its file
// rewritten; through its listener, reopened), Pebble validates it, and the
// order completes.
func TestHTTP01WithPebbleAgentKilledMidOrder(t *testing.T) {
	t.Run("webroot", func(t *testing.T) { testRestartMidOrder(t, syscall.SIGKILL, false, true) })
	t.Run("listener", func(t *testing.T) { testRestartMidOrder(t, syscall.SIGKILL, true, true) })
}

// createACMEIssuer makes an ACME issuer on pebble whose HTTP-01
// challenges the certificate's agent presents.
func (s *http01Setup) createACMEIssuer(t *testing.T, pebble *acmetest.Pebble) {
	t.Helper()
	var iss api.Issuer
	s.env.MustDo(t, "POST", "/api/v1/issuers", s.env.AdminKey, api.IssuerRequest{Name: "pebble", Type: "acme",
		Config: map[string]any{"directory_url": pebble.DirectoryURL, "ca_bundle": pebble.CABundlePEM, "agree_tos": true,
			"email": "admin@example.com", "http01_solver": "agent", "validation_timeout": "20s"}}, 201).Decode(t, &iss)
	s.issuerID = iss.ID
}

// uniqueName is a DNS name no earlier order of this Pebble's account has
// validated (Pebble's DNS answers 127.0.0.1 for every name).
func uniqueName() string {
	return fmt.Sprintf("www-%d.example.com", time.Now().UnixNano()%1e9)
}
