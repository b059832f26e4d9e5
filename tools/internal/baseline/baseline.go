// Package baseline measures what the load tools report beside the
// product's figures: the rate at which this machine signs certificates
// from a parsed CSR in process, the ceiling no issuance path can pass.
package baseline

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// signingRate signs certificates from a parsed CSR with a CA key of
// caKeyType on every core for d and returns certificates per second.
func SigningRate(caKeyType string, d time.Duration) (float64, error) {
	caKey, err := newKey(caKeyType)
	if err != nil {
		return 0, err
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "baseline CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.(crypto.Signer).Public(), caKey)
	if err != nil {
		return 0, err
	}
	ca, _ := x509.ParseCertificate(caDER)
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csrDER, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: "leaf.example.com"}, DNSNames: []string{"leaf.example.com"}}, leafKey)
	if err != nil {
		return 0, err
	}
	var count atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				csr, err := x509.ParseCertificateRequest(csrDER)
				if err != nil || csr.CheckSignature() != nil {
					return
				}
				serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
				tmpl := &x509.Certificate{SerialNumber: serial, Subject: csr.Subject, DNSNames: csr.DNSNames,
					NotBefore: time.Now(), NotAfter: time.Now().Add(90 * 24 * time.Hour),
					KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
				if _, err := x509.CreateCertificate(rand.Reader, tmpl, ca, csr.PublicKey, caKey); err != nil {
					return
				}
				count.Add(1)
			}
		}()
	}
	wg.Wait()
	return float64(count.Load()) / d.Seconds(), nil
}

func newKey(typ string) (crypto.PrivateKey, error) {
	switch typ {
	case "ecdsa-p256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "", "ecdsa-p384":
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	case "rsa-2048", "rsa-3072", "rsa-4096":
		bits, _ := strconv.Atoi(strings.TrimPrefix(typ, "rsa-"))
		return rsa.GenerateKey(rand.Reader, bits)
	case "ed25519":
		_, k, err := ed25519.GenerateKey(rand.Reader)
		return k, err
	}
	return nil, fmt.Errorf("unknown CA key type %q", typ)
}
