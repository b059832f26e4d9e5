// This file creates the CA (a self-signed root made by Provision) and loads
// the CA a configuration carries, checking everything that signing will
// rely on: certificate, key, chain and dates.

package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/sdk/keys"
)

// clockSkew is how far back certificates are dated, so that a relying
// party whose clock runs a little behind already accepts them.
const clockSkew = time.Minute

// ca is a loaded, checked CA.
type ca struct {
	cert  *x509.Certificate
	key   crypto.Signer
	chain []*x509.Certificate // the certificates above cert, its issuer first
}

// chainPEM is the chain served with an issued certificate: the CA
// certificate, then the certificates above it.
func (c *ca) chainPEM() string {
	var b strings.Builder
	for _, cert := range append([]*x509.Certificate{c.cert}, c.chain...) {
		b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	}
	return b.String()
}

// notAfter is when the CA's chain stops being valid: the earliest expiry of
// the CA certificate and the certificates above it.
func (c *ca) notAfter() time.Time {
	end := c.cert.NotAfter
	for _, above := range c.chain {
		if above.NotAfter.Before(end) {
			end = above.NotAfter
		}
	}
	return end
}

// generateCA makes a self-signed root of the configured key type, subject
// and lifetime that signs certificates and CRLs but no further CAs
// (path length zero). It returns the certificate and PKCS#8 key as PEM.
func generateCA(ctx context.Context, s settings, now time.Time) (certPEM, keyPEM string, err error) {
	key, err := generateKey(ctx, s.caKeyType)
	if err != nil {
		if ctx.Err() != nil {
			return "", "", ctx.Err()
		}
		return "", "", plugin.Errorf(plugin.CodePermanent, "generate CA key: %v", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return "", "", err
	}
	ski, err := subjectKeyID(key.Public())
	if err != nil {
		return "", "", plugin.Errorf(plugin.CodePermanent, "CA subject key identifier: %v", err)
	}
	subject := pkix.Name{CommonName: s.commonName}
	if s.organization != "" {
		subject.Organization = []string{s.organization}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-clockSkew),
		NotAfter:              now.Add(s.caValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		SubjectKeyId:          ski,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return "", "", plugin.Errorf(plugin.CodePermanent, "create CA certificate: %v", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", "", plugin.Errorf(plugin.CodePermanent, "encode CA key: %v", err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})), nil
}

// randomSerial returns a positive serial number of 128 random bits
// (RFC 5280 allows up to 20 octets; CA/Browser Forum rules ask for at
// least 64 bits from a CSPRNG).
func randomSerial() (*big.Int, error) {
	b := make([]byte, 16)
	for {
		if _, err := rand.Read(b); err != nil {
			return nil, plugin.Errorf(plugin.CodeTransient, "read random serial: %v", err)
		}
		if n := new(big.Int).SetBytes(b); n.Sign() > 0 {
			return n, nil
		}
	}
}

// loadCA parses and checks the CA of a configuration, or returns nil, nil
// when there is none yet; parsed keeps the keys parsed before (nil: none). Errors are CodeInvalidConfig naming the field.
// The checks: certificate and key come together; the certificate is a CA
// allowed to sign certificates, has a subject key identifier and is valid
// at now; the key is usable and matches it; the chain, when given, is in
// order and the CA verifies against it; a CA that must sign CRLs (crl_url
// set) may sign them.
func loadCA(s settings, now time.Time, parsed *caKeys) (*ca, error) {
	switch {
	case !s.hasCA():
		return nil, nil
	case s.caCertPEM == "":
		return nil, plugin.InvalidConfig(fieldCACert, "is required with ca_private_key_pem")
	case s.caKeyPEM == "":
		return nil, plugin.InvalidConfig(fieldCAKey, "is required with ca_certificate_pem")
	}
	certs, err := keys.ParseCertificates(s.caCertPEM)
	if err != nil {
		return nil, plugin.InvalidConfig(fieldCACert, "%v", err)
	}
	if len(certs) != 1 {
		return nil, plugin.InvalidConfig(fieldCACert,
			"holds %d certificates: give the CA certificate alone and the ones above it in ca_chain_pem", len(certs))
	}
	cert := certs[0]
	if err := checkCACert(cert, now); err != nil {
		return nil, plugin.InvalidConfig(fieldCACert, "%v", err)
	}
	if s.crlURL != "" && cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, plugin.InvalidConfig(fieldCRLURL,
			"is set but the CA certificate lacks the cRLSign key usage, so it cannot sign the CRL")
	}
	key, err := parsed.parse(s.caKeyPEM)
	if err != nil {
		return nil, plugin.InvalidConfig(fieldCAKey, "%v", err)
	}
	if err := checkCAKey(key.Public()); err != nil {
		return nil, plugin.InvalidConfig(fieldCAKey, "%v", err)
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, plugin.InvalidConfig(fieldCAKey, "does not match the public key of ca_certificate_pem")
	}
	c := &ca{cert: cert, key: key}
	if s.caChainPEM != "" {
		if c.chain, err = keys.ParseCertificates(s.caChainPEM); err != nil {
			return nil, plugin.InvalidConfig(fieldCAChain, "%v", err)
		}
		if err := checkChain(cert, c.chain, now); err != nil {
			return nil, plugin.InvalidConfig(fieldCAChain, "%v", err)
		}
	} else if bytes.Equal(cert.RawSubject, cert.RawIssuer) {
		if err := cert.CheckSignatureFrom(cert); err != nil {
			return nil, plugin.InvalidConfig(fieldCACert, "self-signed certificate whose signature does not verify: %v", err)
		}
	}
	return c, nil
}

// checkCACert checks what signing needs of the CA certificate itself.
func checkCACert(cert *x509.Certificate, now time.Time) error {
	switch {
	case !cert.BasicConstraintsValid || !cert.IsCA:
		return fmt.Errorf("is not a CA certificate (basic constraints do not say CA)")
	case cert.KeyUsage&x509.KeyUsageCertSign == 0:
		return fmt.Errorf("lacks the keyCertSign key usage: it may not sign certificates")
	case len(cert.SubjectKeyId) == 0:
		return fmt.Errorf("has no subject key identifier (RFC 5280 requires one in CA certificates)")
	case now.Before(cert.NotBefore):
		return fmt.Errorf("is not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
	case !now.Before(cert.NotAfter):
		return fmt.Errorf("expired on %s", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

// checkChain checks that chain is in order (each certificate signed by the
// next, cert by the first) and that cert verifies up to the last one, with
// the dates, CA flags and constraints crypto/x509 checks on a path.
func checkChain(cert *x509.Certificate, chain []*x509.Certificate, now time.Time) error {
	below := cert
	for i, above := range chain {
		if err := below.CheckSignatureFrom(above); err != nil {
			what := "the CA certificate"
			if i > 0 {
				what = fmt.Sprintf("certificate %d", i)
			}
			return fmt.Errorf("certificate %d (%q) did not sign %s: list the CA's issuer first, then its issuer, up to the root: %v",
				i+1, above.Subject.CommonName, what, err)
		}
		below = above
	}
	roots, intermediates := x509.NewCertPool(), x509.NewCertPool()
	roots.AddCert(chain[len(chain)-1])
	for _, c := range chain[:len(chain)-1] {
		intermediates.AddCert(c)
	}
	_, err := cert.Verify(x509.VerifyOptions{
		Roots: roots, Intermediates: intermediates, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	})
	if err != nil {
		return fmt.Errorf("the CA certificate does not verify against it: %v", err)
	}
	return nil
}

// parsePrivateKey reads one unencrypted PEM private key: PKCS#8, or the
// older PKCS#1 (RSA) and SEC 1 (EC) forms that enterprise CAs often export.
// Its errors never quote the key.
func parsePrivateKey(text string) (crypto.Signer, error) {
	block, rest := pem.Decode([]byte(text))
	if block == nil {
		return nil, fmt.Errorf("holds no PEM private key")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("must hold the CA key alone")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || block.Headers["Proc-Type"] != "" {
		return nil, fmt.Errorf("is encrypted: give the key unencrypted (certctl encrypts it at rest)")
	}
	var key any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		var k *ecdsa.PrivateKey
		k, err = x509.ParseECPrivateKey(block.Bytes)
		key = k
	default:
		return nil, fmt.Errorf("holds a %q PEM block, not a private key", block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("does not parse as a %s: %v", strings.ToLower(block.Type), err)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("holds a %T, which cannot sign", key)
	}
	return signer, nil
}
