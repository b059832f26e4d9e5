package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // the hashes signJWS uses
	_ "crypto/sha512"
	"crypto/tls"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
	"golang.org/x/crypto/acme"

	"github.com/certctl/certctl/sdk/backoff"
)

// requestTimeout bounds one HTTP request to the CA.
const requestTimeout = 30 * time.Second

// maxResponse bounds what is read of a response that is not a certificate.
const maxResponse = 1 << 20

// directory is the CA's directory as this plugin reads it: x/crypto/acme
// does not expose renewalInfo (ARI, RFC 9773).
type directory struct {
	NewNonce    string `json:"newNonce"`
	NewAccount  string `json:"newAccount"`
	NewOrder    string `json:"newOrder"`
	RevokeCert  string `json:"revokeCert"`
	RenewalInfo string `json:"renewalInfo"`
	Meta        struct {
		TermsOfService          string            `json:"termsOfService"`
		ExternalAccountRequired bool              `json:"externalAccountRequired"`
		Profiles                map[string]string `json:"profiles"`
	} `json:"meta"`
}

// conn is what one call uses to talk to the CA: an x/crypto/acme client
// with the account, the directory, and the plain HTTP client under both.
type conn struct {
	s    *settings
	http *http.Client
	acme *acme.Client
	dir  *directory
}

// dial reads the CA's directory and sets up a client for the account in s
// (its key may be nil for calls that need no account).
func dial(ctx context.Context, s *settings) (*conn, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.caBundle != nil {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.caBundle, MinVersion: tls.VersionTLS12}
	}
	hc := &http.Client{Transport: tr, Timeout: requestTimeout}
	c := &conn{s: s, http: hc}
	c.acme = &acme.Client{Key: s.accountKey, DirectoryURL: s.directoryURL, HTTPClient: hc,
		UserAgent: userAgent(), RetryBackoff: retryBackoff}
	if s.accountURL != "" {
		c.acme.KID = acme.KeyID(s.accountURL)
	}
	dir, err := c.fetchDirectory(ctx)
	if err != nil {
		return nil, err
	}
	c.dir = dir
	return c, nil
}

func (c *conn) fetchDirectory(ctx context.Context) (*directory, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.s.directoryURL, nil)
	if err != nil {
		return nil, plugin.InvalidConfig(fieldDirectoryURL, "%v", err)
	}
	req.Header.Set("User-Agent", c.acme.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.netError(ctx, err, "read the ACME directory "+c.s.directoryURL)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, c.netError(ctx, err, "read the ACME directory "+c.s.directoryURL)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, classify(problemFrom(resp, body), "read the ACME directory "+c.s.directoryURL)
	}
	var d directory
	if err := json.Unmarshal(body, &d); err != nil || d.NewOrder == "" || d.NewNonce == "" {
		return nil, plugin.InvalidConfig(fieldDirectoryURL, "%s does not answer with an ACME directory", c.s.directoryURL)
	}
	return &d, nil
}

// netError classifies a failure to reach the CA: a context's own error
// stays as it is, an untrusted TLS certificate is a configuration
// problem, anything else is transient.
func (c *conn) netError(ctx context.Context, err error, what string) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", what, ctx.Err())
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return plugin.InvalidConfig(fieldCABundle, "%s: the server's TLS certificate is not trusted (%v): set %s to the CA that signed it",
			what, certErr.Err, fieldCABundle)
	}
	return plugin.Errorf(plugin.CodeTransient, "%s: the CA is unreachable: %v", what, err)
}

// userAgent names the plugin and its build to the CA (RFC 8555 §6.1 asks
// clients to).
func userAgent() string {
	v := plugin.BuildVersion
	if v == "" {
		v = "dev"
	}
	return "certctl-issuer-acme/" + v
}

// retryBackoff is the acme.Client's retry policy inside one call: a
// rejected nonce is retried at once, a 5xx twice, briefly;
// a 429, or anything with a Retry-After worth waiting for, is not retried
// here but reported, so that the host waits (never a hot loop).
// A CA may reject any nonce (Pebble does so at random): ten retries make
// a run of rejections that fails a call vanishingly rare.
func retryBackoff(n int, _ *http.Request, res *http.Response) time.Duration {
	if res == nil {
		return 0
	}
	if ra := parseRetryAfter(res.Header.Get("Retry-After"), time.Now()); ra > 3*time.Second {
		return 0
	}
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		return 0
	case res.StatusCode == http.StatusBadRequest: // badNonce: the only 4xx x/crypto/acme retries
		if n <= 10 {
			return time.Duration(n) * 10 * time.Millisecond
		}
	default:
		if n <= 2 {
			return time.Duration(n) * 500 * time.Millisecond
		}
	}
	return 0
}

// parseRetryAfter is the wait a Retry-After value asks for, 0 for none.
func parseRetryAfter(v string, now time.Time) time.Duration {
	d, _ := backoff.ParseRetryAfter(v, now)
	return d
}

// problemJSON is a problem document (RFC 7807, RFC 8555 §6.7).
type problemJSON struct {
	Type        string `json:"type"`
	Detail      string `json:"detail"`
	Instance    string `json:"instance"`
	Subproblems []struct {
		Type       string        `json:"type"`
		Detail     string        `json:"detail"`
		Identifier *acme.AuthzID `json:"identifier"`
	} `json:"subproblems"`
}

func (w *problemJSON) toError(e *acme.Error) *acme.Error {
	e.ProblemType, e.Detail, e.Instance = w.Type, w.Detail, w.Instance
	for _, sp := range w.Subproblems {
		e.Subproblems = append(e.Subproblems, acme.Subproblem{Type: sp.Type, Detail: sp.Detail, Identifier: sp.Identifier})
	}
	return e
}

// problemFrom makes an *acme.Error from a response whose body was read.
func problemFrom(resp *http.Response, body []byte) *acme.Error {
	e := &acme.Error{StatusCode: resp.StatusCode, Header: resp.Header}
	var w problemJSON
	if json.Unmarshal(body, &w) != nil {
		e.Detail = strings.TrimSpace(string(body))
		if len(e.Detail) > 512 {
			e.Detail = e.Detail[:512] + "..."
		}
		if e.Detail == "" {
			e.Detail = resp.Status
		}
		return e
	}
	return w.toError(e)
}

// post sends a JWS-signed POST with the account's key ID, for the requests
// x/crypto/acme cannot make (newOrder with "replaces") or whose answer's
// headers it hides (an order's Retry-After). A nil payload makes a
// POST-as-GET. A rejected nonce is retried with the fresh one the CA sent.
func (c *conn) post(ctx context.Context, url string, payload any) (*http.Response, []byte, error) {
	body := []byte{}
	if payload != nil {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return nil, nil, fmt.Errorf("encode request: %w", err)
		}
	}
	if c.s.accountURL == "" {
		// x/crypto/acme finds the account by its key by itself; the
		// requests made here need its URL.
		a, err := c.acme.GetReg(ctx, "")
		if err != nil {
			return nil, nil, classify(err, "find the ACME account")
		}
		c.s.accountURL = a.URI
	}
	nonce, err := c.nonce(ctx)
	if err != nil {
		return nil, nil, err
	}
	for attempt := 1; ; attempt++ {
		jws, err := signJWS(c.s.accountKey, c.s.accountURL, nonce, url, body)
		if err != nil {
			return nil, nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(jws))
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Content-Type", "application/jose+json")
		req.Header.Set("User-Agent", c.acme.UserAgent)
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, nil, c.netError(ctx, err, "POST "+url)
		}
		b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		resp.Body.Close()
		if err != nil {
			return nil, nil, c.netError(ctx, err, "POST "+url)
		}
		if resp.StatusCode < 300 {
			return resp, b, nil
		}
		prob := problemFrom(resp, b)
		next := resp.Header.Get("Replay-Nonce")
		if prob.ProblemType == "urn:ietf:params:acme:error:badNonce" && next != "" && attempt <= 10 {
			nonce = next
			continue
		}
		return resp, b, prob
	}
}

func (c *conn) nonce(ctx context.Context) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.dir.NewNonce, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("User-Agent", c.acme.UserAgent)
	resp, err := c.http.Do(req)
	if err != nil {
		return "", c.netError(ctx, err, "get a nonce")
	}
	resp.Body.Close()
	n := resp.Header.Get("Replay-Nonce")
	if n == "" {
		return "", classify(problemFrom(resp, nil), "get a nonce from "+c.dir.NewNonce)
	}
	return n, nil
}

// signJWS makes the flattened JWS of RFC 8555 §6.2 in key ID form.
func signJWS(key crypto.Signer, kid, nonce, url string, payload []byte) ([]byte, error) {
	alg, hash, err := jwsAlg(key)
	if err != nil {
		return nil, err
	}
	protected, _ := json.Marshal(map[string]string{"alg": alg, "kid": kid, "nonce": nonce, "url": url})
	b64 := base64.RawURLEncoding
	input := b64.EncodeToString(protected) + "." + b64.EncodeToString(payload)
	h := hash.New()
	h.Write([]byte(input))
	sig, err := key.Sign(rand.Reader, h.Sum(nil), hash)
	if err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	if k, ok := key.(*ecdsa.PrivateKey); ok {
		// JWS wants r||s, each the size of the curve, not ASN.1.
		var rs struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(sig, &rs); err != nil {
			return nil, fmt.Errorf("sign request: %w", err)
		}
		size := (k.Curve.Params().BitSize + 7) / 8
		sig = append(rs.R.FillBytes(make([]byte, size)), rs.S.FillBytes(make([]byte, size))...)
	}
	return json.Marshal(map[string]string{"protected": b64.EncodeToString(protected),
		"payload": b64.EncodeToString(payload), "signature": b64.EncodeToString(sig)})
}

func jwsAlg(key crypto.Signer) (string, crypto.Hash, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return "ES256", crypto.SHA256, nil
		case elliptic.P384():
			return "ES384", crypto.SHA384, nil
		}
	case *rsa.PrivateKey:
		return "RS256", crypto.SHA256, nil
	}
	return "", 0, fmt.Errorf("unsupported account key %T", key)
}
