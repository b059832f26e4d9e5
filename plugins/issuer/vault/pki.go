// This file calls Vault's PKI secrets engine: sign a CSR with a role,
// revoke by serial, read a role to check the configuration.

package main

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/sdk/keys"
)

// signPath is where the role signs: <mount>/sign/<role>, or with an
// issuer, <mount>/issuer/<ref>/sign/<role>.
func (s settings) signPath() string {
	if s.issuerRef != "" {
		return s.mount + "/issuer/" + s.issuerRef + "/sign/" + s.role
	}
	return s.mount + "/sign/" + s.role
}

// sign has the CSR signed for the request's names.
func (c *client) sign(ctx context.Context, req plugin.IssueRequest, csr *x509.CertificateRequest) (plugin.IssueResult, *x509.Certificate, error) {
	var alt, ips, uris []string
	for _, n := range req.SANs {
		switch {
		case n == "" || n == req.CommonName:
		case isIP(n):
			ips = append(ips, n)
		case strings.Contains(n, "://"):
			uris = append(uris, n)
		default: // DNS names and e-mail addresses: Vault sorts them itself
			alt = append(alt, n)
		}
	}
	for _, n := range append(alt, uris...) {
		if strings.Contains(n, ",") {
			return plugin.IssueResult{}, nil, plugin.Errorf(plugin.CodeInvalidInput,
				"name %q holds a comma, which Vault's comma-separated name lists cannot carry", n)
		}
	}
	data := map[string]any{
		"csr":         string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr.Raw})),
		"common_name": req.CommonName,
		"format":      "pem",
	}
	if isIP(req.CommonName) {
		// Vault refuses an IP address as a common name's DNS SAN; it goes
		// in as an IP SAN, and the common name stays in the subject.
		ips = append([]string{req.CommonName}, ips...)
	}
	if len(alt) > 0 {
		data["alt_names"] = strings.Join(alt, ",")
	}
	if len(ips) > 0 {
		data["ip_sans"] = strings.Join(ips, ",")
	}
	if len(uris) > 0 {
		data["uri_sans"] = strings.Join(uris, ",")
	}
	if ttl := c.s.ttl; ttl > 0 {
		data["ttl"] = strconv.FormatInt(int64(ttl/time.Second), 10) + "s"
	}
	path := c.s.signPath()
	var sec *vault.Secret
	err := c.do(ctx, func() (err error) {
		sec, err = write(ctx, c.vc, path, data)
		return err
	})
	if err != nil {
		return plugin.IssueResult{}, nil, vaultError(err, c.s, "signing at "+path, signErrors)
	}
	if sec == nil || sec.Data == nil {
		return plugin.IssueResult{}, nil, plugin.InvalidConfig(fieldMount, "signing at %s: Vault returned nothing", path)
	}
	for _, w := range sec.Warnings { // e.g. a TTL shortened to the role's max_ttl
		c.log.Warn("Vault warned about a signing", "path", path, "warning", w)
	}
	leafText, _ := sec.Data["certificate"].(string)
	leaves, err := keys.ParseCertificates(leafText)
	if err != nil {
		return plugin.IssueResult{}, nil, plugin.Errorf(plugin.CodePermanent, "signing at %s: Vault's certificate: %v", path, err)
	}
	leaf := leaves[0]
	if k, ok := leaf.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); !ok || !k.Equal(csr.PublicKey) {
		return plugin.IssueResult{}, nil, plugin.Errorf(plugin.CodePermanent,
			"signing at %s: Vault's certificate is not for the CSR's key", path)
	}
	chain, err := chainPEM(sec.Data)
	if err != nil {
		return plugin.IssueResult{}, nil, plugin.Errorf(plugin.CodePermanent, "signing at %s: Vault's CA chain: %v", path, err)
	}
	return plugin.IssueResult{Status: plugin.StatusIssued, CertificatePEM: pemOf(leaf), ChainPEM: chain}, leaf, nil
}

// chainPEM is the chain of a sign answer: ca_chain (the issuing CA and
// those above it, as far as Vault knows them), else issuing_ca.
func chainPEM(data map[string]any) (string, error) {
	var texts []string
	if list, ok := data["ca_chain"].([]any); ok {
		for _, v := range list {
			if t, ok := v.(string); ok {
				texts = append(texts, t)
			}
		}
	}
	if len(texts) == 0 {
		if t, ok := data["issuing_ca"].(string); ok && strings.TrimSpace(t) != "" {
			texts = append(texts, t)
		}
	}
	if len(texts) == 0 {
		return "", nil
	}
	certs, err := keys.ParseCertificates(strings.Join(texts, "\n"))
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range certs {
		b.WriteString(pemOf(c))
	}
	return b.String(), nil
}

// revoke revokes serial at <mount>/revoke. Vault answers a revoked
// serial as a success. A serial Vault does not know (a role with
// no_store) it refuses with 400: then, given the certificate, the
// certificate is sent instead, which Vault 1.12+ revokes after checking
// that the mount issued it.
func (c *client) revoke(ctx context.Context, serial *big.Int, certPEM string) error {
	path := c.s.mount + "/revoke"
	write := func(data map[string]any) error {
		return c.do(ctx, func() error {
			_, err := write(ctx, c.vc, path, data)
			return err
		})
	}
	err := write(map[string]any{"serial_number": vaultSerial(serial)})
	var re *vault.ResponseError
	if err != nil && strings.TrimSpace(certPEM) != "" && errors.As(err, &re) && re.StatusCode == http.StatusBadRequest {
		if certs, perr := keys.ParseCertificates(certPEM); perr == nil && certs[0].SerialNumber.Cmp(serial) == 0 {
			if err2 := write(map[string]any{"certificate": pemOf(certs[0])}); err2 == nil {
				return nil
			}
		}
	}
	if err != nil {
		return vaultError(err, c.s, fmt.Sprintf("revoking %s at %s", vaultSerial(serial), path), revokeErrors)
	}
	return nil
}

// checkRole checks, for ValidateConfig, that Vault takes the credentials
// and has the role. A token whose policies do not allow reading the role
// passes: signing needs no more, and will tell.
func (c *client) checkRole(ctx context.Context) error {
	if !c.s.approle() {
		// The default policy lets every token look itself up: a refusal
		// means the token is not valid.
		if _, err := c.vc.Auth().Token().LookupSelfWithContext(ctx); err != nil {
			return vaultError(err, c.s, "checking the token (auth/token/lookup-self)", readErrors)
		}
	}
	path := c.s.mount + "/roles/" + c.s.role
	resp, err := c.vc.Logical().ReadRawWithContext(ctx, path)
	if resp != nil {
		resp.Body.Close()
	}
	var re *vault.ResponseError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re) && re.StatusCode == http.StatusForbidden:
		return nil
	case errors.As(err, &re) && re.StatusCode == http.StatusNotFound && len(re.Errors) == 0:
		// Vault answers a role it does not have with 404 and no message,
		// and a path with no handler (no such mount) with one.
		return plugin.InvalidConfig(fieldRole, "Vault has no role %q at mount %q (%s)", c.s.role, c.s.mount, path)
	}
	return vaultError(err, c.s, "reading the role at "+path, readErrors)
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

func pemOf(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}
