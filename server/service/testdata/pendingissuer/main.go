// Command pendingissuer is an issuer plugin that behaves as an ACME CA
// does, for the lifecycle engine's tests: a new request opens an order and
// answers "pending" with one HTTP-01 challenge per name; once the host
// says it presents them, it fetches each token over real HTTP from the
// "validate_addr" setting (with the name as Host header) and checks the
// key authorization; with every name valid, it stays "processing" for
// "processing_polls" more calls (answering pending with "retry_after"),
// then issues from a CA of its own. Orders live as files in "state_dir",
// so they survive a restart of the plugin and of the server, and the same
// order must be finalized with the same CSR. Its "rate_limited" setting
// makes every call fail with a transient error carrying Retry-After, as a
// CA's 429 does. Each order keeps the request's profile (and refuses
// another later). With "window_start" and "window_end" it suggests a
// renewal window (ACME ARI) that long after the certificate's notBefore.
// Files in state_dir: orders-created (one line per order),
// order-<id>.json, ca.pem, ca.key.
package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

type order struct {
	ID         string            `json:"id"`
	Names      []string          `json:"names"`
	Tokens     map[string]string `json:"tokens"` // token → name
	Valid      map[string]bool   `json:"valid"`  // token → validated
	CSR        []byte            `json:"csr"`
	Processing int               `json:"processing"` // polls left before issuing
	CertPEM    string            `json:"cert_pem"`
	Profile    string            `json:"profile"` // as the first request named it
}

type issuer struct{ mu sync.Mutex }

func (*issuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "pending", Kind: plugin.KindIssuer, Version: "0.0.1",
		Description: "An ACME-like CA with HTTP-01 challenges (tests).",
		Schema: plugin.Schema{Fields: []plugin.Field{
			{Name: "state_dir", Type: plugin.TypeString, Required: true, Description: "Where orders and the CA are kept."},
			{Name: "validate_addr", Type: plugin.TypeString, Description: "host:port challenges are fetched from."},
			{Name: "solver", Type: plugin.TypeString, Description: "The challenges' solver hint."},
			{Name: "processing_polls", Type: plugin.TypeInt, Description: "Pending answers after validation."},
			{Name: "retry_after", Type: plugin.TypeDuration, Description: "RetryAfter of pending answers and of rate_limited."},
			{Name: "rate_limited", Type: plugin.TypeBool, Description: "Fail every call as a CA's 429 does."},
			{Name: "window_start", Type: plugin.TypeDuration, Description: "Renewal window (ARI) start, after the certificate's notBefore."},
			{Name: "window_end", Type: plugin.TypeDuration, Description: "Renewal window end, after notBefore."},
		}}}, nil
}

func (*issuer) ValidateConfig(context.Context, plugin.ValidateConfigRequest) error { return nil }

func (*issuer) Provision(_ context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	return plugin.ProvisionResult{Config: req.Config}, nil
}

func path(cfg plugin.Config, name string) string { return filepath.Join(cfg.String("state_dir"), name) }

func load(cfg plugin.Config, id string) (*order, error) {
	b, err := os.ReadFile(path(cfg, "order-"+id+".json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, plugin.Errorf(plugin.CodeNotFound, "no order %s", id)
	}
	if err != nil {
		return nil, err
	}
	var o order
	return &o, json.Unmarshal(b, &o)
}

func save(cfg plugin.Config, o *order) error {
	b, err := json.Marshal(o)
	if err != nil {
		return err
	}
	return os.WriteFile(path(cfg, "order-"+o.ID+".json"), b, 0o600)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func (i *issuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	cfg := req.Config
	retryAfter := cfg.Duration("retry_after")
	if cfg.Bool("rate_limited") {
		return plugin.IssueResult{}, &plugin.Error{Code: plugin.CodeTransient, RetryAfter: retryAfter,
			Message: "urn:ietf:params:acme:error:rateLimited: too many new orders for this account (test CA)"}
	}
	if req.OrderID == "" {
		o := &order{ID: randomHex(8), Names: append([]string{req.CommonName}, req.SANs...), Tokens: map[string]string{},
			Valid: map[string]bool{}, CSR: req.CSR, Processing: int(cfg.Int("processing_polls")), Profile: req.Profile}
		for _, n := range o.Names {
			o.Tokens[randomHex(16)] = n
		}
		if err := save(cfg, o); err != nil {
			return plugin.IssueResult{}, err
		}
		f, err := os.OpenFile(path(cfg, "orders-created"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
		if err != nil {
			return plugin.IssueResult{}, err
		}
		fmt.Fprintln(f, o.ID)
		f.Close()
		return pending(cfg, o, retryAfter), nil
	}
	o, err := load(cfg, req.OrderID)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	if !bytes.Equal(o.CSR, req.CSR) {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodePermanent, "order %s: the CSR differs from the order's first one", o.ID)
	}
	if o.Profile != req.Profile {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodePermanent, "order %s: profile %q, the order's is %q", o.ID, req.Profile, o.Profile)
	}
	for _, tok := range req.PresentedChallenges {
		name, ok := o.Tokens[tok]
		if !ok || o.Valid[tok] {
			continue
		}
		if err := fetch(ctx, cfg.String("validate_addr"), name, tok, keyAuth(tok)); err != nil {
			return plugin.IssueResult{}, plugin.Errorf(plugin.CodePermanent, "challenge for %s failed: %v", name, err)
		}
		o.Valid[tok] = true
	}
	if len(o.Valid) < len(o.Tokens) {
		return pending(cfg, o, retryAfter), save(cfg, o)
	}
	if o.Processing > 0 {
		o.Processing--
		return plugin.IssueResult{Status: plugin.StatusPending, OrderID: o.ID, RetryAfter: retryAfter}, save(cfg, o)
	}
	if o.CertPEM == "" {
		if o.CertPEM, err = sign(cfg, o); err != nil {
			return plugin.IssueResult{}, err
		}
		if err := save(cfg, o); err != nil {
			return plugin.IssueResult{}, err
		}
	}
	return issued(cfg, o)
}

func keyAuth(token string) string { return token + ".test-account-thumbprint" }

// pending answers with the challenges not validated yet.
func pending(cfg plugin.Config, o *order, retryAfter time.Duration) plugin.IssueResult {
	res := plugin.IssueResult{Status: plugin.StatusPending, OrderID: o.ID, RetryAfter: retryAfter}
	for tok, name := range o.Tokens {
		if !o.Valid[tok] {
			res.Challenges = append(res.Challenges, plugin.Challenge{Type: plugin.ChallengeHTTP01, Identifier: name,
				Token: tok, KeyAuthorization: keyAuth(tok), Solver: cfg.String("solver")})
		}
	}
	return res
}

// fetch checks that http://<name>/.well-known/acme-challenge/<token>,
// reached at addr, answers the key authorization.
func fetch(ctx context.Context, addr, name, token, want string) error {
	if addr == "" {
		addr = name + ":80"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/.well-known/acme-challenge/"+token, nil)
	if err != nil {
		return err
	}
	req.Host = name
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK || string(body) != want {
		return fmt.Errorf("GET %s answered %d %q, want 200 %q", req.URL, resp.StatusCode, body, want)
	}
	return nil
}

// ca returns the CA of state_dir, made on first use.
func ca(cfg plugin.Config) (*x509.Certificate, *ecdsa.PrivateKey, string, error) {
	certPEM, err1 := os.ReadFile(path(cfg, "ca.pem"))
	keyPEM, err2 := os.ReadFile(path(cfg, "ca.key"))
	if err1 != nil || err2 != nil {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, nil, "", err
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pending test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
			BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			return nil, nil, "", err
		}
		kder, _ := x509.MarshalECPrivateKey(key)
		certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
		if err := os.WriteFile(path(cfg, "ca.key"), keyPEM, 0o600); err != nil {
			return nil, nil, "", err
		}
		if err := os.WriteFile(path(cfg, "ca.pem"), certPEM, 0o600); err != nil {
			return nil, nil, "", err
		}
	}
	cb, _ := pem.Decode(certPEM)
	kb, _ := pem.Decode(keyPEM)
	if cb == nil || kb == nil {
		return nil, nil, "", errors.New("broken CA files")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, nil, "", err
	}
	key, err := x509.ParseECPrivateKey(kb.Bytes)
	return cert, key, string(certPEM), err
}

func sign(cfg plugin.Config, o *order) (string, error) {
	caCert, caKey, _, err := ca(cfg)
	if err != nil {
		return "", err
	}
	csr, err := x509.ParseCertificateRequest(o.CSR)
	if err != nil {
		return "", plugin.Errorf(plugin.CodeInvalidInput, "CSR: %v", err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: o.Names[0]}, DNSNames: o.Names,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(12 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, csr.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

func issued(cfg plugin.Config, o *order) (plugin.IssueResult, error) {
	_, _, caPEM, err := ca(cfg)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	res := plugin.IssueResult{Status: plugin.StatusIssued, OrderID: o.ID, CertificatePEM: o.CertPEM, ChainPEM: caPEM}
	if end := cfg.Duration("window_end"); end > 0 {
		b, _ := pem.Decode([]byte(o.CertPEM))
		leaf, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return plugin.IssueResult{}, err
		}
		res.RenewalWindowStart, res.RenewalWindowEnd = leaf.NotBefore.Add(cfg.Duration("window_start")), leaf.NotBefore.Add(end)
	}
	return res, nil
}

func (i *issuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return i.IssueCertificate(ctx, req.IssueRequest)
}

func (*issuer) RevokeCertificate(context.Context, plugin.RevokeRequest) error { return nil }

func (i *issuer) GetOrderStatus(_ context.Context, req plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	cfg := req.Config
	id := req.OrderID
	i.mu.Lock()
	defer i.mu.Unlock()
	o, err := load(cfg, id)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	if o.CertPEM == "" {
		return plugin.IssueResult{Status: plugin.StatusPending, OrderID: o.ID}, nil
	}
	return issued(cfg, o)
}

func (*issuer) SignCRL(context.Context, plugin.CRLRequest) (plugin.CRLResult, error) {
	return plugin.CRLResult{}, plugin.Errorf(plugin.CodeUnimplemented, "no CRLs")
}

func main() { plugin.Serve(&issuer{}) }
