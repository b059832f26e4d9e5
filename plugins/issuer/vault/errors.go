// This file turns what went wrong talking to Vault into certctl's error
// codes, with Vault's own messages (its {"errors": [...]} answer) in the
// text: refusals of the configuration or its credentials are
// invalid_config, refusals of a request permanent, an unreachable,
// sealed, overloaded or rate-limiting Vault transient.

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"strings"
	"unicode/utf8"

	vault "github.com/hashicorp/vault/api"

	"github.com/certctl/certctl/sdk/plugin"
)

// operation says which call failed, for the codes that depend on it.
type operation int

const (
	loginErrors  operation = iota // auth/<approle>/login
	readErrors                    // reads: the role, the token
	signErrors                    // <mount>/sign/<role>
	revokeErrors                  // <mount>/revoke
)

// maxVaultMessage bounds Vault's messages in an error.
const maxVaultMessage = 1024

// vaultError classifies err from the call described by what.
func vaultError(err error, s settings, what string, op operation) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &wrapped{what + ": " + err.Error(), err} // codes canceled and deadline
	}
	var re *vault.ResponseError
	if errors.As(err, &re) {
		msg := vaultMessages(re)
		switch status := re.StatusCode; {
		case status == http.StatusTooManyRequests || status == http.StatusPreconditionFailed || status >= 500:
			e := plugin.Errorf(plugin.CodeTransient, "%s: Vault answered %d, try again later: %s", what, status, msg)
			var ra *retryAfterError
			if errors.As(err, &ra) {
				e.RetryAfter = ra.after // the host retries no sooner
			}
			return e
		case status == http.StatusForbidden:
			if op == loginErrors {
				return plugin.InvalidConfig(fieldSecretID, "%s: Vault refused the login (403): %s", what, msg)
			}
			return plugin.InvalidConfig(s.authField(), "%s: Vault refused the %s (403: its policies must allow this path): %s",
				what, credentials(s), msg)
		case status == http.StatusBadRequest && op == loginErrors:
			return plugin.InvalidConfig(fieldSecretID, "%s: Vault refused role_id and secret_id (400): %s", what, msg)
		case status == http.StatusNotFound && op == loginErrors:
			return plugin.InvalidConfig(fieldApproleMount, "%s: no AppRole auth method there (404: check approle_mount, "+
				"and namespace %q): %s", what, s.namespace, msg)
		case status == http.StatusNotFound:
			return plugin.InvalidConfig(fieldMount, "%s: Vault has no such path (404), is %q the PKI mount? %s", what, s.mount, msg)
		case status == http.StatusBadRequest:
			return plugin.Errorf(plugin.CodePermanent, "%s: Vault refused the request (400): %s", what, msg)
		}
		return plugin.Errorf(plugin.CodePermanent, "%s: Vault answered %d: %s", what, re.StatusCode, msg)
	}
	var (
		verifyErr   *tls.CertificateVerificationError
		unknownCA   x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		invalidErr  x509.CertificateInvalidError
		recordErr   tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &verifyErr), errors.As(err, &unknownCA), errors.As(err, &hostnameErr), errors.As(err, &invalidErr):
		return plugin.InvalidConfig(fieldCACert, "%s: Vault's TLS certificate is not trusted (set ca_cert, or tls_server_name): %v", what, err)
	case errors.As(err, &recordErr):
		return plugin.InvalidConfig(fieldAddress, "%s: %s does not speak TLS (http:// rather than https://?): %v", what, s.address, err)
	}
	var netErr net.Error
	if errors.As(err, &netErr) {
		return plugin.Errorf(plugin.CodeTransient, "%s: cannot reach Vault at %s: %v", what, s.address, err)
	}
	return plugin.Errorf(plugin.CodePermanent, "%s: %v", what, err)
}

// credentials names what Vault refused, for messages.
func credentials(s settings) string {
	if s.approle() {
		return "AppRole token"
	}
	return "token"
}

// vaultMessages joins Vault's error messages, bounded.
func vaultMessages(re *vault.ResponseError) string {
	var parts []string
	for _, e := range re.Errors {
		if e = strings.TrimSpace(e); e != "" {
			parts = append(parts, e)
		}
	}
	msg := strings.Join(parts, "; ")
	switch {
	case msg == "":
		return "(no message)"
	case re.RawError:
		msg = "(not Vault's JSON) " + msg
	}
	if len(msg) > maxVaultMessage {
		msg = msg[:maxVaultMessage]
		for len(msg) > 0 && !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
		msg += "…"
	}
	return strings.ToValidUTF8(msg, "?")
}

// wrapped keeps a context error in the chain (so that its code is
// deadline or canceled) under a message of ours.
type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
