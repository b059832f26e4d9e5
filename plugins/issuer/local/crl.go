// This file signs certificate revocation lists. The host records
// revocations; the CA turns its list into a CRL signed with the CA key.

package main

import (
	"crypto/rand"
	"crypto/x509"
	"math/big"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// defaultCRLLifetime is how long a CRL is current when the request gives
// no NextUpdate.
const defaultCRLLifetime = 24 * time.Hour

// maxSerialOctets is the longest serial number RFC 5280 allows.
const maxSerialOctets = 20

// signCRL returns the DER CRL of req signed by c.
func signCRL(c *ca, req plugin.CRLRequest, now time.Time) ([]byte, error) {
	if c.cert.KeyUsage&x509.KeyUsageCRLSign == 0 {
		return nil, plugin.InvalidConfig(fieldCACert, "lacks the cRLSign key usage: this CA cannot sign CRLs")
	}
	if req.Number < 0 {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "CRL number %d is negative", req.Number)
	}
	thisUpdate := req.ThisUpdate
	if thisUpdate.IsZero() {
		thisUpdate = now
	}
	nextUpdate := req.NextUpdate
	if nextUpdate.IsZero() {
		nextUpdate = thisUpdate.Add(defaultCRLLifetime)
	}
	if !nextUpdate.After(thisUpdate) {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "CRL next update %s is not after this update %s",
			nextUpdate.UTC().Format(time.RFC3339), thisUpdate.UTC().Format(time.RFC3339))
	}
	tmpl := &x509.RevocationList{
		Number:     big.NewInt(req.Number),
		ThisUpdate: thisUpdate,
		NextUpdate: nextUpdate,
	}
	seen := map[string]bool{}
	for _, r := range req.Revoked {
		serial, err := parseSerial(r.SerialNumber)
		if err != nil {
			return nil, err
		}
		if seen[serial.String()] {
			return nil, plugin.Errorf(plugin.CodeInvalidInput, "serial %s is listed twice", r.SerialNumber)
		}
		seen[serial.String()] = true
		if err := checkReason(r.Reason); err != nil {
			return nil, err
		}
		if r.RevokedAt.IsZero() {
			return nil, plugin.Errorf(plugin.CodeInvalidInput, "serial %s has no revocation time", r.SerialNumber)
		}
		tmpl.RevokedCertificateEntries = append(tmpl.RevokedCertificateEntries, x509.RevocationListEntry{
			SerialNumber: serial, RevocationTime: r.RevokedAt, ReasonCode: r.Reason,
		})
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, c.cert, c.key)
	if err != nil {
		return nil, plugin.Errorf(plugin.CodePermanent, "sign CRL: %v", err)
	}
	return der, nil
}

// parseSerial reads a hexadecimal serial number, as certctl writes them;
// colons between bytes ("01:a2:...") are allowed. It must be positive and
// at most 20 octets long.
func parseSerial(s string) (*big.Int, error) {
	hex := strings.ReplaceAll(s, ":", "")
	n, ok := new(big.Int).SetString(hex, 16)
	if hex == "" || strings.HasPrefix(hex, "-") || strings.HasPrefix(hex, "+") || !ok {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "serial number %q is not hexadecimal", s)
	}
	if n.Sign() <= 0 || len(n.Bytes()) > maxSerialOctets {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "serial number %q must be positive and at most %d octets",
			s, maxSerialOctets)
	}
	return n, nil
}

// checkReason accepts the RFC 5280 CRLReason codes: 0 to 10, 7 being unused.
func checkReason(r int) error {
	if r < 0 || r > 10 || r == 7 {
		return plugin.Errorf(plugin.CodeInvalidInput, "revocation reason %d is not an RFC 5280 CRLReason code", r)
	}
	return nil
}
