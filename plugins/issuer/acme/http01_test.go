package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/acmetest"
)

// TestHTTP01 issues through the plugin process with real HTTP-01
// validation, for two DNS names and an IP address (RFC 8738): the first call places the order and returns the challenges
// (with the configured solver), later calls accept the presented ones and
// finalize with the request's CSR; the chain verifies against Pebble's
// root and Pebble's renewal information is reported.
func TestHTTP01(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{AuthzReusePercent: -1})
	iss := startPlugin(t).Issuer()
	cfg := baseConfig(p)
	cfg[fieldHTTP01Solver] = plugin.SolverServer
	cfg = provision(t, iss, cfg)
	if cfg.String(fieldAccountKey) == "" || cfg.String(fieldAccountURL) == "" {
		t.Fatalf("Provision made no account: %v", schema().Redact(cfg))
	}

	cn, san := uniqueName(t, "www"), uniqueName(t, "api")
	key, csr := newCSR(t, cn, san, "127.0.0.1")
	var first plugin.IssueResult
	res, err := drive(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: cn, SANs: []string{san, "127.0.0.1"},
		IdempotencyKey: "k1"}, driveOpts{r: r, stopWhen: func(res plugin.IssueResult) bool {
		if first.OrderID == "" {
			first = res
		}
		return false
	}})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	if len(first.Challenges) != 3 || first.RetryAfter <= 0 {
		t.Errorf("first result: %d challenges, retry after %s; want 3 and a delay", len(first.Challenges), first.RetryAfter)
	}
	for _, ch := range first.Challenges {
		if ch.Solver != plugin.SolverServer || (ch.Identifier != cn && ch.Identifier != san && ch.Identifier != "127.0.0.1") {
			t.Errorf("challenge %+v: want solver server and one of the names", ch)
		}
	}
	leaf := verifyIssued(t, res, key, p.Roots(t, 0), cn, san, "127.0.0.1")
	if res.RenewalWindowStart.IsZero() || !res.RenewalWindowEnd.After(res.RenewalWindowStart) ||
		!res.RenewalWindowStart.After(leaf.NotBefore) || !res.RenewalWindowEnd.Before(leaf.NotAfter) {
		t.Errorf("renewal window %s..%s for a certificate valid %s..%s", res.RenewalWindowStart, res.RenewalWindowEnd,
			leaf.NotBefore, leaf.NotAfter)
	}
	if st, ok := p.CertStatus(t, leaf.SerialNumber.Text(16)); !ok || st.Status != "Valid" {
		t.Errorf("Pebble's status of the certificate: %+v %v", st, ok)
	}

	// The order, once issued, is what GetOrderStatus reports, certificate
	// included: the host resumes with it after a crash.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := iss.GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: cfg, OrderID: first.OrderID})
	if err != nil || st.Status != plugin.StatusIssued || st.CertificatePEM != res.CertificatePEM {
		t.Errorf("GetOrderStatus of the issued order: %v, status %q, same certificate %v", err, st.Status,
			st.CertificatePEM == res.CertificatePEM)
	}
	// An order the CA does not know is not_found.
	unknown := strings.Replace(first.OrderID, "/my-order/", "/my-order/x", 1)
	_, err = iss.GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: cfg, OrderID: unknown})
	wantCode(t, err, plugin.CodeNotFound, unknown)
}
