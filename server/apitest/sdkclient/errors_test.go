package sdkclient_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// TestTypedErrors checks that the real server's error replies come back as
// *client.Error with the right helpers true.
func TestTypedErrors(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	ctx := context.Background()
	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local"}))(t)
	viewerKey := must(c.CreateAPIKey(ctx, api.APIKeyRequest{Name: "viewer", Role: "viewer"}))(t)
	viewer := must(client.New(env.URL, client.WithAPIKey(viewerKey.Key)))(t)
	stranger := must(client.New(env.URL, client.WithAPIKey("cck_not-a-key-this-server-knows")))(t)
	anon := must(client.New(env.URL))(t)
	const noSuchID = "0195b1de-6a7c-7d3e-9f20-5c1d2e3f4a5b"

	tests := []struct {
		name   string
		call   func() error
		status int
		is     func(error) bool
		code   string
		field  string
	}{
		{"not found", func() error { _, err := c.GetIssuer(ctx, noSuchID); return err },
			404, client.IsNotFound, api.CodeNotFound, ""},
		{"bad id", func() error { _, err := c.GetCertificate(ctx, "nope"); return err },
			400, client.IsInvalid, api.CodeInvalid, "id"},
		{"duplicate name", func() error {
			_, err := c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local"})
			return err
		}, 409, client.IsConflict, api.CodeConflict, ""},
		{"invalid field", func() error {
			_, err := c.CreateCertificate(ctx, api.CertificateRequest{Name: "x", CommonName: "x.example.com", IssuerID: iss.ID, KeyType: "dsa-1024"})
			return err
		}, 400, client.IsInvalid, api.CodeInvalid, "key_type"},
		{"invalid config", func() error {
			_, err := c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca2", Type: "local", Config: map[string]any{"ca_key_type": "dsa"}})
			return err
		}, 400, client.IsInvalid, api.CodeInvalid, "config.ca_key_type"},
		{"bad key", func() error { _, err := stranger.ListIssuers(ctx, client.IssuerListOptions{}); return err },
			401, client.IsUnauthorized, api.CodeUnauthorized, ""},
		{"no key", func() error { _, err := anon.ListIssuers(ctx, client.IssuerListOptions{}); return err },
			401, client.IsUnauthorized, api.CodeUnauthorized, ""},
		{"viewer writes", func() error {
			_, err := viewer.CreateIssuer(ctx, api.IssuerRequest{Name: "mine", Type: "local"})
			return err
		}, 403, client.IsForbidden, api.CodeForbidden, ""},
		{"viewer reads keys", func() error { _, err := viewer.ListAPIKeys(ctx, client.ListOptions{}); return err },
			403, client.IsForbidden, api.CodeForbidden, ""},
	}
	helpers := []func(error) bool{client.IsNotFound, client.IsConflict, client.IsInvalid, client.IsUnauthorized, client.IsForbidden, client.IsUnavailable}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not a *client.Error", err, err)
			}
			if e.StatusCode != tt.status || e.Code != tt.code || e.Field != tt.field || e.Message == "" || e.RequestID == "" {
				t.Errorf("error = %+v, want status %d code %s field %q", e, tt.status, tt.code, tt.field)
			}
			if client.Code(err) != tt.code {
				t.Errorf("Code = %q", client.Code(err))
			}
			trues := 0
			for _, is := range helpers {
				if is(err) {
					trues++
				}
			}
			if !tt.is(err) || trues != 1 {
				t.Errorf("helpers: the right one %v, %d true", tt.is(err), trues)
			}
			if !strings.Contains(err.Error(), tt.code) || !strings.Contains(err.Error(), e.RequestID) {
				t.Errorf("Error() = %q", err.Error())
			}
			// Wrapped errors are recognised too.
			if wrapped := errors.Join(errors.New("context"), err); !tt.is(wrapped) || client.Code(wrapped) != tt.code {
				t.Error("helpers do not see through wrapping")
			}
		})
	}

	if client.Code(nil) != "" || client.IsNotFound(nil) || client.Code(context.Canceled) != "" {
		t.Error("helpers of a non-API error")
	}
	// Ids that would address another route are refused before sending.
	for _, id := range []string{"", ".", ".."} {
		if _, err := c.GetIssuer(ctx, id); err == nil || client.Code(err) != "" {
			t.Errorf("GetIssuer(%q): %v", id, err)
		}
	}
	if err := c.DeleteCertificate(ctx, ""); err == nil {
		t.Error("DeleteCertificate(\"\") sent a request")
	}
}
