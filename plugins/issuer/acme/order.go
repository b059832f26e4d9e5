package main

import (
	"context"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/issuer/acme/dns01"
	"github.com/certctl/certctl/sdk/plugin"
	"golang.org/x/crypto/acme"
)

// pendingRetry is when the host calls again while the CA works.
const pendingRetry = 2 * time.Second

// minFinalizeWait is the least time a call gives a finalization.
const minFinalizeWait = 10 * time.Second

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// pollInterval is the wait between two reads of an order inside a call:
// often enough for a quick CA, gentle enough for a public one.
const pollInterval = time.Second

// issue runs one step of an issuance: a new order on the first call, the
// next step of the order in req.OrderID on later calls.
func (i *issuer) issue(ctx context.Context, req plugin.IssueRequest, previousPEM string) (plugin.IssueResult, error) {
	s, err := accountSettings(req.Config)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	if _, err := parseCSR(req.CSR); err != nil {
		return plugin.IssueResult{}, err
	}
	ids, err := identifiers(req.CommonName, req.SANs, s.challenge)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	profile := s.profile
	if req.Profile != "" {
		profile = req.Profile
	}
	c, err := dial(ctx, s)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	f := &flow{c: c, s: s, log: i.log, req: req, now: i.now}
	if req.OrderID != "" {
		st, err := parseOrderID(req.OrderID, s.directoryURL)
		if err != nil {
			return plugin.IssueResult{}, err
		}
		f.st = st
		return f.advance(ctx, nil)
	}
	if profile != "" {
		if err := c.checkProfile(profile, fieldProfile); err != nil {
			return plugin.IssueResult{}, err
		}
	}
	o, err := c.newOrder(ctx, i.log, ids, profile, previousPEM)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	f.st = orderState{url: o.URI}
	i.log.Info("created ACME order", "order", o.URI, "status", o.Status, "identifiers", len(ids), "key", req.IdempotencyKey)
	if o.Status == acme.StatusPending && s.challenge == challengeDNS01 {
		// Answer with the order's id before publishing records: a crash
		// between the order's creation and this answer makes the host
		// place another order, and publishing may take long (a DNS
		// provider's API). The next call publishes them.
		return f.pending(time.Second, nil), nil
	}
	return f.advance(ctx, o)
}

// checkProfile refuses a profile the CA does not offer.
func (c *conn) checkProfile(profile, field string) error {
	if len(c.dir.Meta.Profiles) == 0 {
		return plugin.InvalidConfig(field, "the CA at %s offers no certificate profiles: unset %s", c.s.directoryURL, field)
	}
	if _, ok := c.dir.Meta.Profiles[profile]; !ok {
		names := make([]string, 0, len(c.dir.Meta.Profiles))
		for n := range c.dir.Meta.Profiles {
			names = append(names, n)
		}
		slices.Sort(names)
		return plugin.InvalidConfig(field, "the CA at %s offers no profile %q (it offers %s)", c.s.directoryURL, profile, strings.Join(names, ", "))
	}
	return nil
}

// newOrder places an order. For a renewal at a CA with renewal
// information it names the certificate it replaces (RFC 9773 §5), and
// places a plain order if the CA refuses that (e.g. the certificate was
// already replaced by an order a crash left behind).
func (c *conn) newOrder(ctx context.Context, log *slog.Logger, ids []acme.AuthzID, profile, previousPEM string) (*acme.Order, error) {
	type ident struct {
		Type  string `json:"type"`
		Value string `json:"value"`
	}
	req := struct {
		Identifiers []ident `json:"identifiers"`
		Profile     string  `json:"profile,omitempty"`
		Replaces    string  `json:"replaces,omitempty"`
	}{Profile: profile}
	for _, id := range ids {
		req.Identifiers = append(req.Identifiers, ident{id.Type, id.Value})
	}
	if previousPEM != "" && c.dir.RenewalInfo != "" {
		if prev, err := firstCert(previousPEM); err == nil {
			req.Replaces, _ = certID(prev)
		}
	}
	resp, body, err := c.post(ctx, c.dir.NewOrder, req)
	var ae *acme.Error
	if req.Replaces != "" && errors.As(err, &ae) && ae.StatusCode != http.StatusTooManyRequests && problemType(ae) != "rateLimited" {
		log.Warn("the CA refused the order as a replacement; ordering without replaces", "problem", describeProblem(ae))
		req.Replaces = ""
		resp, body, err = c.post(ctx, c.dir.NewOrder, req)
	}
	if err != nil {
		return nil, classify(err, "create the ACME order")
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusCreated || loc == "" {
		return nil, plugin.Errorf(plugin.CodePermanent, "create the ACME order: the CA answered %s without the order's URL", resp.Status)
	}
	o, err := parseOrder(loc, body)
	if err != nil {
		return nil, plugin.Errorf(plugin.CodeTransient, "create the ACME order: %v", err)
	}
	return o, nil
}

// parseOrder reads an order object (RFC 8555 §7.1.3).
func parseOrder(url string, body []byte) (*acme.Order, error) {
	var v struct {
		Status         string         `json:"status"`
		Identifiers    []acme.AuthzID `json:"identifiers"`
		Authorizations []string       `json:"authorizations"`
		Finalize       string         `json:"finalize"`
		Certificate    string         `json:"certificate"`
		Error          *problemJSON   `json:"error"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Status == "" {
		return nil, fmt.Errorf("the CA's answer is no ACME order (%v)", err)
	}
	o := &acme.Order{URI: url, Status: v.Status, Identifiers: v.Identifiers, AuthzURLs: v.Authorizations,
		FinalizeURL: v.Finalize, CertURL: v.Certificate}
	if v.Error != nil {
		o.Error = v.Error.toError(&acme.Error{})
	}
	return o, nil
}

// getOrder reads an order, with the CA's Retry-After (0 when none):
// x/crypto/acme's GetOrder drops the header.
func (c *conn) getOrder(ctx context.Context, url string) (*acme.Order, time.Duration, error) {
	resp, body, err := c.post(ctx, url, nil)
	if err != nil {
		return nil, 0, orderFetchError(err, url)
	}
	o, err := parseOrder(url, body)
	if err != nil {
		return nil, 0, plugin.Errorf(plugin.CodeTransient, "read order %s: %v", url, err)
	}
	return o, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), nil
}

// flow is one call's work on an order.
type flow struct {
	c   *conn
	s   *settings
	log *slog.Logger
	req plugin.IssueRequest
	now func() time.Time
	st  orderState
	// dns is the DNS-01 solver and checker, made when first needed.
	solver  dns01.Solver
	checker *dns01.Checker
}

// advance takes the order as far as it goes within the call's bound:
// challenges accepted, validation awaited, the order finalized and the
// certificate fetched. o is the order as just read, or nil.
func (f *flow) advance(ctx context.Context, o *acme.Order) (plugin.IssueResult, error) {
	deadline := f.now().Add(f.s.validationTimeout)
	if d, ok := ctx.Deadline(); ok && d.Add(-2*time.Second).Before(deadline) {
		deadline = d.Add(-2 * time.Second) // leave time to answer before the host gives up
	}
	var retryAfter time.Duration // the CA's, for the order as last read
	for {
		if o == nil {
			var err error
			if o, retryAfter, err = f.c.getOrder(ctx, f.st.url); err != nil {
				return plugin.IssueResult{}, err
			}
		}
		switch o.Status {
		case acme.StatusValid:
			f.cleanup(ctx, o)
			return f.c.certificate(ctx, f.log, o)
		case acme.StatusInvalid:
			err := f.c.invalidOrder(ctx, o)
			f.cleanup(ctx, o)
			return plugin.IssueResult{}, err
		case acme.StatusReady:
			// Every authorization is valid: the records are not needed any more.
			f.cleanup(ctx, o)
			res, done, err := f.finalize(ctx, o, deadline)
			if err != nil || done {
				return res, err
			}
			if res.Status == "" {
				o = nil // finalized: read the order again for its certificate
				continue
			}
		case acme.StatusPending:
			res, done, err := f.authorize(ctx, o)
			if err != nil || done {
				return res, err
			}
		case acme.StatusProcessing:
		default:
			return plugin.IssueResult{}, plugin.Errorf(plugin.CodePermanent, "order %s has status %q, unknown to ACME", o.URI, o.Status)
		}
		// The CA is validating or issuing: wait within the bound, as
		// long as the CA asks if it does.
		wait := max(pollInterval, retryAfter)
		if !f.now().Add(wait).Before(deadline) {
			return f.pending(max(pendingRetry, retryAfter), nil), nil
		}
		select {
		case <-ctx.Done():
			return plugin.IssueResult{}, ctx.Err()
		case <-time.After(wait):
		}
		o = nil
	}
}

func (f *flow) pending(retry time.Duration, chals []plugin.Challenge) plugin.IssueResult {
	return plugin.IssueResult{Status: plugin.StatusPending, OrderID: f.st.id(), RetryAfter: retry, Challenges: chals}
}

// authorize works on the pending authorizations of o: it accepts the
// HTTP-01 challenges the host presents and returns the others for it to
// present; it publishes DNS-01 records and accepts their challenges once
// the records have propagated. done is false when the CA is left to
// validate, which the caller awaits.
func (f *flow) authorize(ctx context.Context, o *acme.Order) (res plugin.IssueResult, done bool, err error) {
	var toPresent []plugin.Challenge
	var notPropagated []string
	presentedNow := false
	for _, zurl := range o.AuthzURLs {
		z, err := f.c.acme.GetAuthorization(ctx, zurl)
		if err != nil {
			return res, true, classify(err, "read authorization "+zurl)
		}
		name := authzName(z)
		switch z.Status {
		case acme.StatusValid:
			continue
		case acme.StatusPending:
		default:
			err := authzError(z, name)
			f.cleanup(ctx, o)
			return res, true, err
		}
		ch := pickChallenge(z, f.s.challenge)
		if ch == nil {
			var offered []string
			for _, c := range z.Challenges {
				offered = append(offered, c.Type)
			}
			return res, true, plugin.Errorf(plugin.CodePermanent, "the CA offers no %s challenge for %s (it offers %s): change %s",
				f.s.challenge, name, strings.Join(offered, ", "), fieldChallenge)
		}
		if ch.Status != acme.StatusPending {
			continue // accepted earlier: the CA is validating
		}
		keyAuth, err := f.c.acme.HTTP01ChallengeResponse(ch.Token) // the key authorization, for any challenge type
		if err != nil {
			return res, true, fmt.Errorf("key authorization: %w", err)
		}
		switch ch.Type {
		case challengeHTTP01:
			if !slices.Contains(f.req.PresentedChallenges, ch.Token) {
				toPresent = append(toPresent, plugin.Challenge{Type: plugin.ChallengeHTTP01, Identifier: name,
					Token: ch.Token, KeyAuthorization: keyAuth, Solver: f.s.solver})
				continue
			}
		case challengeDNS01:
			dch := dns01.Challenge{Domain: name, KeyAuthorization: keyAuth}
			if f.st.presented.IsZero() {
				if err := f.present(ctx, dch); err != nil {
					return res, true, err
				}
				presentedNow = true // checked from the next call on
				continue
			}
			ok, detail, err := f.propagated(ctx, dch)
			if err != nil {
				f.cleanup(ctx, o)
				return res, true, err
			}
			if !ok {
				notPropagated = append(notPropagated, detail)
				continue
			}
		}
		if _, err := f.c.acme.Accept(ctx, ch); err != nil {
			return res, true, classify(err, "ask the CA to validate "+name)
		}
		f.log.Info("challenge accepted", "type", ch.Type, "identifier", name, "order", o.URI)
	}
	if presentedNow {
		f.st.presented = f.now()
		f.log.Info("DNS-01 records published", "order", o.URI)
	}
	switch {
	case len(toPresent) > 0:
		return f.pending(time.Second, toPresent), true, nil
	case presentedNow || len(notPropagated) > 0:
		if len(notPropagated) > 0 {
			f.log.Info("DNS-01 records not propagated yet", "order", o.URI, "detail", strings.Join(notPropagated, "; "))
		}
		return f.pending(f.dnsChecker().Interval(), nil), true, nil
	}
	return res, false, nil
}

// authzName is the name an authorization is for, "*." put back for a
// wildcard.
func authzName(z *acme.Authorization) string {
	if z.Wildcard {
		return "*." + z.Identifier.Value
	}
	return z.Identifier.Value
}

func pickChallenge(z *acme.Authorization, typ string) *acme.Challenge {
	for _, c := range z.Challenges {
		if c.Type == typ {
			return c
		}
	}
	return nil
}

// authzError describes a failed authorization with the CA's problem.
func authzError(z *acme.Authorization, name string) error {
	var probs []string
	for _, c := range z.Challenges {
		if c.Error == nil {
			continue
		}
		var ae *acme.Error
		if errors.As(c.Error, &ae) {
			probs = append(probs, c.Type+": "+describeProblem(ae))
		} else {
			probs = append(probs, c.Type+": "+c.Error.Error())
		}
	}
	msg := fmt.Sprintf("the CA did not validate %s (authorization %s is %s)", name, z.URI, z.Status)
	if len(probs) > 0 {
		msg += ": " + strings.Join(probs, "; ")
	}
	return plugin.Errorf(plugin.CodePermanent, "%s", msg)
}

// invalidOrder describes an invalid order: its problem and those of its
// failed authorizations.
func (c *conn) invalidOrder(ctx context.Context, o *acme.Order) error {
	msg := fmt.Sprintf("order %s is invalid", o.URI)
	if o.Error != nil {
		var ae *acme.Error
		if errors.As(o.Error, &ae) {
			msg += ": " + describeProblem(ae)
		} else {
			msg += ": " + o.Error.Error()
		}
	}
	for _, zurl := range o.AuthzURLs {
		z, err := c.acme.GetAuthorization(ctx, zurl)
		if err != nil || z.Status == acme.StatusValid || z.Status == acme.StatusPending {
			continue
		}
		var pe *plugin.Error
		if errors.As(authzError(z, authzName(z)), &pe) {
			msg += "; " + pe.Message
		}
	}
	return plugin.Errorf(plugin.CodePermanent, "%s", msg)
}

// finalize sends the request's CSR and waits for the certificate within
// the bound. With done false, a result with no Status means the order is
// finalized (read it again), one with StatusPending that the CA was
// already finalizing it (wait).
func (f *flow) finalize(ctx context.Context, o *acme.Order, deadline time.Time) (plugin.IssueResult, bool, error) {
	// However little of the bound is left, the finalization is sent and
	// given a moment (the caller's context still bounds it): an order
	// left ready by every call would never be finalized.
	deadline = later(deadline, f.now().Add(minFinalizeWait))
	fctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	// CreateCertFromOrder, not CreateOrderCert: the latter loses the
	// order's URL when the CA answers the finalization still processing.
	_, _, err := f.c.acme.CreateCertFromOrder(fctx, o, f.req.CSR, true)
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return plugin.IssueResult{}, true, ctx.Err()
	case fctx.Err() != nil:
		return f.pending(pendingRetry, nil), true, nil
	default:
		var ae *acme.Error
		if errors.As(err, &ae) && problemType(ae) == "orderNotReady" {
			// Finalized by an earlier call: wait for it like any processing order.
			return plugin.IssueResult{Status: plugin.StatusPending}, false, nil
		}
		return plugin.IssueResult{}, true, classify(err, "finalize order "+o.URI)
	}
	f.log.Info("ACME order finalized", "order", o.URI)
	// The caller reads the order again for its certificate URL, and
	// fetches the chain the configuration prefers.
	return plugin.IssueResult{}, false, nil
}

// certificate fetches the certificate of a valid order, the preferred
// chain if the CA offers it, and the CA's renewal window.
func (c *conn) certificate(ctx context.Context, log *slog.Logger, o *acme.Order) (plugin.IssueResult, error) {
	if o.CertURL == "" {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodeTransient, "order %s is valid but names no certificate yet", o.URI)
	}
	der, err := c.acme.FetchCert(ctx, o.CertURL, true)
	if err != nil {
		return plugin.IssueResult{}, classify(err, "download certificate "+o.CertURL)
	}
	if want := c.s.preferredChain; want != "" && !chainMatches(der, want) {
		alts, err := c.acme.ListCertAlternates(ctx, o.CertURL)
		if err != nil {
			return plugin.IssueResult{}, classify(err, "list alternate chains of "+o.CertURL)
		}
		found := false
		for _, alt := range alts {
			d, err := c.acme.FetchCert(ctx, alt, true)
			if err != nil {
				return plugin.IssueResult{}, classify(err, "download alternate chain "+alt)
			}
			if chainMatches(d, want) {
				der, found = d, true
				break
			}
		}
		if !found {
			log.Warn("no chain of the CA ends at the preferred issuer; using the default chain", "preferred_chain", want,
				"alternates", len(alts))
		}
	}
	leaf, err := x509.ParseCertificate(der[0])
	if err != nil {
		return plugin.IssueResult{}, plugin.Errorf(plugin.CodePermanent, "the CA's certificate does not parse: %v", err)
	}
	res := plugin.IssueResult{Status: plugin.StatusIssued, OrderID: o.URI,
		CertificatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der[0]}))}
	var chain strings.Builder
	for _, d := range der[1:] {
		chain.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d}))
	}
	res.ChainPEM = chain.String()
	if c.dir.RenewalInfo != "" {
		start, end, err := c.renewalWindow(ctx, leaf)
		if err != nil {
			// The certificate is issued: renewal information is advice,
			// and the host renews by its own policy without it.
			log.Warn("no renewal information", "certificate", o.CertURL, "err", err)
		} else {
			res.RenewalWindowStart, res.RenewalWindowEnd = start, end
		}
	}
	return res, nil
}

// chainMatches reports whether the chain's top certificate is, or was
// issued by, the named CA.
func chainMatches(der [][]byte, name string) bool {
	top, err := x509.ParseCertificate(der[len(der)-1])
	if err != nil {
		return false
	}
	return strings.EqualFold(top.Issuer.CommonName, name) || strings.EqualFold(top.Subject.CommonName, name)
}

// certID is the ARI identifier of a certificate (RFC 9773 §4.1): its
// authority key identifier and its serial's DER bytes, base64url.
func certID(cert *x509.Certificate) (string, error) {
	if len(cert.AuthorityKeyId) == 0 {
		return "", errors.New("the certificate has no authority key identifier")
	}
	serial := cert.SerialNumber.Bytes()
	if len(serial) == 0 || serial[0]&0x80 != 0 {
		serial = append([]byte{0}, serial...)
	}
	b64 := base64.RawURLEncoding
	return b64.EncodeToString(cert.AuthorityKeyId) + "." + b64.EncodeToString(serial), nil
}

// renewalWindow asks the CA's renewalInfo for cert's suggested window.
func (c *conn) renewalWindow(ctx context.Context, cert *x509.Certificate) (time.Time, time.Time, error) {
	id, err := certID(cert)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	u := strings.TrimSuffix(c.dir.RenewalInfo, "/") + "/" + id
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	req.Header.Set("User-Agent", c.acme.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return time.Time{}, time.Time{}, errors.New(describeProblem(problemFrom(resp, body)))
	}
	var ri struct {
		SuggestedWindow struct {
			Start time.Time `json:"start"`
			End   time.Time `json:"end"`
		} `json:"suggestedWindow"`
	}
	if err := json.Unmarshal(body, &ri); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("renewal information: %w", err)
	}
	w := ri.SuggestedWindow
	if w.Start.IsZero() || w.End.Before(w.Start) {
		return time.Time{}, time.Time{}, fmt.Errorf("renewal information has no usable window: %s", body)
	}
	return w.Start, w.End, nil
}

// present publishes a DNS-01 record through the configured solver.
func (f *flow) present(ctx context.Context, ch dns01.Challenge) error {
	s, err := f.dnsSolver()
	if err != nil {
		return err
	}
	if err := s.Present(ctx, ch); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		fqdn, _ := ch.Record()
		return plugin.Errorf(plugin.CodeTransient, "publish the DNS-01 record %s through %s: %v", fqdn, f.s.dns.Provider, err)
	}
	return nil
}

// propagated checks once whether ch's record is served everywhere; once
// the propagation bound since presentation has passed, it is a permanent
// error naming the servers that lack it.
func (f *flow) propagated(ctx context.Context, ch dns01.Challenge) (bool, string, error) {
	fqdn, value := ch.Record()
	ck := f.dnsChecker()
	ok, detail, err := ck.CheckBy(ctx, fqdn, value, f.st.presented.Add(ck.Timeout()))
	var pe *dns01.PropagationError
	switch {
	case ok:
		return true, detail, nil
	case errors.As(err, &pe):
		return false, "", plugin.Errorf(plugin.CodePermanent, "DNS-01 for %s: %v", ch.Domain, pe)
	case ctx.Err() != nil:
		return false, "", ctx.Err()
	case err != nil:
		return false, err.Error(), nil // the servers could not be asked: try again within the bound
	}
	return false, detail, nil
}

func (f *flow) dnsSolver() (dns01.Solver, error) {
	if f.solver == nil {
		s, err := dns01.New(f.s.dns)
		if err != nil {
			return nil, asConfigError(err, dns01.FieldProvider)
		}
		f.solver = s
	}
	return f.solver, nil
}

func (f *flow) dnsChecker() *dns01.Checker {
	if f.checker == nil {
		ck, err := dns01.NewChecker(f.s.dns)
		if err != nil {
			// loadSettings checked the configuration; a checker that cannot
			// be made (no resolver) checks nothing and times out clearly.
			f.log.Warn("DNS propagation checker", "err", err)
			ck, _ = dns01.NewChecker(dns01.Config{Resolvers: []string{"127.0.0.1:53"}})
		}
		f.checker = ck
	}
	return f.checker
}

// cleanup removes the DNS-01 records of o, if the OrderID says they are
// published; failures are logged, as the order goes on without them.
func (f *flow) cleanup(ctx context.Context, o *acme.Order) {
	if f.st.presented.IsZero() {
		return
	}
	s, err := f.dnsSolver()
	if err != nil {
		f.log.Warn("DNS-01 cleanup", "err", err)
		return
	}
	for _, zurl := range o.AuthzURLs {
		z, err := f.c.acme.GetAuthorization(ctx, zurl)
		if err != nil {
			f.log.Warn("DNS-01 cleanup: read authorization", "authorization", zurl, "err", err)
			continue
		}
		ch := pickChallenge(z, challengeDNS01)
		if ch == nil {
			continue
		}
		keyAuth, err := f.c.acme.HTTP01ChallengeResponse(ch.Token)
		if err != nil {
			continue
		}
		if err := s.CleanUp(ctx, dns01.Challenge{Domain: authzName(z), KeyAuthorization: keyAuth}); err != nil {
			f.log.Warn("DNS-01 cleanup", "identifier", authzName(z), "err", err)
		}
	}
	f.st.presented = time.Time{}
}

// sameOrigin reports whether two URLs have the same scheme and host.
func sameOrigin(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil && ua.Host != "" && strings.EqualFold(ua.Scheme, ub.Scheme) && strings.EqualFold(ua.Host, ub.Host)
}

// firstCert parses the first certificate of a PEM text.
func firstCert(text string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}
