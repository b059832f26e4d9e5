// Command badissuer is an issuer plugin that breaks the plugin contract
// on purpose, for the conformance kit's own tests to show that the kit
// catches it: a schema field without a description, a ValidateConfig
// that accepts anything, a Provision that changes what it provisioned,
// an IssueCertificate that certifies a key of its own instead of the
// CSR's (and accepts garbage for a CSR), a SignCRL that returns garbage,
// and a RevokeCertificate that crashes on a serial that is not
// hexadecimal.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

type badIssuer struct {
	caKey  *ecdsa.PrivateKey
	caCert *x509.Certificate
	caPEM  string
}

func newBadIssuer() *badIssuer {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "bad CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	cert, _ := x509.ParseCertificate(der)
	return &badIssuer{caKey: key, caCert: cert,
		caPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

func (*badIssuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "bad", Kind: plugin.KindIssuer, Version: "0.0.1", Schema: plugin.Schema{Fields: []plugin.Field{
		{Name: "mode", Type: plugin.TypeString, Default: "normal", Description: "Ignored."},
		{Name: "retries", Type: plugin.TypeInt}, // no description
	}}}, nil
}

func (*badIssuer) ValidateConfig(context.Context, plugin.ValidateConfigRequest) error { return nil }

// Provision changes the configuration every time, even one it provisioned.
func (*badIssuer) Provision(_ context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	cfg := req.Config
	cfg["mode"] = fmt.Sprint(time.Now().UnixNano())
	return plugin.ProvisionResult{Config: cfg}, nil
}

func (b *badIssuer) IssueCertificate(_ context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // not the CSR's key
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: req.CommonName}, DNSNames: []string{req.CommonName},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, b.caCert, key.Public(), b.caKey)
	return plugin.IssueResult{Status: plugin.StatusIssued, ChainPEM: b.caPEM,
		CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}, err
}

func (b *badIssuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return b.IssueCertificate(ctx, req.IssueRequest)
}

func (*badIssuer) RevokeCertificate(_ context.Context, req plugin.RevokeRequest) error {
	if _, ok := new(big.Int).SetString(req.SerialNumber, 16); !ok {
		// A panic in the call itself would only fail the call (plugin.Serve
		// recovers it); one in a goroutine of the plugin's own ends the
		// process. The call waits for it.
		go func() { panic("bad serial") }()
		select {}
	}
	return nil
}

func (*badIssuer) GetOrderStatus(context.Context, plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	return plugin.IssueResult{}, plugin.Errorf(plugin.CodeNotFound, "no orders")
}

func (*badIssuer) SignCRL(context.Context, plugin.CRLRequest) (plugin.CRLResult, error) {
	return plugin.CRLResult{DER: []byte("not a CRL")}, nil
}

func main() { plugin.Serve(newBadIssuer()) }
