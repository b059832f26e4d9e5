package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"golang.org/x/crypto/acme"
)

// defaultRateLimitWait is how long to wait after a rate limit answer that
// says nothing of when to come back.
const defaultRateLimitWait = time.Minute

// problemType returns the short name of an ACME problem type
// ("rateLimited" for urn:ietf:params:acme:error:rateLimited).
func problemType(e *acme.Error) string {
	t := strings.TrimPrefix(e.ProblemType, "urn:ietf:params:acme:error:")
	return strings.TrimPrefix(t, "urn:acme:error:")
}

// describeProblem renders a problem document for users: its type, detail,
// HTTP status and subproblems, as the CA wrote them.
func describeProblem(e *acme.Error) string {
	var b strings.Builder
	if e.ProblemType != "" {
		b.WriteString(e.ProblemType)
	} else {
		b.WriteString("error")
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, " (HTTP %d)", e.StatusCode)
	}
	for i, sp := range e.Subproblems {
		if i == 0 {
			b.WriteString("; subproblems:")
		}
		b.WriteString(" ")
		if sp.Identifier != nil {
			b.WriteString(sp.Identifier.Value + ": ")
		}
		b.WriteString(sp.Type)
		if sp.Detail != "" {
			b.WriteString(": " + sp.Detail)
		}
		if i < len(e.Subproblems)-1 {
			b.WriteString(";")
		}
	}
	return b.String()
}

// classify turns an error of an ACME exchange into what the host acts on:
// an *plugin.Error with the right code (and the CA's Retry-After), or a
// context error as it is. what says what was being done.
func classify(err error, what string) error {
	if err == nil {
		return nil
	}
	var pe *plugin.Error
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w", what, err)
	}
	var ae *acme.Error
	if errors.As(err, &ae) {
		return problemError(ae, what)
	}
	var oe *acme.OrderError
	if errors.As(err, &oe) {
		msg := fmt.Sprintf("%s: order %s is %s", what, oe.OrderURL, oe.Status)
		if oe.Problem != nil {
			var pae *acme.Error
			if errors.As(oe.Problem, &pae) {
				msg += ": " + describeProblem(pae)
			} else {
				msg += ": " + oe.Problem.Error()
			}
		}
		return plugin.Errorf(plugin.CodePermanent, "%s", msg)
	}
	var uerr *url.Error
	var nerr net.Error
	if errors.As(err, &uerr) || errors.As(err, &nerr) {
		return plugin.Errorf(plugin.CodeTransient, "%s: the CA is unreachable: %v", what, err)
	}
	return plugin.Errorf(plugin.CodePermanent, "%s: %v", what, err)
}

// problemError classifies a problem document from the CA.
func problemError(e *acme.Error, what string) *plugin.Error {
	msg := what + ": the CA answered " + describeProblem(e)
	var ra time.Duration
	if e.Header != nil {
		ra = parseRetryAfter(e.Header.Get("Retry-After"), time.Now())
	}
	typ := problemType(e)
	switch {
	case e.StatusCode == 429 || typ == "rateLimited":
		if ra <= 0 {
			ra = defaultRateLimitWait
		}
		return &plugin.Error{Code: plugin.CodeTransient, Message: fmt.Sprintf("%s; retry after %s", msg, ra), RetryAfter: ra}
	case typ == "badNonce" || typ == "serverInternal" || e.StatusCode >= 500:
		return &plugin.Error{Code: plugin.CodeTransient, Message: msg, RetryAfter: ra}
	case typ == "externalAccountRequired":
		return plugin.InvalidConfig(fieldEABKeyID, "%s: the CA requires external account binding: set %s and %s from your account at the CA",
			msg, fieldEABKeyID, fieldEABHMACKey)
	case typ == "userActionRequired" || typ == "agreementRequired":
		return plugin.InvalidConfig(fieldAgreeTOS, "%s: read the CA's terms of service and set %s to true", msg, fieldAgreeTOS)
	case typ == "accountDoesNotExist":
		return plugin.InvalidConfig(fieldAccountURL, "%s: the account is unknown to the CA: update the issuer to register it again", msg)
	case typ == "invalidContact" || typ == "unsupportedContact":
		return plugin.InvalidConfig(fieldEmail, "%s", msg)
	case typ == "invalidProfile":
		return plugin.InvalidConfig(fieldProfile, "%s", msg)
	case typ == "badCSR" || typ == "badPublicKey" || typ == "rejectedIdentifier" || typ == "unsupportedIdentifier" ||
		typ == "caa" || typ == "badSignatureAlgorithm":
		return plugin.Errorf(plugin.CodeInvalidInput, "%s", msg)
	}
	return plugin.Errorf(plugin.CodePermanent, "%s", msg)
}
