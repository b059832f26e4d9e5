package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// TestConnectorsPoliciesRulesKeys: create, list, get, update and delete of
// issuers, targets, notifiers, renewal policies, notification rules and
// API keys through the CLI, with secrets kept out of the output.
func TestConnectorsPoliciesRulesKeys(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setupIssuer(t)

	// Issuers: the table, the CA certificate shown by its first line, an
	// update of one field, the plugin's schema giving --set its type.
	r := s.ok(t, "issuers", "list")
	if !regexp.MustCompile(`^NAME +TYPE +ID +UPDATED\nlocal +local +[0-9a-f-]{36} +\S+Z\n$`).MatchString(r.stdout) {
		t.Errorf("issuers list:\n%s", r.stdout)
	}
	r = s.ok(t, "issuers", "get", "local")
	if field(t, r.stdout, "config.ca_certificate_pem") != "-----BEGIN CERTIFICATE----- ..." || field(t, r.stdout, "config.ca_key_type") != "ecdsa-p256" {
		t.Errorf("issuers get:\n%s", r.stdout)
	}
	r = s.ok(t, "issuers", "update", "local", "--set", "validity=30d", "--name", "corp-ca")
	if field(t, r.stdout, "NAME") != "corp-ca" || field(t, r.stdout, "config.validity") != "30d" || field(t, r.stdout, "config.ca_key_type") != "ecdsa-p256" {
		t.Errorf("issuers update:\n%s", r.stdout)
	}
	s.code(t, 7, "issuers", "update", "corp-ca", "--set", "validity=400d")

	// Notifiers: a sensitive field set from a file is stored, named in
	// secret_fields and never printed; an int field is sent as a number.
	secret := filepath.Join(t.TempDir(), "url")
	if err := os.WriteFile(secret, []byte("https://hooks.example.com/T0K3N\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = s.ok(t, "notifiers", "create", "ops-hook", "--type", "webhook", "--set-file", "url="+secret, "--set", "max_attempts=2", "--disabled")
	if strings.Contains(r.stdout, "T0K3N") || field(t, r.stdout, "SECRET FIELDS") != "url" || field(t, r.stdout, "ENABLED") != "false" ||
		field(t, r.stdout, "config.max_attempts") != "2" {
		t.Errorf("notifiers create:\n%s", r.stdout)
	}
	var n api.Notifier
	s.jsonOf(t, &n, "notifiers", "get", "ops-hook")
	if _, isNumber := n.Config["max_attempts"].(float64); !isNumber || strings.Contains(strings.Join(n.SecretFields, ","), "T0K3N") {
		t.Errorf("notifier = %+v", n)
	}
	s.code(t, 2, "notifiers", "update", "ops-hook", "--set", "max_attempts=two")
	r = s.ok(t, "notifiers", "update", "ops-hook", "--enabled")
	if field(t, r.stdout, "ENABLED") != "true" || field(t, r.stdout, "SECRET FIELDS") != "url" {
		t.Errorf("notifiers update --enabled (the secret stays):\n%s", r.stdout)
	}
	if r := s.ok(t, "notifiers", "list", "-o", "yaml"); !strings.Contains(r.stdout, "name: ops-hook") || strings.Contains(r.stdout, "T0K3N") {
		t.Errorf("notifiers list -o yaml:\n%s", r.stdout)
	}

	// Rules route events to the notifier.
	r = s.ok(t, "rules", "create", "expiring", "--notifier", "ops-hook", "--event", "certificate.expiring", "--expiry-days", "14,3")
	if field(t, r.stdout, "NOTIFIER") != "ops-hook" || field(t, r.stdout, "EXPIRY DAYS") != "14,3" {
		t.Errorf("rules create:\n%s", r.stdout)
	}
	r = s.ok(t, "rules", "update", "expiring", "--disabled")
	if field(t, r.stdout, "ENABLED") != "false" || field(t, r.stdout, "EVENTS") != "certificate.expiring" {
		t.Errorf("rules update:\n%s", r.stdout)
	}
	if r := s.ok(t, "rules", "list"); !regexp.MustCompile(`(?m)^expiring +ops-hook +certificate\.expiring +false `).MatchString(r.stdout) {
		t.Errorf("rules list:\n%s", r.stdout)
	}
	// A notification for the rule's notifier: nothing yet, in every format.
	var notes []api.Notification
	s.jsonOf(t, &notes, "notifications", "--status", "dead")
	if len(notes) != 0 {
		t.Errorf("notifications --status dead = %+v", notes)
	}
	if r := s.ok(t, "notifications"); !strings.HasPrefix(r.stdout, "CREATED  EVENT") {
		t.Errorf("notifications:\n%s", r.stdout)
	}
	s.ok(t, "rules", "delete", "expiring")
	s.ok(t, "notifiers", "delete", "ops-hook")
	s.code(t, 3, "notifiers", "get", "ops-hook")

	// Renewal policies.
	r = s.ok(t, "policies", "create", "short", "--mode", "days_before", "--days-before", "10")
	if field(t, r.stdout, "DAYS BEFORE EXPIRY") != "10" || field(t, r.stdout, "MODE") != "days_before" {
		t.Errorf("policies create:\n%s", r.stdout)
	}
	r = s.ok(t, "policies", "update", "short", "--days-before", "14")
	if field(t, r.stdout, "DAYS BEFORE EXPIRY") != "14" || field(t, r.stdout, "MODE") != "days_before" {
		t.Errorf("policies update:\n%s", r.stdout)
	}
	var policies []api.RenewalPolicy
	s.jsonOf(t, &policies, "policies", "list")
	if len(policies) != 2 {
		t.Errorf("policies = %+v", policies)
	}
	// A certificate on that policy, by name.
	r = s.ok(t, "certs", "create", "p", "--cn", "p.example.com", "--issuer", "corp-ca", "--policy", "short")
	if field(t, r.stdout, "RENEWAL POLICY") != "short" {
		t.Errorf("certs create --policy:\n%s", r.stdout)
	}
	s.code(t, 5, "policies", "delete", "short") // in use
	s.ok(t, "certs", "delete", "p")
	s.ok(t, "policies", "delete", "short")

	// Targets on an agent, by the agent's name.
	agentName := enrollAgent(t, s, "web-1")
	r = s.ok(t, "targets", "create", "web-nginx", "--type", "nginx", "--agent", agentName,
		"--set", "certificate_path=/etc/nginx/tls/web.crt", "--set", "key_path=/etc/nginx/tls/web.key")
	if field(t, r.stdout, "AGENT") != "web-1" {
		t.Errorf("targets create:\n%s", r.stdout)
	}
	r = s.ok(t, "targets", "update", "web-nginx", "--set", "chain_path=/etc/nginx/tls/chain.crt")
	if field(t, r.stdout, "AGENT") != "web-1" || field(t, r.stdout, "config.key_path") != "/etc/nginx/tls/web.key" {
		t.Errorf("targets update keeps the agent and other fields:\n%s", r.stdout)
	}
	if r := s.ok(t, "targets", "list", "--agent", "web-1"); !regexp.MustCompile(`(?m)^web-nginx +nginx +web-1 `).MatchString(r.stdout) {
		t.Errorf("targets list --agent:\n%s", r.stdout)
	}
	r = s.ok(t, "targets", "update", "web-nginx", "--no-agent")
	if field(t, r.stdout, "AGENT") != "-" {
		t.Errorf("targets update --no-agent:\n%s", r.stdout)
	}
	s.ok(t, "targets", "delete", "web-nginx")

	// API keys: the secret is printed once on creation, or written to a
	// file; never listed.
	r = s.ok(t, "keys", "create", "ci", "--role", "operator", "--expires-in", "90d")
	secretKey := field(t, r.stdout, "KEY")
	if !strings.HasPrefix(secretKey, "cck_") || field(t, r.stdout, "ROLE") != "operator" {
		t.Fatalf("keys create:\n%s", r.stdout)
	}
	keyFile := filepath.Join(t.TempDir(), "ci2.key")
	r = s.ok(t, "keys", "create", "ci2", "--role", "viewer", "--key-file", keyFile)
	written, _ := os.ReadFile(keyFile)
	if !strings.HasPrefix(string(written), "cck_") || strings.Contains(r.stdout, strings.TrimSpace(string(written))) {
		t.Errorf("keys create --key-file printed the key:\n%s", r.stdout)
	}
	if fi, err := os.Stat(keyFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", err, fi)
	}
	l := s.ok(t, "keys", "list")
	if strings.Contains(l.stdout, secretKey) || !strings.Contains(l.stdout, "ci2") {
		t.Errorf("keys list:\n%s", l.stdout)
	}
	// The new key works, for what its role allows.
	if r := s.runWith(t, []string{"CERTCTL_URL=" + s.env.URL, "CERTCTL_API_KEY=" + secretKey}, "", "certs", "list"); r.code != 0 {
		t.Errorf("the created key: %s", r)
	}
	if r := s.runWith(t, []string{"CERTCTL_URL=" + s.env.URL, "CERTCTL_API_KEY=" + secretKey}, "", "keys", "list"); r.code != 4 {
		t.Errorf("an operator key listing keys: %s", r)
	}
	r = s.ok(t, "keys", "revoke", "ci")
	if field(t, r.stdout, "REVOKED") == "-" {
		t.Errorf("keys revoke:\n%s", r.stdout)
	}
	if r := s.runWith(t, []string{"CERTCTL_URL=" + s.env.URL, "CERTCTL_API_KEY=" + secretKey}, "", "certs", "list"); r.code != 4 {
		t.Errorf("a revoked key: %s", r)
	}
}

// enrollAgent makes an enrollment token through the CLI and enrolls an
// agent with it through the agent API, as certctl-agent would.
func enrollAgent(t *testing.T, s *server, name string) string {
	t.Helper()
	tokenFile := filepath.Join(t.TempDir(), "token")
	r := s.ok(t, "tokens", "create", "--agent-name", name, "--label", "env=test", "--ttl", "1h", "--token-file", tokenFile)
	token, err := os.ReadFile(tokenFile)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.stdout, strings.TrimSpace(string(token))) || field(t, r.stdout, "AGENT NAME") != name {
		t.Errorf("tokens create --token-file:\n%s", r.stdout)
	}
	cl, err := client.New(s.env.URL)
	if err != nil {
		t.Fatal(err)
	}
	res, err := cl.EnrollAgent(context.Background(), api.AgentEnrollRequest{Token: strings.TrimSpace(string(token)),
		Facts: api.AgentFacts{OS: "linux", Arch: "amd64", Hostname: name + ".example.com", AgentVersion: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	return res.Agent.Name
}

// TestAgentsTokensStatusPlugins: agents list/get/retire, tokens, status,
// plugins and the version.
func TestAgentsTokensStatusPlugins(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setupIssuer(t)
	enrollAgent(t, s, "web-1")
	enrollAgent(t, s, "web-2")

	r := s.ok(t, "agents", "list")
	if !regexp.MustCompile(`^NAME +STATUS +OS +ARCH +HOSTNAME +VERSION +LAST HEARTBEAT +LABELS\nweb-1 +\w+ +linux +amd64 +web-1\.example\.com +test +\S+ +env=test\nweb-2 `).MatchString(r.stdout) {
		t.Errorf("agents list:\n%s", r.stdout)
	}
	var agents []api.Agent
	s.jsonOf(t, &agents, "agents", "list", "--label", "env=test", "--os", "linux")
	if len(agents) != 2 {
		t.Errorf("agents list --label env=test = %d agents", len(agents))
	}
	s.jsonOf(t, &agents, "agents", "list", "--label", "env=prod")
	if len(agents) != 0 {
		t.Errorf("agents list --label env=prod = %d agents", len(agents))
	}
	if r := s.ok(t, "agents", "get", "web-2"); field(t, r.stdout, "HOSTNAME") != "web-2.example.com" {
		t.Errorf("agents get:\n%s", r.stdout)
	}
	if r := s.ok(t, "agents", "retire", "web-2"); field(t, r.stdout, "STATUS") != "retired" {
		t.Errorf("agents retire:\n%s", r.stdout)
	}
	s.code(t, 3, "agents", "get", "web-3")

	// A token printed on creation (asked for), then listed without it.
	r = s.ok(t, "tokens", "create", "--agent-name", "web-3", "-o", "json")
	var tk api.EnrollmentToken
	if err := jsonUnmarshal(r.stdout, &tk); err != nil || tk.Token == "" {
		t.Fatalf("tokens create -o json: %v %s", err, r.stdout)
	}
	if l := s.ok(t, "tokens", "list"); strings.Contains(l.stdout, tk.Token) || !strings.Contains(l.stdout, tk.ID) {
		t.Errorf("tokens list:\n%s", l.stdout)
	}
	if r := s.ok(t, "tokens", "revoke", tk.ID); field(t, r.stdout, "REVOKED") == "-" {
		t.Errorf("tokens revoke:\n%s", r.stdout)
	}

	// Status: health, counts, what expires soon (a 30-day certificate
	// expires within 60 days, not within 7).
	s.ok(t, "issuers", "update", "local", "--set", "validity=30d")
	s.ok(t, "certs", "create", "soon", "--cn", "soon.example.com", "--issuer", "local", "--wait")
	r = s.ok(t, "status", "--within", "60d")
	for name, want := range map[string]string{
		"HEALTH":       "ok",
		"CERTIFICATES": "1 (active 1)",
		"AGENTS":       "2 (pending 1, retired 1)",
		"LIVE JOBS":    "0",
	} {
		if got := field(t, r.stdout, name); got != want && !(name == "AGENTS" && strings.HasPrefix(got, "2 (")) {
			t.Errorf("status %s = %q, want %q\n%s", name, got, want, r.stdout)
		}
	}
	if !strings.HasPrefix(field(t, r.stdout, "READY"), "ok") || !regexp.MustCompile(`(?m)^EXPIRING +STATUS +NOT AFTER\nsoon +active +\S+Z$`).MatchString(r.stdout) {
		t.Errorf("status:\n%s", r.stdout)
	}
	var st struct {
		Health   string `json:"health"`
		Expiring []struct {
			Name string `json:"name"`
		} `json:"expiring"`
		Certificates struct {
			Total int `json:"total"`
		} `json:"certificates"`
	}
	s.jsonOf(t, &st, "status", "--within", "7d")
	if st.Health != "ok" || len(st.Expiring) != 0 || st.Certificates.Total != 1 {
		t.Errorf("status --within 7d -o json = %+v", st)
	}

	// Plugins and a schema.
	r = s.ok(t, "plugins")
	if !regexp.MustCompile(`(?m)^KIND +NAME +VERSION +STATUS +DESCRIPTION\n`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^issuer +local +`).MatchString(r.stdout) || !regexp.MustCompile(`(?m)^notifier +webhook +`).MatchString(r.stdout) {
		t.Errorf("plugins:\n%s", r.stdout)
	}
	r = s.ok(t, "plugins", "schema", "notifier/webhook")
	if !regexp.MustCompile(`(?m)^url +string +true +true +`).MatchString(r.stdout) || !regexp.MustCompile(`(?m)^max_attempts +int +false +false `).MatchString(r.stdout) {
		t.Errorf("plugins schema:\n%s", r.stdout)
	}
	s.code(t, 3, "plugins", "schema", "issuer/nope")

	if r := s.ok(t, "--version"); r.stdout != "certctl "+testVersion+"\n" {
		t.Errorf("--version: %q", r.stdout)
	}
}

// TestCertsUpdate: fields not given keep their values, a changed SAN
// list is reissued and waited for, targets and policy change by name.
func TestCertsUpdate(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setupIssuer(t)
	s.ok(t, "policies", "create", "short", "--mode", "days_before", "--days-before", "10")
	s.ok(t, "certs", "create", "web", "--cn", "web.example.com", "--san", "web.example.com", "--issuer", "local",
		"--label", "team=web", "--key-type", "ecdsa-p384", "--wait")
	var before api.Certificate
	s.jsonOf(t, &before, "certs", "get", "web")

	r := s.ok(t, "certs", "update", "web", "--san", "web.example.com", "--san", "www.example.com", "--policy", "short", "--wait")
	if field(t, r.stdout, "SANS") != "web.example.com,www.example.com" || field(t, r.stdout, "RENEWAL POLICY") != "short" ||
		field(t, r.stdout, "LABELS") != "team=web" || field(t, r.stdout, "KEY TYPE") != "ecdsa-p384" || field(t, r.stdout, "STATUS") != "active" {
		t.Errorf("certs update:\n%s", r)
	}
	var after api.Certificate
	s.jsonOf(t, &after, "certs", "get", "web")
	if after.CurrentVersionID == nil || *after.CurrentVersionID == *before.CurrentVersionID {
		t.Errorf("new SANs were not reissued: %v -> %v", *before.CurrentVersionID, after.CurrentVersionID)
	}
	r = s.ok(t, "certs", "update", "web", "--default-policy", "--label", "team=shop")
	if field(t, r.stdout, "RENEWAL POLICY") != "-" || field(t, r.stdout, "LABELS") != "team=shop" ||
		field(t, r.stdout, "SANS") != "web.example.com,www.example.com" {
		t.Errorf("certs update --default-policy:\n%s", r.stdout)
	}
	s.code(t, 2, "certs", "update", "web", "--policy", "short", "--default-policy")
	s.code(t, 3, "certs", "update", "web", "--target", "nowhere")
}

// TestBulkRenewRevoke: renew and revoke without a name act on every
// certificate the filters select.
func TestBulkRenewRevoke(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setupIssuer(t)
	for _, n := range []string{"a-1", "a-2", "b-1"} {
		s.ok(t, "certs", "create", n, "--cn", n+".example.com", "--issuer", "local", "--wait")
	}
	var res api.BulkResult
	s.jsonOf(t, &res, "certs", "renew", "--name-prefix", "a-")
	if res.Matched != 2 || res.Started != 2 || len(res.JobIDs) != 2 {
		t.Fatalf("bulk renew = %+v", res)
	}
	for _, id := range res.JobIDs {
		if r := s.ok(t, "jobs", "get", id, "--wait"); field(t, r.stdout, "STATE") != "succeeded" {
			t.Errorf("bulk renew job:\n%s", r.stdout)
		}
	}
	r := s.ok(t, "certs", "revoke", "--issuer", "local", "--name-prefix", "b-", "--reason", "superseded")
	if field(t, r.stdout, "MATCHED") != "1" || field(t, r.stdout, "STARTED") != "1" {
		t.Errorf("bulk revoke:\n%s", r.stdout)
	}
	s.code(t, 2, "certs", "renew")                              // neither a name nor a filter
	s.code(t, 2, "certs", "renew", "a-1", "--status", "active") // both
	s.code(t, 2, "certs", "renew", "--issuer", "local", "--wait")
	s.code(t, 2, "certs", "revoke", "--status", "active", "--version", "01a2484b-d875-7bbb-9438-0a040b12e8d7")
	s.code(t, 3, "certs", "renew", "--issuer", "nope")
}

// TestNotifications: a webhook notifier pointed at a real receiver, a
// test notification, and the notification of an issuance as the
// notifications command lists it.
func TestNotifications(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	s.setupIssuer(t)
	var mu sync.Mutex
	var bodies []string
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
	}))
	t.Cleanup(recv.Close)

	s.ok(t, "notifiers", "create", "hook", "--type", "webhook", "--set", "url="+recv.URL)
	r := s.ok(t, "notifiers", "test", "hook")
	if field(t, r.stdout, "DELIVERED") != "true" {
		t.Errorf("notifiers test:\n%s", r.stdout)
	}
	s.ok(t, "rules", "create", "issued", "--notifier", "hook", "--event", "certificate.issued")
	s.ok(t, "certs", "create", "n", "--cn", "n.example.com", "--issuer", "local", "--wait")

	deadline := time.Now().Add(2 * time.Minute)
	for {
		var notes []api.Notification
		s.jsonOf(t, &notes, "notifications", "--event", "certificate.issued", "--cert", "n")
		if len(notes) == 1 && notes[0].Status == "sent" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the issuance's notification was not sent: %+v", notes)
		}
		time.Sleep(200 * time.Millisecond)
	}
	r = s.ok(t, "notifications", "--status", "sent")
	if !regexp.MustCompile(`(?m)^\S+Z +certificate\.issued +sent +1 +[0-9a-f-]{36} +-$`).MatchString(r.stdout) {
		t.Errorf("notifications:\n%s", r.stdout)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 2 || !strings.Contains(bodies[1], "certificate.issued") {
		t.Errorf("the receiver got %q", bodies)
	}
}
