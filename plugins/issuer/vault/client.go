// This file builds the Vault API client for a configuration and gives it
// a token: the configured one, or one from an AppRole login, which is kept
// for later calls and renewed (or replaced by a new login) as it nears
// its expiry.

package main

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/sdk/backoff"
)

// client is a Vault API client for one call, with its token set.
type client struct {
	s      settings
	vc     *vault.Client
	tokens *tokenCache
	log    *slog.Logger
}

// connect builds a client for s and gives it a token.
func (i *issuer) connect(ctx context.Context, s settings) (*client, error) {
	vc, err := newVaultClient(s)
	if err != nil {
		return nil, err
	}
	c := &client{s: s, vc: vc, tokens: i.tokens, log: i.log}
	if !s.approle() {
		vc.SetToken(s.token)
		return c, nil
	}
	tok, err := i.tokens.get(ctx, s)
	if err != nil {
		return nil, err
	}
	vc.SetToken(tok)
	return c, nil
}

// do runs call; when an AppRole token is refused (revoked, or expired
// early in Vault), it logs in once more and runs call again.
func (c *client) do(ctx context.Context, call func() error) error {
	err := call()
	var re *vault.ResponseError
	if err == nil || !c.s.approle() || !errors.As(err, &re) || re.StatusCode != http.StatusForbidden {
		return err
	}
	c.tokens.forget(c.s, c.vc.Token())
	tok, lerr := c.tokens.get(ctx, c.s)
	if lerr != nil {
		return lerr
	}
	c.vc.SetToken(tok)
	return call()
}

// newVaultClient builds Vault's API client from the configuration alone.
func newVaultClient(s settings) (*vault.Client, error) {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: s.tlsServerName}
	if s.caCertPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(s.caCertPEM)) {
			return nil, plugin.InvalidConfig(fieldCACert, "holds no PEM certificate")
		}
		tlsConfig.RootCAs = pool
	}
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     tlsConfig,
		TLSHandshakeTimeout: 10 * time.Second,
		// The client lives for one call (its settings come with the call),
		// so no connection is kept for later.
		DisableKeepAlives: true,
	}
	cfg := &vault.Config{
		Address: s.address,
		HttpClient: &http.Client{Transport: transport,
			// Vault's client follows a standby's redirect itself, once.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		// No retries inside a call: the host retries transient failures
		// later, with backoff, and every call has the host's deadline.
		MaxRetries: 0,
	}
	vc, err := vault.NewClient(cfg)
	if err != nil {
		return nil, plugin.InvalidConfig(fieldAddress, "Vault's client refuses it: %v", err)
	}
	// NewClient also reads VAULT_TOKEN, VAULT_NAMESPACE and VAULT_HEADERS
	// from the process's environment (the server's): only the
	// configuration may count, so all three are set again here.
	vc.SetHeaders(http.Header{vault.RequestHeaderName: []string{"true"}})
	vc.ClearToken()
	vc.ClearNamespace()
	if s.namespace != "" {
		vc.SetNamespace(s.namespace)
	}
	return vc, nil
}

// write is Logical().WriteWithContext keeping the answer's Retry-After,
// which Vault sends with a 429 from a rate limit quota.
func write(ctx context.Context, vc *vault.Client, path string, data map[string]any) (*vault.Secret, error) {
	body, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("encode request to %s: %w", path, err)
	}
	resp, err := vc.Logical().WriteRawWithContext(ctx, path, body)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		if resp != nil {
			if d, ok := backoff.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				return nil, &retryAfterError{err: err, after: d}
			}
		}
		return nil, err
	}
	return vault.ParseSecret(resp.Body)
}

// retryAfterError is a failed answer with the wait Vault asked for.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

// tokenCache keeps AppRole tokens by credentials, so that calls share a
// login instead of each making one (every login creates a token in Vault
// and may use up a secret ID with limited uses).
type tokenCache struct {
	now        func() time.Time
	refreshing chan struct{} // holds one token while a renewal or login runs
	mu         sync.Mutex    // guards m
	m          map[[32]byte]*cachedToken
}

type cachedToken struct {
	token     string
	expires   time.Time // zero: never
	lease     time.Duration
	renewable bool
}

func newTokenCache(now func() time.Time) *tokenCache {
	return &tokenCache{now: now, refreshing: make(chan struct{}, 1), m: map[[32]byte]*cachedToken{}}
}

// cacheKey identifies the credentials and where they log in; the secret
// ID enters it hashed only.
func cacheKey(s settings) [32]byte {
	return sha256.Sum256([]byte(s.address + "\x00" + s.namespace + "\x00" + s.approleMount + "\x00" +
		s.roleID + "\x00" + s.secretID + "\x00" + s.caCertPEM + "\x00" + s.tlsServerName))
}

// refreshMargin is how long before its expiry a token is renewed: a fifth
// of its lease, at most a minute, so that no call starts with a token
// about to lapse.
func refreshMargin(lease time.Duration) time.Duration { return min(lease/5, time.Minute) }

// get returns a token for s: the cached one while it is fresh, else the
// cached one renewed, else one from a new login. Renewals and logins take
// turns, so that calls arriving together share one login.
func (tc *tokenCache) get(ctx context.Context, s settings) (string, error) {
	key := cacheKey(s)
	if tok, ok := tc.fresh(key); ok {
		return tok, nil
	}
	select {
	case tc.refreshing <- struct{}{}:
		defer func() { <-tc.refreshing }()
	case <-ctx.Done():
		return "", ctx.Err()
	}
	if tok, ok := tc.fresh(key); ok { // another call refreshed it meanwhile
		return tok, nil
	}
	tc.mu.Lock()
	cur := tc.m[key]
	tc.mu.Unlock()
	if cur != nil && cur.renewable && tc.now().Before(cur.expires) {
		if next, err := tc.renew(ctx, s, cur); err == nil {
			tc.put(key, next)
			return next.token, nil
		} else if ctx.Err() != nil {
			return "", err
		}
		// A refused renewal (the token reached its max TTL, or was
		// revoked) is no failure: log in again.
	}
	next, err := tc.login(ctx, s)
	if err != nil {
		return "", err
	}
	tc.put(key, next)
	return next.token, nil
}

// fresh returns the cached token of key if it is not due for renewal.
func (tc *tokenCache) fresh(key [32]byte) (string, bool) {
	tc.mu.Lock()
	cur := tc.m[key]
	tc.mu.Unlock()
	if cur != nil && (cur.expires.IsZero() || tc.now().Before(cur.expires.Add(-refreshMargin(cur.lease)))) {
		return cur.token, true
	}
	return "", false
}

func (tc *tokenCache) put(key [32]byte, t *cachedToken) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	tc.m[key] = t
}

// forget drops the token of s after Vault refused it, unless another
// call has replaced it already.
func (tc *tokenCache) forget(s settings, refused string) {
	tc.mu.Lock()
	defer tc.mu.Unlock()
	if key := cacheKey(s); tc.m[key] != nil && tc.m[key].token == refused {
		delete(tc.m, key)
	}
}

// login logs in with AppRole.
func (tc *tokenCache) login(ctx context.Context, s settings) (*cachedToken, error) {
	vc, err := newVaultClient(s) // without a token
	if err != nil {
		return nil, err
	}
	sec, err := write(ctx, vc, "auth/"+s.approleMount+"/login",
		map[string]any{"role_id": s.roleID, "secret_id": s.secretID})
	if err != nil {
		return nil, vaultError(err, s, "AppRole login at auth/"+s.approleMount, loginErrors)
	}
	if sec == nil || sec.Auth == nil || sec.Auth.ClientToken == "" {
		return nil, plugin.Errorf(plugin.CodePermanent, "Vault's AppRole login at auth/%s returned no token", s.approleMount)
	}
	return tc.fromAuth(sec.Auth), nil
}

// renew renews a renewable token, keeping it.
func (tc *tokenCache) renew(ctx context.Context, s settings, cur *cachedToken) (*cachedToken, error) {
	vc, err := newVaultClient(s)
	if err != nil {
		return nil, err
	}
	vc.SetToken(cur.token)
	sec, err := write(ctx, vc, "auth/token/renew-self", map[string]any{})
	if err != nil {
		return nil, err
	}
	if sec == nil || sec.Auth == nil {
		return nil, errors.New("renew-self returned no auth")
	}
	next := tc.fromAuth(sec.Auth)
	if next.token == "" {
		next.token = cur.token
	}
	// Near its max TTL Vault renews for less than asked: then a new login
	// beats renewing ever shorter leases.
	if next.lease < cur.lease/2 {
		return nil, errors.New("the token is near its max TTL")
	}
	return next, nil
}

func (tc *tokenCache) fromAuth(a *vault.SecretAuth) *cachedToken {
	t := &cachedToken{token: a.ClientToken, renewable: a.Renewable, lease: time.Duration(a.LeaseDuration) * time.Second}
	if t.lease > 0 {
		t.expires = tc.now().Add(t.lease)
	}
	return t
}
