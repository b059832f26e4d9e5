// Command issuer-http01 is a test issuer for the agent's HTTP-01 tests: it
// asks for an HTTP-01 challenge per DNS name, presented by the agent
// (solver "agent"), and once the host says the challenges are presented it
// fetches each with a real HTTP GET, as an ACME CA would, from the
// configured validation_address with the name as Host. When every response
// is the key authorization it issues from a CA it makes in memory at
// start; otherwise the issuance fails with what it got.
//
// It keeps no order state: tokens are derived from the request's
// idempotency key, so a call after a restart asks for the same challenges.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

type issuer struct {
	caCert *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  string
}

var schema = plugin.Schema{Fields: []plugin.Field{
	{Name: "validation_address", Type: plugin.TypeString, Required: true,
		Description: "host:port the challenges are fetched from (what the names resolve to, port 80's stand-in)"},
}}

func (i *issuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "http01test", Kind: plugin.KindIssuer, Version: "0.0.1",
		Description: "test issuer validating HTTP-01 challenges presented by the agent", Schema: schema}, nil
}

func (i *issuer) ValidateConfig(_ context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	if _, _, err := net.SplitHostPort(cfg.String("validation_address")); err != nil {
		return &plugin.Error{Code: plugin.CodeInvalidConfig, Field: "validation_address", Message: err.Error()}
	}
	return nil
}

func (i *issuer) Provision(_ context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	return plugin.ProvisionResult{Config: req.Config}, nil
}

// thumbprint stands for the ACME account key's thumbprint.
var thumbprint = b64(sha256.Sum256([]byte("http01test account")))

func b64(sum [32]byte) string { return base64.RawURLEncoding.EncodeToString(sum[:]) }

// challenges returns one challenge per DNS name of the request.
func challenges(req plugin.IssueRequest) []plugin.Challenge {
	var names []string
	for _, n := range append([]string{req.CommonName}, req.SANs...) {
		if n != "" && net.ParseIP(n) == nil && !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	var out []plugin.Challenge
	for _, n := range names {
		token := b64(sha256.Sum256([]byte(req.IdempotencyKey + "|" + n)))
		out = append(out, plugin.Challenge{Type: plugin.ChallengeHTTP01, Identifier: n, Token: token,
			KeyAuthorization: token + "." + thumbprint, Solver: plugin.SolverAgent})
	}
	return out
}

func (i *issuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	chs := challenges(req)
	for _, c := range chs {
		if !slices.Contains(req.PresentedChallenges, c.Token) {
			return plugin.IssueResult{Status: plugin.StatusPending, OrderID: "order-" + req.IdempotencyKey,
				RetryAfter: time.Second, Challenges: chs}, nil
		}
	}
	for _, c := range chs {
		if err := validate(ctx, req.Config.String("validation_address"), c); err != nil {
			return plugin.IssueResult{}, plugin.Errorf(plugin.CodePermanent, "HTTP-01 validation of %s failed: %v", c.Identifier, err)
		}
	}
	return i.sign(req)
}

// validate fetches the challenge as a CA would and compares the body.
func validate(ctx context.Context, addr string, c plugin.Challenge) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/.well-known/acme-challenge/"+c.Token, nil)
	if err != nil {
		return err
	}
	r.Host = c.Identifier
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != c.KeyAuthorization {
		return fmt.Errorf("GET %s answered %d %q, want the key authorization", r.URL, resp.StatusCode, body)
	}
	return nil
}

func (i *issuer) sign(req plugin.IssueRequest) (plugin.IssueResult, error) {
	csr, err := x509.ParseCertificateRequest(req.CSR)
	if err != nil {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodeInvalidInput, "CSR: %v", err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: req.CommonName},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	for _, n := range append([]string{req.CommonName}, req.SANs...) {
		if ip := net.ParseIP(n); ip != nil {
			tpl.IPAddresses = append(tpl.IPAddresses, ip)
		} else if n != "" && !slices.Contains(tpl.DNSNames, n) {
			tpl.DNSNames = append(tpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tpl, i.caCert, csr.PublicKey, i.caKey)
	if err != nil {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodePermanent, "sign: %v", err)
	}
	return plugin.IssueResult{Status: plugin.StatusIssued,
		CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), ChainPEM: i.caPEM}, nil
}

func (i *issuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return i.IssueCertificate(ctx, req.IssueRequest)
}

func (i *issuer) RevokeCertificate(context.Context, plugin.RevokeRequest) error { return nil }

func (i *issuer) GetOrderStatus(context.Context, plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	return plugin.IssueResult{Status: plugin.StatusPending}, nil
}

func (i *issuer) SignCRL(context.Context, plugin.CRLRequest) (plugin.CRLResult, error) {
	return plugin.CRLResult{}, plugin.Errorf(plugin.CodeUnimplemented, "no CRL")
}

func main() {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "http01test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	ca, _ := x509.ParseCertificate(der)
	plugin.Serve(&issuer{caCert: ca, caKey: key, caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))})
}
