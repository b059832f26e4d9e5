// Command gatedissuer is an issuer plugin for the upgrade tests (the
// host's and the server's). Its name is what its file name says
// (certctl-plugin-issuer-<name>), so one build serves as any plugin.
// IssueCertificate answers with the process's pid as the order id, so
// that a test sees which process served a call, and, given a CSR, a
// certificate for it from a CA the process makes at start; with "gate"
// set to a directory it first leaves a file there named after its pid and
// waits until a file named "open" appears, so that a test holds calls in
// flight for as long as it needs.
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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

type issuer struct {
	plugin.UnimplementedIssuer
	name string
}

func (i issuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: i.name, Kind: plugin.KindIssuer, Version: "1.0.0", Schema: plugin.Schema{Fields: []plugin.Field{
		{Name: "gate", Type: plugin.TypeString},
	}}}, nil
}

func (issuer) ValidateConfig(context.Context, plugin.ValidateConfigRequest) error { return nil }

func (issuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	if gate := req.Config.String("gate"); gate != "" {
		f, err := os.CreateTemp(gate, fmt.Sprintf("arrived-%d-", os.Getpid()))
		if err != nil {
			return plugin.IssueResult{}, err
		}
		f.Close()
		// Polling a file is crude, but the plugin gets nothing from the
		// test but its configuration.
		for {
			if _, err := os.Stat(filepath.Join(gate, "open")); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return plugin.IssueResult{}, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	res := plugin.IssueResult{Status: plugin.StatusIssued, OrderID: strconv.Itoa(os.Getpid())}
	if len(req.CSR) > 0 {
		pemCert, err := sign(req.CSR)
		if err != nil {
			return plugin.IssueResult{}, err
		}
		res.CertificatePEM = pemCert
	}
	return res, nil
}

// ca signs the certificates of this process.
var ca = func() struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
} {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "gatedissuer CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		panic(err)
	}
	return struct {
		cert *x509.Certificate
		key  *ecdsa.PrivateKey
	}{cert, key}
}()

func sign(csrDER []byte) (string, error) {
	csr, err := x509.ParseCertificateRequest(csrDER)
	if err != nil {
		return "", plugin.Errorf(plugin.CodeInvalidInput, "CSR: %v", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: csr.Subject, DNSNames: csr.DNSNames,
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, csr.PublicKey, ca.key)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "certctl-plugin-issuer-")
	plugin.Serve(issuer{name: name})
}
