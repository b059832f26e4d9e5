package sdkclient_test

import (
	"context"
	"slices"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/server/core"
)

// TestValidateConnectors: the validate routes run the create (or update)
// checks through the real plugins, answer with the normalised, redacted
// configuration, and store nothing.
func TestValidateConnectors(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	ctx := context.Background()

	// An issuer: defaults filled in, nothing provisioned, nothing stored.
	v := must(c.ValidateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	if v.Kind != "issuer" || v.Type != "local" || v.Config["ca_key_type"] != "ecdsa-p256" || v.Config["validity"] == nil {
		t.Errorf("ValidateIssuer = %+v", v)
	}
	if _, ok := v.Config["ca_certificate_pem"]; ok || len(v.SecretFields) != 0 {
		t.Errorf("validation provisioned a CA: %+v", v)
	}
	if l := must(c.ListIssuers(ctx, client.IssuerListOptions{}))(t); len(l.Items) != 0 {
		t.Errorf("validation stored issuers: %+v", l.Items)
	}
	// A typo in a field, a wrong value, an unknown type: the create's errors.
	for _, tc := range []struct {
		req   api.IssuerRequest
		field string
	}{
		{api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_typ": "ecdsa-p256"}}, "config.ca_key_typ"},
		{api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "dsa"}}, "config.ca_key_type"},
		{api.IssuerRequest{Name: "ca", Type: "no-such-ca"}, "type"},
		{api.IssuerRequest{Name: "", Type: "local"}, "name"},
	} {
		_, err := c.ValidateIssuer(ctx, tc.req)
		if e, ok := client.AsError(err); !ok || !client.IsInvalid(err) || e.Field != tc.field {
			t.Errorf("ValidateIssuer(%+v): %v; want invalid on %s", tc.req, err, tc.field)
		}
	}

	// A notifier: the plugin's own check runs, sensitive fields are named only.
	n := must(c.ValidateNotifier(ctx, api.NotifierRequest{Name: "hook", Type: "webhook",
		Config: map[string]any{"url": "https://hooks.example.com/certctl", "secret": "s3cret"}}))(t)
	if n.Kind != "notifier" || !slices.Equal(n.SecretFields, []string{"secret", "url"}) || n.Config["url"] != nil ||
		n.Config["secret"] != nil || n.Config["timeout"] != "10s" {
		t.Errorf("ValidateNotifier = %+v", n)
	}
	if _, err := c.ValidateNotifier(ctx, api.NotifierRequest{Name: "hook", Type: "webhook",
		Config: map[string]any{"url": "ftp://hooks.example.com/"}}); !client.IsInvalid(err) {
		t.Errorf("webhook with an ftp URL: %v; want invalid", err)
	}

	// As an update: the stored (sensitive) fields count, the type is fixed.
	hook := must(c.CreateNotifier(ctx, api.NotifierRequest{Name: "hook", Type: "webhook",
		Config: map[string]any{"url": "https://hooks.example.com/certctl"}}))(t)
	u := must(c.ValidateNotifierUpdate(ctx, hook.ID, api.NotifierRequest{Name: "hook", Config: map[string]any{"timeout": "5s"}}))(t)
	if u.Config["timeout"] != "5s" || !slices.Equal(u.SecretFields, []string{"url"}) {
		t.Errorf("ValidateNotifierUpdate = %+v", u)
	}
	if _, err := c.ValidateNotifier(ctx, api.NotifierRequest{Name: "hook", Type: "webhook", Config: map[string]any{"timeout": "5s"}}); !client.IsInvalid(err) {
		t.Errorf("a new webhook without url: %v; want invalid", err)
	}
	if _, err := c.ValidateNotifierUpdate(ctx, hook.ID, api.NotifierRequest{Name: "hook", Type: "email"}); !client.IsInvalid(err) {
		t.Errorf("type change: %v; want invalid", err)
	}
	if got := must(c.GetNotifier(ctx, hook.ID))(t); got.Config["timeout"] != "10s" {
		t.Errorf("validating an update changed the notifier: %+v", got)
	}
	if _, err := c.ValidateNotifierUpdate(ctx, "0190d0a0-0000-7000-8000-000000000000", api.NotifierRequest{Name: "x"}); !client.IsNotFound(err) {
		t.Errorf("update of a missing notifier: %v; want not found", err)
	}
	if _, err := c.ValidateNotifierUpdate(ctx, "", api.NotifierRequest{Name: "x"}); err == nil {
		t.Error("an empty id was sent")
	}

	// A target: its agent is checked too.
	tv := must(c.ValidateTarget(ctx, api.TargetRequest{Name: "web", Type: "nginx", Config: map[string]any{"certificate_path": "/etc/ssl/w.pem"}}))(t)
	if tv.Kind != "target" || tv.Type != "nginx" {
		t.Errorf("ValidateTarget = %+v", tv)
	}
	missing := "0190d0a0-0000-7000-8000-000000000000"
	if _, err := c.ValidateTarget(ctx, api.TargetRequest{Name: "web", Type: "nginx", AgentID: &missing}); !client.IsInvalid(err) {
		t.Errorf("target on a missing agent: %v; want invalid", err)
	}
	tgt := must(c.CreateTarget(ctx, api.TargetRequest{Name: "web", Type: "nginx", Config: map[string]any{"certificate_path": "/etc/ssl/w.pem"}}))(t)
	if tu := must(c.ValidateTargetUpdate(ctx, tgt.ID, api.TargetRequest{Name: "web2"}))(t); tu.Config["certificate_path"] != "/etc/ssl/w.pem" {
		t.Errorf("ValidateTargetUpdate = %+v", tu)
	}
	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local"}))(t)
	if iu := must(c.ValidateIssuerUpdate(ctx, iss.ID, api.IssuerRequest{Name: "ca", Config: map[string]any{"validity": "7d"}}))(t); iu.Config["validity"] != "7d" ||
		iu.Config["ca_certificate_pem"] != iss.Config["ca_certificate_pem"] || !slices.Contains(iu.SecretFields, "ca_private_key_pem") {
		t.Errorf("ValidateIssuerUpdate = %+v", iu)
	}

	// Viewers may not: validation stands for a change.
	viewer := must(client.New(env.URL, client.WithAPIKey(env.NewKey(t, core.RoleViewer))))(t)
	if _, err := viewer.ValidateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local"}); !client.IsForbidden(err) {
		t.Errorf("viewer: %v; want forbidden", err)
	}
}

// TestRotateEncryptionKey: an admin re-seals every secret (here the local
// CA's key); the pass is complete and repeatable; an operator may not.
func TestRotateEncryptionKey(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	ctx := context.Background()
	must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	r := must(c.RotateEncryptionKey(ctx))(t)
	if r.KeyID == "" || !r.Complete || len(r.Failed) != 0 || r.Resealed+r.AlreadyCurrent < 1 {
		t.Errorf("RotateEncryptionKey = %+v", r)
	}
	again := must(c.RotateEncryptionKey(ctx))(t)
	if !again.Complete || again.Resealed != 0 || again.AlreadyCurrent != r.Resealed+r.AlreadyCurrent {
		t.Errorf("second RotateEncryptionKey = %+v after %+v", again, r)
	}
	op := must(client.New(env.URL, client.WithAPIKey(env.NewKey(t, core.RoleOperator))))(t)
	if _, err := op.RotateEncryptionKey(ctx); !client.IsForbidden(err) {
		t.Errorf("operator: %v; want forbidden", err)
	}
}
