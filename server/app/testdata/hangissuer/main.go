// Command hangissuer is an issuer plugin for the server's shutdown tests:
// while the file its "hang_file" setting names exists, IssueCertificate
// hangs, deaf to cancellation, as a plugin stuck in a call to a CA that
// never answers. Entering such a call it writes its pid to
// "<hang_file>.entered", so that a test knows the call is under way and
// which process to look for. Its "panic" setting, when set, makes
// IssueCertificate panic with that text, as a plugin with a bug would.
// Otherwise it issues from a CA of its own, made at start.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"strconv"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

type hangIssuer struct {
	key  *ecdsa.PrivateKey
	cert *x509.Certificate
	pem  string
}

func newHangIssuer() *hangIssuer {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "hang test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &hangIssuer{key: key, cert: cert, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

func (*hangIssuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "hang", Kind: plugin.KindIssuer, Version: "0.0.1", Description: "Hangs on demand (tests).",
		Schema: plugin.Schema{Fields: []plugin.Field{
			{Name: "hang_file", Type: plugin.TypeString, Description: "IssueCertificate hangs while this file exists."},
			{Name: "panic", Type: plugin.TypeString, Description: "IssueCertificate panics with this text."},
		}}}, nil
}

func (*hangIssuer) ValidateConfig(context.Context, plugin.ValidateConfigRequest) error { return nil }

func (*hangIssuer) Provision(_ context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	return plugin.ProvisionResult{Config: req.Config}, nil
}

func (h *hangIssuer) IssueCertificate(_ context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	if v := req.Config.String("panic"); v != "" {
		panic(v)
	}
	if f := req.Config.String("hang_file"); f != "" {
		if _, err := os.Stat(f); err == nil {
			_ = os.WriteFile(f+".entered", []byte(strconv.Itoa(os.Getpid())), 0o644)
			// The context is ignored on purpose: only removing the file
			// ends the call.
			for {
				time.Sleep(50 * time.Millisecond)
				if _, err := os.Stat(f); err != nil {
					break
				}
			}
		}
	}
	csr, err := x509.ParseCertificateRequest(req.CSR)
	if err != nil {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodeInvalidInput, "CSR: %v", err)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: req.CommonName},
		DNSNames:  append([]string{req.CommonName}, req.SANs...),
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(12 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, h.cert, csr.PublicKey, h.key)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	return plugin.IssueResult{Status: plugin.StatusIssued, ChainPEM: h.pem,
		CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}, nil
}

func (h *hangIssuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return h.IssueCertificate(ctx, req.IssueRequest)
}

func (*hangIssuer) RevokeCertificate(context.Context, plugin.RevokeRequest) error { return nil }

func (*hangIssuer) GetOrderStatus(context.Context, plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	return plugin.IssueResult{}, plugin.Errorf(plugin.CodeNotFound, "no orders")
}

func (*hangIssuer) SignCRL(context.Context, plugin.CRLRequest) (plugin.CRLResult, error) {
	return plugin.CRLResult{}, plugin.Errorf(plugin.CodeUnimplemented, "no CRLs")
}

func main() { plugin.Serve(newHangIssuer()) }
