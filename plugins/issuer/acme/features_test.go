package main

import (
	"context"
	"crypto/x509"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/acmetest"
)

// TestRevoke revokes with a reason through the CA; revoking again
// succeeds (the revoke job may repeat a call that succeeded).
func TestRevoke(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{})
	iss := startPlugin(t).Issuer()
	cfg := provision(t, iss, baseConfig(p))
	_, res, leaf := issueName(t, iss, p, r, cfg, "revoke")
	serial := leaf.SerialNumber.Text(16)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	req := plugin.RevokeRequest{Config: cfg, SerialNumber: serial, Reason: plugin.ReasonKeyCompromise, CertificatePEM: res.CertificatePEM}
	if err := iss.RevokeCertificate(ctx, req); err != nil {
		t.Fatalf("RevokeCertificate: %v", err)
	}
	st, ok := p.CertStatus(t, serial)
	if !ok || st.Status != "Revoked" || st.Reason == nil || *st.Reason != plugin.ReasonKeyCompromise {
		t.Errorf("Pebble's status after revocation: %+v (known %v)", st, ok)
	}
	if err := iss.RevokeCertificate(ctx, req); err != nil {
		t.Errorf("revoking again: %v", err)
	}
	wrong := req
	wrong.SerialNumber = "abcdef"
	wantCode(t, iss.RevokeCertificate(ctx, wrong), plugin.CodeInvalidInput, "serial")
	noCert := req
	noCert.CertificatePEM = ""
	wantCode(t, iss.RevokeCertificate(ctx, noCert), plugin.CodeInvalidInput, "certificate")
}

// TestPreferredChain: Pebble offers a chain to a second root as an
// alternate; preferred_chain naming that root's common name picks it.
func TestPreferredChain(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{AlternateRoots: 1})
	alt := parseChain(t, p.RootPEM(t, 1))[0]
	iss := startPlugin(t).Issuer()
	cfg := baseConfig(p)
	cfg[fieldPreferredChain] = alt.Subject.CommonName
	cfg = provision(t, iss, cfg)
	name := uniqueName(t, "chain")
	key, csr := newCSR(t, name)
	res, err := drive(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: name}, driveOpts{r: r})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	verifyIssued(t, res, key, p.Roots(t, 1), name)
	chain := parseChain(t, res.ChainPEM)
	if top := chain[len(chain)-1]; top.Issuer.CommonName != alt.Subject.CommonName {
		t.Errorf("chain tops at %q, want the preferred %q", top.Issuer.CommonName, alt.Subject.CommonName)
	}
	leaf := parseChain(t, res.CertificatePEM)[0]
	inter := x509.NewCertPool()
	for _, c := range chain {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: p.Roots(t, 0), Intermediates: inter}); err == nil {
		t.Error("the chain also verifies to the default root: not the alternate chain")
	}
}

// TestResume kills the plugin process (SIGKILL) after it placed the order
// and the host presented the challenges, and a new process finishes the
// same order from the OrderID; then it kills a process between the
// CA's validation and finalization and the next one finalizes.
func TestResume(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{AuthzReusePercent: -1})
	first := startPlugin(t)
	cfg := provision(t, first.Issuer(), baseConfig(p))
	name := uniqueName(t, "resume")
	key, csr := newCSR(t, name)
	req := plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: name, IdempotencyKey: "resume-1"}
	pending, err := drive(t, first.Issuer(), req, driveOpts{r: r, stopWhen: func(plugin.IssueResult) bool { return true }})
	if err != nil || pending.Status != plugin.StatusPending || len(pending.Challenges) != 1 {
		t.Fatalf("first call: %+v, %v", pending, err)
	}
	if err := syscall.Kill(first.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	second := startPlugin(t)
	req.OrderID = pending.OrderID
	req.PresentedChallenges = []string{pending.Challenges[0].Token}
	res, err := drive(t, second.Issuer(), req, driveOpts{r: r})
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	verifyIssued(t, res, key, p.Roots(t, 0), name)
	if res.OrderID != pending.OrderID {
		t.Errorf("issued by order %s, want the first process's %s", res.OrderID, pending.OrderID)
	}

	// Killed once the CA validated, before finalization: the host asks
	// GetOrderStatus (pending: the order is ready, not issued), and the
	// next call finalizes with the CSR.
	name2 := uniqueName(t, "resume2")
	key2, csr2 := newCSR(t, name2)
	req2 := plugin.IssueRequest{Config: cfg, CSR: csr2, CommonName: name2}
	third := startPlugin(t)
	pending2, err := drive(t, third.Issuer(), req2, driveOpts{r: r, stopWhen: func(plugin.IssueResult) bool { return true }})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Accept the challenge with a call that answers right after (no time
	// to wait for validation), then kill.
	short := cfg.Clone()
	short[fieldValidationTimeout] = "1ms"
	req2.Config, req2.OrderID, req2.PresentedChallenges = short, pending2.OrderID, []string{pending2.Challenges[0].Token}
	accepted, err := third.Issuer().IssueCertificate(ctx, req2)
	if err != nil || accepted.Status != plugin.StatusPending || len(accepted.Challenges) != 0 {
		t.Fatalf("accepting call: %+v, %v; want pending, nothing more to present", accepted, err)
	}
	if err := syscall.Kill(third.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	fourth := startPlugin(t).Issuer()
	req2.Config = cfg
	res2, err := drive(t, fourth, req2, driveOpts{r: r})
	if err != nil {
		t.Fatalf("resume before finalization: %v", err)
	}
	verifyIssued(t, res2, key2, p.Roots(t, 0), name2)
	if res2.OrderID != pending2.OrderID {
		t.Errorf("issued by order %s, want %s", res2.OrderID, pending2.OrderID)
	}
}

// TestRenewReplaces renews through ARI: the new order names the
// certificate it replaces, and the renewal window the CA sets is
// reported. A second renewal of the same certificate is refused as a
// replacement by the CA (already replaced, as after a crash) and goes
// through as a plain order.
func TestRenewReplaces(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{})
	var log logBuffer
	iss := startPluginLogging(t, &log).Issuer()
	cfg := provision(t, iss, baseConfig(p))
	name, res, _ := issueName(t, iss, p, r, cfg, "renew")

	renew := func() plugin.IssueResult {
		t.Helper()
		key, csr := newCSR(t, name)
		ctx, cancel := context.WithTimeout(context.Background(), testDeadline)
		defer cancel()
		req := plugin.RenewRequest{IssueRequest: plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: name},
			PreviousCertificatePEM: res.CertificatePEM}
		out, err := iss.RenewCertificate(ctx, req)
		// Pebble reuses valid authorizations half the time; otherwise
		// the renewal continues as an issuance of the same order.
		if err == nil && out.Status == plugin.StatusPending {
			for _, ch := range out.Challenges {
				r.present(ch)
			}
			req2 := req.IssueRequest
			req2.OrderID = out.OrderID
			for _, ch := range out.Challenges {
				req2.PresentedChallenges = append(req2.PresentedChallenges, ch.Token)
			}
			out, err = drive(t, iss, req2, driveOpts{r: r})
		}
		if err != nil {
			t.Fatalf("renew: %v", err)
		}
		verifyIssued(t, out, key, p.Roots(t, 0), name)
		return out
	}
	renew()
	if strings.Contains(log.String(), "refused the order as a replacement") {
		t.Fatalf("the first renewal was refused as a replacement:\n%s", log.String())
	}
	renew()
	if !strings.Contains(log.String(), "refused the order as a replacement") {
		t.Errorf("the second renewal of the same certificate was not refused as a replacement: was replaces sent?\n%s", log.String())
	}

	// The renewal window is the CA's.
	start, end := time.Now().Add(48*time.Hour).Truncate(time.Second), time.Now().Add(72*time.Hour).Truncate(time.Second)
	p.SetRenewalInfo(t, res.CertificatePEM, start, end)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := iss.GetOrderStatus(ctx, plugin.OrderStatusRequest{Config: cfg, OrderID: res.OrderID})
	if err != nil {
		t.Fatal(err)
	}
	if !st.RenewalWindowStart.Equal(start) || !st.RenewalWindowEnd.Equal(end) {
		t.Errorf("renewal window %s..%s, want the CA's %s..%s", st.RenewalWindowStart, st.RenewalWindowEnd, start, end)
	}
}

// TestBadNonces: Pebble rejects a third of good nonces with badNonce; the
// plugin retries them and issues anyway.
func TestBadNonces(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{NonceRejectPercent: 30})
	iss := startPlugin(t).Issuer()
	cfg := provision(t, iss, baseConfig(p))
	for range 3 {
		issueName(t, iss, p, r, cfg, "nonce")
	}
}

// TestProfile orders with the configured profile, and a request's own
// profile wins; a profile the CA does not offer is a configuration error.
func TestProfile(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{})
	iss := startPlugin(t).Issuer()
	cfg := baseConfig(p)
	cfg[fieldProfile] = "shortlived"
	cfg = provision(t, iss, cfg)
	name, _, leaf := issueName(t, iss, p, r, cfg, "profile")
	if life := leaf.NotAfter.Sub(leaf.NotBefore); life > 7*24*time.Hour {
		t.Errorf("lifetime %s, want the shortlived profile's 6 days", life)
	}
	key, csr := newCSR(t, name)
	res, err := drive(t, iss, plugin.IssueRequest{Config: cfg, CSR: csr, CommonName: name, Profile: "default"}, driveOpts{r: r})
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	if leaf := verifyIssued(t, res, key, p.Roots(t, 0), name); leaf.NotAfter.Sub(leaf.NotBefore) < 80*24*time.Hour {
		t.Errorf("lifetime %s, want the default profile's 90 days", leaf.NotAfter.Sub(leaf.NotBefore))
	}
	bad := cfg.Clone()
	bad[fieldProfile] = "nonesuch"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = iss.IssueCertificate(ctx, plugin.IssueRequest{Config: bad, CSR: csr, CommonName: name})
	if pe := wantCode(t, err, plugin.CodeInvalidConfig, "nonesuch", "shortlived"); pe.Field != fieldProfile {
		t.Errorf("field %q", pe.Field)
	}
}

// TestAccountKeyTypes registers accounts with the other key types users
// may bring (ECDSA P-384, RSA 2048) and issues with each: the requests the
// plugin signs itself (new orders) use the key's algorithm.
func TestAccountKeyTypes(t *testing.T) {
	p, r := startPebble(t, acmetest.PebbleOptions{})
	iss := startPlugin(t).Issuer()
	for _, kt := range []string{"ecdsa-p384", "rsa-2048"} {
		t.Run(kt, func(t *testing.T) {
			k, err := keys.Generate(kt)
			if err != nil {
				t.Fatal(err)
			}
			keyPEM, err := keys.MarshalPEM(k)
			if err != nil {
				t.Fatal(err)
			}
			cfg := baseConfig(p)
			cfg[fieldAccountKey] = string(keyPEM)
			cfg = provision(t, iss, cfg)
			if cfg.String(fieldAccountKey) != string(keyPEM) {
				t.Error("Provision replaced the account key it was given")
			}
			issueName(t, iss, p, r, cfg, "acct")
		})
	}
}
