package client

// ops.go: the routes outside /api/v1 (health, readiness, CRLs), which need
// no API key, and the OpenAPI document.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/certctl/certctl/sdk/api"
)

// Health reports that the server process is up (GET /healthz).
func (c *Client) Health(ctx context.Context) (*api.Health, error) {
	return call[api.Health](ctx, c, http.MethodGet, "/healthz", nil)
}

// Ready reports whether the server can serve: its database answers and is
// migrated (GET /readyz). A server that is not ready is an *Error with
// status 503 and code "unavailable" whose message gives the failed checks;
// the returned Health then holds them too. Ready answers at once, without
// retrying a 503, so that callers polling for readiness see the state now.
func (c *Client) Ready(ctx context.Context) (*api.Health, error) {
	h := new(api.Health)
	err := c.do(ctx, request{method: http.MethodGet, path: "/readyz", noRetry: true}, h)
	if err == nil {
		return h, nil
	}
	var e *Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusServiceUnavailable {
		return nil, err
	}
	// /readyz answers 503 with a Health body, not the API's error body.
	var body api.Health
	if json.Unmarshal(e.body, &body) == nil && body.Status != "" {
		e.Code = api.CodeUnavailable
		e.Message = "not ready"
		for _, name := range slices.Sorted(maps.Keys(body.Checks)) {
			if state := body.Checks[name]; state != "ok" {
				e.Message += fmt.Sprintf("; %s: %s", name, state)
			}
		}
		return &body, e
	}
	return nil, err
}

// maxCRL bounds the size of a CRL.
const maxCRL = 64 << 20

// CRL returns the DER-encoded certificate revocation list of an issuer
// whose CA certctl runs, named by the issuer's id or name (GET
// /crl/{issuer}.crl). An unknown issuer, or one whose CA publishes its own
// CRLs, is IsNotFound.
func (c *Client) CRL(ctx context.Context, issuer string) ([]byte, error) {
	s, err := seg("issuer", issuer)
	if err != nil {
		return nil, err
	}
	der, _, err := c.doRaw(ctx, request{method: http.MethodGet, path: "/crl/" + s + ".crl",
		accept: "application/pkix-crl, application/json"}, maxCRL)
	return der, err
}

// maxOpenAPI bounds the size of the OpenAPI document.
const maxOpenAPI = 16 << 20

// OpenAPI returns the server's OpenAPI 3 document (GET
// /api/v1/openapi.json), as JSON.
func (c *Client) OpenAPI(ctx context.Context) (json.RawMessage, error) {
	data, _, err := c.doRaw(ctx, request{method: http.MethodGet, path: "/api/v1/openapi.json"}, maxOpenAPI)
	return data, err
}

// RotateEncryptionKey re-seals every stored secret (sensitive connector
// fields, server-held private keys) with the server's current encryption
// key, after an operator made a new key current. It is safe to repeat: a
// run that did not finish (Complete false, Failed naming what failed) is
// completed by the next. Admin only.
func (c *Client) RotateEncryptionKey(ctx context.Context) (*api.KeyRotation, error) {
	return call[api.KeyRotation](ctx, c, http.MethodPost, "/api/v1/encryption-key/rotate", nil)
}
