package sdkclient_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

func TestIssuerCRUD(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	ctx := context.Background()

	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "internal-ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256", "validity": "30d"}}))(t)
	if iss.ID == "" || iss.Name != "internal-ca" || iss.Type != "local" || iss.Config["ca_certificate_pem"] == nil ||
		!slices.Contains(iss.SecretFields, "ca_private_key_pem") {
		t.Fatalf("created issuer = %+v", iss)
	}
	got := must(c.GetIssuer(ctx, iss.ID))(t)
	if got.ID != iss.ID || got.Config["validity"] != "30d" {
		t.Errorf("GetIssuer = %+v", got)
	}

	// PUT merges the configuration: validity changes, the CA stays.
	upd := must(c.UpdateIssuer(ctx, iss.ID, api.IssuerRequest{Name: "internal-ca-2", Config: map[string]any{"validity": "60d"}}))(t)
	if upd.Name != "internal-ca-2" || upd.Config["validity"] != "60d" || upd.Config["ca_certificate_pem"] != iss.Config["ca_certificate_pem"] {
		t.Errorf("UpdateIssuer = %+v", upd)
	}

	list := must(c.ListIssuers(ctx, client.IssuerListOptions{Type: "local"}))(t)
	if len(list.Items) != 1 || list.Items[0].ID != iss.ID || list.NextCursor != nil {
		t.Errorf("ListIssuers(type=local) = %+v", list)
	}
	if list := must(c.ListIssuers(ctx, client.IssuerListOptions{Type: "acme"}))(t); len(list.Items) != 0 {
		t.Errorf("ListIssuers(type=acme) = %+v", list)
	}

	if err := c.DeleteIssuer(ctx, iss.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetIssuer(ctx, iss.ID); !client.IsNotFound(err) {
		t.Errorf("GetIssuer after delete: %v, want not found", err)
	}
	if err := c.DeleteIssuer(ctx, iss.ID); !client.IsNotFound(err) {
		t.Errorf("DeleteIssuer twice: %v, want not found", err)
	}
}

func TestTargetsAndCertificatesCRUD(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	ctx := context.Background()

	iss := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "ca", Type: "local"}))(t)
	tgt := must(c.CreateTarget(ctx, api.TargetRequest{Name: "web-1", Type: "nginx",
		Config: map[string]any{"cert_path": "/etc/nginx/tls/www.crt"}}))(t)
	if tgt.AgentID != nil || tgt.Type != "nginx" {
		t.Fatalf("created target = %+v", tgt)
	}
	tgt = must(c.UpdateTarget(ctx, tgt.ID, api.TargetRequest{Name: "web-1-nginx", Config: map[string]any{"key_path": "/etc/nginx/tls/www.key"}}))(t)
	if tgt.Name != "web-1-nginx" || tgt.Config["cert_path"] != "/etc/nginx/tls/www.crt" || tgt.Config["key_path"] != "/etc/nginx/tls/www.key" {
		t.Errorf("UpdateTarget = %+v", tgt)
	}
	if got := must(c.GetTarget(ctx, tgt.ID))(t); got.Name != "web-1-nginx" {
		t.Errorf("GetTarget = %+v", got)
	}
	if l := must(c.ListTargets(ctx, client.TargetListOptions{Type: "nginx"}))(t); len(l.Items) != 1 {
		t.Errorf("ListTargets = %+v", l)
	}

	cert := must(c.CreateCertificate(ctx, api.CertificateRequest{Name: "www", CommonName: "www.example.com",
		SANs: []string{"www.example.com", "example.com"}, IssuerID: iss.ID, TargetIDs: []string{tgt.ID},
		Labels: map[string]string{"team": "web"}}))(t)
	if cert.Status != "issuing" || cert.KeyType != "ecdsa-p256" || cert.KeyMode != "server" ||
		!slices.Equal(cert.TargetIDs, []string{tgt.ID}) || cert.Labels["team"] != "web" {
		t.Fatalf("created certificate = %+v", cert)
	}
	cert = must(c.UpdateCertificate(ctx, cert.ID, api.CertificateRequest{Name: "www", CommonName: "www.example.com",
		IssuerID: iss.ID, KeyType: "rsa-2048"}))(t)
	if cert.KeyType != "rsa-2048" || len(cert.TargetIDs) != 0 || len(cert.SANs) != 0 {
		t.Errorf("UpdateCertificate (a replacement) = %+v", cert)
	}
	if got := must(c.GetCertificate(ctx, cert.ID))(t); got.KeyType != "rsa-2048" {
		t.Errorf("GetCertificate = %+v", got)
	}
	l := must(c.ListCertificates(ctx, client.CertificateListOptions{IssuerID: iss.ID, NamePrefix: "ww"}))(t)
	if len(l.Items) != 1 || l.Items[0].ID != cert.ID {
		t.Errorf("ListCertificates = %+v", l)
	}

	// A target or issuer in use cannot go.
	cert = must(c.UpdateCertificate(ctx, cert.ID, api.CertificateRequest{Name: "www", CommonName: "www.example.com",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}))(t)
	if err := c.DeleteTarget(ctx, tgt.ID); !client.IsConflict(err) {
		t.Errorf("DeleteTarget in use: %v, want conflict", err)
	}
	if err := c.DeleteIssuer(ctx, iss.ID); !client.IsConflict(err) {
		t.Errorf("DeleteIssuer in use: %v, want conflict", err)
	}
	if err := c.DeleteCertificate(ctx, cert.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetCertificate(ctx, cert.ID); !client.IsNotFound(err) {
		t.Errorf("GetCertificate after delete: %v", err)
	}
	if err := c.DeleteTarget(ctx, tgt.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetTarget(ctx, tgt.ID); !client.IsNotFound(err) {
		t.Errorf("GetTarget after delete: %v", err)
	}
}

func TestNotifiersRulesAndPolicies(t *testing.T) {
	t.Parallel()
	_, c := start(t)
	ctx := context.Background()

	var received atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)

	n := must(c.CreateNotifier(ctx, api.NotifierRequest{Name: "ops", Type: "webhook",
		Config: map[string]any{"url": hook.URL, "secret": "s3cret-shared-key"}}))(t)
	if !n.Enabled || !slices.Contains(n.SecretFields, "secret") || n.Config["secret"] != nil {
		t.Fatalf("created notifier = %+v", n)
	}
	res := must(c.TestNotifier(ctx, n.ID))(t)
	if !res.Delivered || received.Load() != 1 {
		t.Errorf("TestNotifier = %+v, receiver got %d", res, received.Load())
	}
	n = must(c.UpdateNotifier(ctx, n.ID, api.NotifierRequest{Name: "ops", Enabled: ptr(false), Config: map[string]any{"timeout": "5s"}}))(t)
	if n.Enabled || n.Config["timeout"] != "5s" || !slices.Contains(n.SecretFields, "secret") {
		t.Errorf("UpdateNotifier = %+v", n)
	}
	if got := must(c.GetNotifier(ctx, n.ID))(t); got.Enabled {
		t.Errorf("GetNotifier = %+v", got)
	}
	if l := must(c.ListNotifiers(ctx, client.NotifierListOptions{Type: "webhook"}))(t); len(l.Items) != 1 {
		t.Errorf("ListNotifiers = %+v", l)
	}

	rule := must(c.CreateNotificationRule(ctx, api.NotificationRuleRequest{Name: "alerts", NotifierID: n.ID,
		Events: []string{"certificate.expiring"}}))(t)
	if !rule.Enabled || !slices.Equal(rule.ExpiryDays, []int{30, 14, 7, 1}) {
		t.Errorf("created rule = %+v", rule)
	}
	rule = must(c.UpdateNotificationRule(ctx, rule.ID, api.NotificationRuleRequest{Name: "alerts", NotifierID: n.ID,
		Events: []string{"*"}, ExpiryDays: []int{7}}))(t)
	if !slices.Equal(rule.Events, []string{"*"}) || !slices.Equal(rule.ExpiryDays, []int{7}) {
		t.Errorf("updated rule = %+v", rule)
	}
	if got := must(c.GetNotificationRule(ctx, rule.ID))(t); got.Name != "alerts" {
		t.Errorf("GetNotificationRule = %+v", got)
	}
	if l := must(c.ListNotificationRules(ctx, client.ListOptions{}))(t); len(l.Items) != 1 {
		t.Errorf("ListNotificationRules = %+v", l)
	}
	if err := c.DeleteNotificationRule(ctx, rule.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetNotificationRule(ctx, rule.ID); !client.IsNotFound(err) {
		t.Errorf("GetNotificationRule after delete: %v", err)
	}
	if err := c.DeleteNotifier(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListNotifications(ctx, client.NotificationListOptions{Status: "dead"}); err != nil {
		t.Errorf("ListNotifications: %v", err)
	}

	p := must(c.CreateRenewalPolicy(ctx, api.RenewalPolicyRequest{Name: "thirty-days", Mode: "days_before", DaysBeforeExpiry: 30}))(t)
	if p.JitterFraction != 0.05 || !p.UseIssuerWindow || p.IsDefault {
		t.Errorf("created policy = %+v", p)
	}
	p = must(c.UpdateRenewalPolicy(ctx, p.ID, api.RenewalPolicyRequest{Name: "thirty-days", Mode: "days_before",
		DaysBeforeExpiry: 21, JitterFraction: ptr(0.0)}))(t)
	if p.DaysBeforeExpiry != 21 || p.JitterFraction != 0 {
		t.Errorf("updated policy = %+v", p)
	}
	if got := must(c.GetRenewalPolicy(ctx, p.ID))(t); got.DaysBeforeExpiry != 21 {
		t.Errorf("GetRenewalPolicy = %+v", got)
	}
	policies := must(client.Collect(c.AllRenewalPolicies(ctx, client.ListOptions{Limit: 1})))(t)
	if len(policies) != 2 || !policies[0].IsDefault || policies[1].ID != p.ID {
		t.Errorf("AllRenewalPolicies = %+v", policies)
	}
	if err := c.DeleteRenewalPolicy(ctx, policies[0].ID); !client.IsConflict(err) {
		t.Errorf("deleting the default policy: %v, want conflict", err)
	}
	if err := c.DeleteRenewalPolicy(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
}

func TestAccessAndAdministration(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	ctx := context.Background()

	// API keys.
	k := must(c.CreateAPIKey(ctx, api.APIKeyRequest{Name: "ci", Role: "operator"}))(t)
	if k.Key == "" || k.Role != "operator" {
		t.Fatalf("created key = %+v", k)
	}
	if got := must(c.GetAPIKey(ctx, k.ID))(t); got.Key != "" || got.Name != "ci" {
		t.Errorf("GetAPIKey = %+v (the secret must not come back)", got)
	}
	keys := must(client.Collect(c.AllAPIKeys(ctx, client.ListOptions{Limit: 1})))(t)
	if len(keys) != 2 || keys[0].ID != k.ID {
		t.Errorf("AllAPIKeys = %+v", keys)
	}
	op := must(client.New(env.URL, client.WithAPIKey(k.Key)))(t)
	if _, err := op.ListIssuers(ctx, client.IssuerListOptions{}); err != nil {
		t.Errorf("the operator key does not work: %v", err)
	}
	if _, err := op.ListAPIKeys(ctx, client.ListOptions{}); !client.IsForbidden(err) {
		t.Errorf("operator listing API keys: %v, want forbidden", err)
	}
	if got := must(c.RevokeAPIKey(ctx, k.ID))(t); got.RevokedAt == nil {
		t.Errorf("RevokeAPIKey = %+v", got)
	}
	if _, err := op.ListIssuers(ctx, client.IssuerListOptions{}); !client.IsUnauthorized(err) {
		t.Errorf("revoked key: %v, want unauthorized", err)
	}

	// Enrollment tokens.
	tok := must(c.CreateEnrollmentToken(ctx, api.EnrollmentTokenRequest{AgentName: "web-1", TTL: "1h"}))(t)
	if tok.Token == "" || tok.AgentName != "web-1" {
		t.Fatalf("created token = %+v", tok)
	}
	if got := must(c.GetEnrollmentToken(ctx, tok.ID))(t); got.Token != "" || got.Prefix != tok.Prefix {
		t.Errorf("GetEnrollmentToken = %+v", got)
	}
	if l := must(c.ListEnrollmentTokens(ctx, client.ListOptions{}))(t); len(l.Items) != 1 {
		t.Errorf("ListEnrollmentTokens = %+v", l)
	}
	if got := must(c.RevokeEnrollmentToken(ctx, tok.ID))(t); got.RevokedAt == nil {
		t.Errorf("RevokeEnrollmentToken = %+v", got)
	}
	if _, err := c.CreateEnrollmentToken(ctx, api.EnrollmentTokenRequest{TTL: "forever"}); !client.IsInvalid(err) || err.(*client.Error).Field != "ttl" {
		t.Errorf("bad TTL: %v", err)
	}

	// Agents: none has enrolled.
	if l := must(c.ListAgents(ctx, client.AgentListOptions{OS: "linux"}))(t); len(l.Items) != 0 {
		t.Errorf("ListAgents = %+v", l)
	}
	const noSuchID = "0195b1de-6a7c-7d3e-9f20-5c1d2e3f4a5b"
	if _, err := c.GetAgent(ctx, noSuchID); !client.IsNotFound(err) {
		t.Errorf("GetAgent: %v", err)
	}
	if _, err := c.RetireAgent(ctx, noSuchID); !client.IsNotFound(err) {
		t.Errorf("RetireAgent: %v", err)
	}

	// Plugins.
	plugins := must(c.ListPlugins(ctx))(t)
	var names []string
	for _, p := range plugins.Items {
		names = append(names, p.Kind+"/"+p.Name)
	}
	if !slices.Contains(names, "issuer/local") || !slices.Contains(names, "notifier/webhook") || plugins.NextCursor != nil {
		t.Errorf("ListPlugins = %v", names)
	}
	if p := must(c.RegisterPlugin(ctx, "notifier", "webhook"))(t); p.SHA256 == "" || p.RegisteredAt == nil {
		t.Errorf("RegisterPlugin = %+v", p)
	}
	if _, err := c.RegisterPlugin(ctx, "gadget", "webhook"); !client.IsInvalid(err) {
		t.Errorf("RegisterPlugin of a bad kind: %v", err)
	}

	// The audit trail saw all of it.
	revokes := must(c.ListAuditEvents(ctx, client.AuditEventListOptions{Action: "api_key.revoke", Outcome: "success"}))(t)
	if len(revokes.Items) != 1 || revokes.Items[0].ResourceID != k.ID {
		t.Errorf("audit of the revocation = %+v", revokes)
	}
	all := must(client.Collect(c.AllAuditEvents(ctx, client.AuditEventListOptions{Limit: 2})))(t)
	if len(all) < 6 {
		t.Errorf("AllAuditEvents: %d events", len(all))
	}

	// OpenAPI, health and readiness.
	doc := must(c.OpenAPI(ctx))(t)
	var spec struct {
		Paths map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &spec); err != nil || spec.Paths["/certificates"] == nil && spec.Paths["/api/v1/certificates"] == nil {
		t.Errorf("OpenAPI: %v, %d paths", err, len(spec.Paths))
	}
	if h := must(c.Health(ctx))(t); h.Status != "ok" {
		t.Errorf("Health = %+v", h)
	}
	if h := must(c.Ready(ctx))(t); h.Status != "ok" || h.Checks["database"] != "ok" {
		t.Errorf("Ready = %+v", h)
	}
	anon := must(client.New(env.URL))(t)
	if _, err := anon.Health(ctx); err != nil {
		t.Errorf("Health needs no key: %v", err)
	}
}
