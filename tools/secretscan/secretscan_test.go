package secretscan

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/server/pgembed"
	"github.com/certctl/certctl/tools/doctest"
)

// The replies whose purpose is to carry a secret, once: they are not
// searched (every other reply is, body and headers).
const (
	exemptAPIKeyCreation  = "the API key creation reply (its key, shown once)"
	exemptTokenCreation   = "the enrollment token creation reply (its token, shown once)"
	exemptKeyExportPEM    = "a private key export reply (format=pem: the key)"
	exemptKeyExportPKCS12 = "a private key export reply (format=pkcs12: the key, and its password in a header)"
)

// exemptDataFiles are the files under the server's data directory meant to
// hold a secret; every other file there is searched. The encryption key is
// given in CERTCTL_ENCRYPTION_KEY, so no encryption.key file is written (its
// absence is checked).
var exemptDataFiles = []string{
	"postgres/superuser-password", // the embedded cluster's superuser password (itself searched for elsewhere)
}

// exemptAgentFiles are the agent's credential and its private keys; every
// other file of its state directory is searched.
func exemptAgentFile(rel string) bool {
	return rel == "credential" || (strings.HasPrefix(rel, "keys/") && strings.HasSuffix(rel, ".key"))
}

// TestSecretScan runs the server and an agent through a lifecycle that
// handles every kind of secret certctl knows, then searches everything the
// run left behind for those secrets. See the package documentation.
func TestSecretScan(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sec := &secrets{}
	run := newRun(t, ctx, sec)
	run.lifecycle()
	hits := run.collectAndScan()
	for _, h := range hits {
		t.Errorf("secret %q found in %s: ...%s...", h.secret, h.where, h.context)
	}
	if len(hits) == 0 {
		t.Logf("searched %d places for %d secrets (%d patterns): no hit", run.places, len(sec.names()), len(sec.needles))
	}
}

// secrets are the values searched for, each with the encodings it could
// take on the way (the value, base64, hex; for keys, slices of the PEM body
// and of the DER).
type secrets struct {
	mu      sync.Mutex
	needles []needle
	seen    map[string]bool
}

type needle struct {
	secret string // what the secret is, for the report
	form   string // which encoding of it
	b      []byte
}

func (s *secrets) names() []string {
	var out []string
	for _, n := range s.needles {
		if !slices.Contains(out, n.secret) {
			out = append(out, n.secret)
		}
	}
	return out
}

func (s *secrets) addNeedle(secret, form string, b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	if len(b) < 12 || s.seen[string(b)] {
		return
	}
	s.seen[string(b)] = true
	s.needles = append(s.needles, needle{secret: secret, form: form, b: b})
}

// add registers a secret value: as is, in base64 (standard and URL, with and
// without padding) and in hex.
func (s *secrets) add(secret, value string) {
	s.addNeedle(secret, "value", []byte(value))
	s.addNeedle(secret, "base64", []byte(base64.StdEncoding.EncodeToString([]byte(value))))
	s.addNeedle(secret, "base64url", []byte(base64.RawURLEncoding.EncodeToString([]byte(value))))
	s.addNeedle(secret, "hex", []byte(hex.EncodeToString([]byte(value))))
}

// addRaw registers random bytes (a key): raw, in base64 and in hex.
func (s *secrets) addRaw(secret string, raw []byte) {
	s.addNeedle(secret, "raw bytes", raw)
	s.addNeedle(secret, "base64", []byte(base64.StdEncoding.EncodeToString(raw)))
	s.addNeedle(secret, "base64url", []byte(base64.RawURLEncoding.EncodeToString(raw)))
	s.addNeedle(secret, "hex", []byte(hex.EncodeToString(raw)))
}

// addKeyPEM registers every private key block of a PEM text: 40 characters
// from the middle of its body (one line, so that a PEM kept with its line
// breaks, escaped in JSON or not, is found), and 20 bytes from the middle of
// its DER, raw and in hex (bytea in a dump).
func (s *secrets) addKeyPEM(t *testing.T, secret, text string) {
	t.Helper()
	rest, found := []byte(text), false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if !strings.Contains(b.Type, "PRIVATE KEY") {
			continue
		}
		found = true
		body := base64.StdEncoding.EncodeToString(b.Bytes)
		mid := len(body)/2 - 20
		if line := 64 * (len(body) / 2 / 64); len(body) >= line+64 { // a whole 64-character PEM line
			mid = line + 12
		}
		s.addNeedle(secret, "PEM body slice", []byte(body[mid:mid+40]))
		m := len(b.Bytes)/2 - 10
		s.addNeedle(secret, "DER slice", b.Bytes[m:m+20])
		s.addNeedle(secret, "DER slice in hex", []byte(hex.EncodeToString(b.Bytes[m:m+20])))
	}
	if !found {
		t.Fatalf("%s: no private key in the PEM text", secret)
	}
}

type hit struct{ secret, where, context string }

// search looks for every needle in data.
func (s *secrets) search(where string, data []byte) []hit {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hits []hit
	for _, n := range s.needles {
		i := bytes.Index(data, n.b)
		if i < 0 {
			continue
		}
		lo, hi := max(0, i-60), min(len(data), i+len(n.b)+60)
		hits = append(hits, hit{secret: n.secret + " (" + n.form + ")", where: where, context: strconv.Quote(string(data[lo:hi]))})
	}
	return hits
}

// run is one end-to-end run and what it collected.
type run struct {
	t   *testing.T
	ctx context.Context
	sec *secrets

	dataDir, stateDir, targetDir string
	server, agent                *process
	url                          string
	admin, operator              string

	mu      sync.Mutex
	replies []reply // every API reply received, in order
	places  int

	receiver  *httptest.Server
	closed    string // a loopback address nothing listens on
	agentKeys map[string]string
}

type reply struct {
	what   string
	status int
	header http.Header
	body   []byte
	exempt string // why it is not searched, or ""
}

func newRun(t *testing.T, ctx context.Context, sec *secrets) *run {
	r := &run{t: t, ctx: ctx, sec: sec, dataDir: doctest.DataDir(t), stateDir: t.TempDir(), targetDir: t.TempDir(), agentKeys: map[string]string{}}
	// A receiver for the notifiers that deliver; the others point at a
	// closed port, so that delivery errors go through the logs too.
	r.receiver = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		_, _ = io.Copy(io.Discard, req.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = io.WriteString(w, `{"status":"success","message":"Event processed","dedup_key":"scan-dedup","requestId":"scan-req","result":"Request will be processed"}`)
	}))
	t.Cleanup(r.receiver.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.closed = l.Addr().String()
	l.Close()
	return r
}

func randomText(prefix string) string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// lifecycle does what the scan is about: everything that handles a secret.
func (r *run) lifecycle() {
	t := r.t
	encKey := make([]byte, 32)
	_, _ = rand.Read(encKey)
	r.sec.addRaw("CERTCTL_ENCRYPTION_KEY", encKey)
	r.admin = randomText("scan-bootstrap-admin-key-")
	r.sec.add("bootstrap admin key", r.admin)

	addr := freeAddr(t)
	r.url = "http://" + addr
	r.server = startProcess(t, "certctl-server", doctest.Binary(t, "certctl-server"), doctest.Env(
		"CERTCTL_DATA_DIR="+r.dataDir, "CERTCTL_LISTEN_ADDR="+addr,
		"CERTCTL_ENCRYPTION_KEY="+base64.StdEncoding.EncodeToString(encKey),
		"CERTCTL_BOOTSTRAP_ADMIN_KEY="+r.admin))
	r.waitReady()

	// An API key (operator) for the changes below.
	var key struct{ Key string }
	r.do(http.MethodPost, "/api/v1/api-keys", r.admin, `{"name":"scan-operator","role":"operator"}`, http.StatusCreated, &key, exemptAPIKeyCreation)
	r.operator = key.Key
	r.sec.add("operator API key", r.operator)

	// A local CA given its own private key.
	caCert, caKey := makeCA(t)
	r.sec.addKeyPEM(t, "CA private key given to the local issuer", caKey)
	var issuer struct{ ID string }
	r.do(http.MethodPost, "/api/v1/issuers", r.operator, mustJSON(map[string]any{
		"name": "scan-ca", "type": "local",
		"config": map[string]any{"ca_certificate_pem": caCert, "ca_private_key_pem": caKey},
	}), http.StatusCreated, &issuer, "")
	r.do(http.MethodPut, "/api/v1/issuers/"+issuer.ID, r.operator, `{"name":"scan-ca","config":{"validity":"30d"}}`, http.StatusOK, nil, "")

	// Every built-in notifier type, with its secrets; a rule each for every event.
	webhookPath, webhookSecret, webhookHeader := randomText("/hook-"), randomText("webhook-secret-"), randomText("webhook-header-token-")
	slackPath, teamsPath := randomText("/services/T0/B0/slack-"), randomText("/workflows/teams-sig-")
	pdKey, ogKey, smtpPassword := randomText("pd-routing-"), randomText("og-api-key-"), randomText("smtp-password-")
	for name, v := range map[string]string{
		"webhook URL path": webhookPath, "webhook secret": webhookSecret, "webhook header token": webhookHeader,
		"slack webhook URL path": slackPath, "teams webhook URL path": teamsPath,
		"pagerduty routing key": pdKey, "opsgenie API key": ogKey, "SMTP password": smtpPassword,
	} {
		r.sec.add(name, v)
	}
	notifiers := []map[string]any{
		{"name": "scan-webhook", "type": "webhook", "config": map[string]any{
			"url": r.receiver.URL + webhookPath, "secret": webhookSecret,
			"headers": []string{"Authorization: Bearer " + webhookHeader}, "max_attempts": 1}},
		{"name": "scan-slack", "type": "slack", "config": map[string]any{"webhook_url": "http://" + r.closed + slackPath}},
		{"name": "scan-teams", "type": "teams", "config": map[string]any{"webhook_url": r.receiver.URL + teamsPath}},
		{"name": "scan-pagerduty", "type": "pagerduty", "config": map[string]any{"routing_key": pdKey, "api_url": r.receiver.URL}},
		{"name": "scan-opsgenie", "type": "opsgenie", "config": map[string]any{"api_key": ogKey, "api_url": "http://" + r.closed}},
		{"name": "scan-email", "type": "email", "config": map[string]any{
			"host": "127.0.0.1", "port": portOf(t, r.closed), "username": "scan-user", "password": smtpPassword,
			"from": "certctl@example.com", "to": []string{"ops@example.com"}}},
	}
	for _, n := range notifiers {
		var created struct{ ID string }
		r.do(http.MethodPost, "/api/v1/notifiers", r.operator, mustJSON(n), http.StatusCreated, &created, "")
		r.do(http.MethodPut, "/api/v1/notifiers/"+created.ID, r.operator, mustJSON(map[string]any{"name": n["name"], "config": map[string]any{"timeout": "5s"}}), http.StatusOK, nil, "")
		r.do(http.MethodPost, "/api/v1/notifiers/"+created.ID+"/test", r.operator, "", 0, nil, "")
		r.do(http.MethodPost, "/api/v1/notification-rules", r.operator, mustJSON(map[string]any{
			"name": "scan-rule-" + n["name"].(string), "notifier_id": created.ID, "events": []string{"*"}}), http.StatusCreated, nil, "")
	}

	// A server-key certificate: issued, exported, renewed, exported, revoked.
	var cert struct{ ID string }
	r.do(http.MethodPost, "/api/v1/certificates", r.operator, mustJSON(map[string]any{
		"name": "scan-server-key", "common_name": "server-key.example.com", "issuer_id": issuer.ID, "key_mode": "server"}),
		http.StatusCreated, &cert, "")
	r.waitCertificate(cert.ID, func(c certState) bool { return c.Status == "active" })
	r.exportKeys(cert.ID)
	r.renew(cert.ID)
	r.exportKeys(cert.ID)
	r.revoke(cert.ID)

	// An agent, enrolled with a token, and an agent-key certificate
	// deployed by it, renewed and revoked.
	var token struct{ Token string }
	r.do(http.MethodPost, "/api/v1/enrollment-tokens", r.admin, `{"agent_name":"scan-agent","ttl":"1h"}`, http.StatusCreated, &token, exemptTokenCreation)
	r.sec.add("enrollment token", token.Token)
	r.agent = startProcess(t, "certctl-agent", doctest.Binary(t, "certctl-agent"), doctest.Env(
		"CERTCTL_SERVER_URL="+r.url, "CERTCTL_AGENT_TOKEN="+token.Token, "CERTCTL_AGENT_STATE_DIR="+r.stateDir))
	agentID := r.waitAgent()
	cred, err := os.ReadFile(filepath.Join(r.stateDir, "credential"))
	if err != nil {
		t.Fatalf("the agent's credential: %v", err)
	}
	r.sec.add("agent credential", strings.TrimSpace(string(cred)))

	var target struct{ ID string }
	r.do(http.MethodPost, "/api/v1/targets", r.operator, mustJSON(map[string]any{
		"name": "scan-target", "type": "nginx", "agent_id": agentID,
		"config": map[string]any{
			"certificate_path": filepath.Join(r.targetDir, "site.crt"), "key_path": filepath.Join(r.targetDir, "site.key"),
			"validate_command": []string{"true"}, "reload_command": []string{"true"},
		}}), http.StatusCreated, &target, "")
	r.do(http.MethodPost, "/api/v1/certificates", r.operator, mustJSON(map[string]any{
		"name": "scan-agent-key", "common_name": "agent-key.example.com", "issuer_id": issuer.ID, "target_ids": []string{target.ID}}),
		http.StatusCreated, &cert, "")
	deployed := func(c certState) bool { return c.Status == "active" && c.DeploymentHealth.Succeeded == 1 }
	r.waitCertificate(cert.ID, deployed)
	r.collectAgentKeys()
	r.renew(cert.ID)
	r.waitCertificate(cert.ID, deployed)
	r.collectAgentKeys()
	r.revoke(cert.ID)
	if len(r.agentKeys) < 2 {
		t.Fatalf("found %d agent key files, want one per issuance (2)", len(r.agentKeys))
	}

	r.waitNotifications()
}

// exportKeys exports the key of every version of a server-key certificate,
// as PEM and as PKCS#12, and registers them.
func (r *run) exportKeys(certID string) {
	var versions struct {
		Items []struct {
			ID            string
			HasPrivateKey bool `json:"has_private_key"`
		}
	}
	r.do(http.MethodGet, "/api/v1/certificates/"+certID+"/versions", r.operator, "", http.StatusOK, &versions, "")
	for _, v := range versions.Items {
		if !v.HasPrivateKey {
			r.t.Fatalf("version %s of a server-key certificate holds no key", v.ID)
		}
		path := "/api/v1/certificates/" + certID + "/versions/" + v.ID + "/private-key"
		pemReply := r.do(http.MethodGet, path, r.admin, "", http.StatusOK, nil, exemptKeyExportPEM)
		r.sec.addKeyPEM(r.t, "server-held private key of version "+v.ID, string(pemReply.body))
		p12 := r.do(http.MethodGet, path+"?format=pkcs12", r.admin, "", http.StatusOK, nil, exemptKeyExportPKCS12)
		r.sec.add("PKCS#12 export password", p12.header.Get("X-Certctl-PKCS12-Password"))
	}
}

func (r *run) renew(certID string) {
	var job struct{ ID string }
	r.do(http.MethodPost, "/api/v1/certificates/"+certID+"/renew", r.operator, "", http.StatusAccepted, &job, "")
	r.waitJob(job.ID)
}

func (r *run) revoke(certID string) {
	var job struct{ ID string }
	r.do(http.MethodPost, "/api/v1/certificates/"+certID+"/revoke", r.operator, `{"reason":"keyCompromise"}`, http.StatusAccepted, &job, "")
	r.waitJob(job.ID)
	r.waitCertificate(certID, func(c certState) bool { return c.Status == "revoked" })
}

func (r *run) waitJob(id string) {
	for range 20 {
		var job struct{ State, LastError string }
		r.do(http.MethodGet, "/api/v1/jobs/"+id+"?wait=30s", r.operator, "", http.StatusOK, &job, "")
		switch job.State {
		case "succeeded":
			return
		case "failed", "cancelled":
			r.t.Fatalf("job %s %s: %s", id, job.State, job.LastError)
		}
	}
	r.t.Fatalf("job %s did not end", id)
}

type certState struct {
	Status           string
	LastError        string                  `json:"last_error"`
	DeploymentHealth struct{ Succeeded int } `json:"deployment_health"`
}

func (r *run) waitCertificate(id string, done func(certState) bool) {
	var c certState
	for range 20 {
		r.do(http.MethodGet, "/api/v1/certificates/"+id+"?wait=30s", r.operator, "", http.StatusOK, &c, "")
		if done(c) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.t.Fatalf("certificate %s did not get there: %+v\n%s", id, c, r.logs())
}

func (r *run) waitAgent() string {
	for range 120 {
		var agents struct{ Items []struct{ ID, Name string } }
		r.do(http.MethodGet, "/api/v1/agents?status=online", r.operator, "", http.StatusOK, &agents, "")
		for _, a := range agents.Items {
			if a.Name == "scan-agent" {
				return a.ID
			}
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.t.Fatalf("the agent did not come online\n%s", r.logs())
	return ""
}

// waitNotifications waits until every notification has been tried at
// least once (or given up), so that delivery errors are in the logs and
// the database.
func (r *run) waitNotifications() {
	for range 120 {
		var n struct {
			Items []struct {
				Status   string
				Attempts int
			}
		}
		r.do(http.MethodGet, "/api/v1/notifications?limit=500", r.operator, "", http.StatusOK, &n, "")
		untried := 0
		for _, it := range n.Items {
			if it.Attempts == 0 && it.Status != "failed" && it.Status != "sent" {
				untried++
			}
		}
		if len(n.Items) > 0 && untried == 0 {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.t.Fatalf("notifications were not all tried\n%s", r.logs())
}

// collectAgentKeys registers the agent's key files and the deployed key.
func (r *run) collectAgentKeys() {
	keyDir := filepath.Join(r.stateDir, "keys")
	err := filepath.WalkDir(keyDir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".key") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		r.agentKeys[p] = string(b)
		r.sec.addKeyPEM(r.t, "agent private key "+filepath.Base(p), string(b))
		return nil
	})
	if err != nil {
		r.t.Fatalf("the agent's keys: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(r.targetDir, "site.key"))
	if err != nil {
		r.t.Fatalf("the deployed key: %v", err)
	}
	r.sec.addKeyPEM(r.t, "deployed private key", string(b))
}

// collectAndScan gathers every place a secret must not be and searches it.
func (r *run) collectAndScan() []hit {
	t := r.t
	var hits []hit
	look := func(where string, data []byte) {
		r.places++
		hits = append(hits, r.sec.search(where, data)...)
	}
	// Things of a running system: the audit trail through the API, the
	// database, the processes' environments and command lines.
	r.pageAll("/api/v1/audit-events")
	r.pageAll("/api/v1/notifications")
	for _, p := range []string{"/api/v1/issuers", "/api/v1/notifiers", "/api/v1/api-keys", "/api/v1/enrollment-tokens", "/api/v1/agents", "/api/v1/jobs", "/api/v1/targets"} {
		r.pageAll(p)
	}
	dump := r.pgDump()
	r.sec.add("embedded PostgreSQL superuser password", r.superuserPassword())
	look("pg_dump of the database", dump)
	for _, p := range descendants(t, r.server.cmd.Process.Pid, r.agent.cmd.Process.Pid) {
		for _, f := range []string{"environ", "cmdline"} {
			b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.pid), f))
			if err != nil {
				continue // ended since
			}
			look(fmt.Sprintf("/proc/%d/%s (%s, started by %s)", p.pid, f, p.comm, p.root), b)
		}
	}

	// Stop both, then search what they printed and left on disk.
	r.agent.stop(t)
	r.server.stop(t)
	for _, p := range []*process{r.server, r.agent} {
		look(p.name+" stdout", []byte(p.stdout.String()))
		look(p.name+" stderr", []byte(p.stderr.String()))
	}
	r.mu.Lock()
	for i, rep := range r.replies {
		if rep.exempt != "" {
			continue
		}
		var h bytes.Buffer
		_ = rep.header.Write(&h)
		look(fmt.Sprintf("API reply #%d (%s, %d): headers", i, rep.what, rep.status), h.Bytes())
		look(fmt.Sprintf("API reply #%d (%s, %d): body", i, rep.what, rep.status), rep.body)
	}
	r.mu.Unlock()

	if _, err := os.Stat(filepath.Join(r.dataDir, "encryption.key")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("encryption.key exists although CERTCTL_ENCRYPTION_KEY was given (%v)", err)
	}
	walk := func(root, label string, exempt func(rel string) bool) {
		n := 0
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if !d.Type().IsRegular() || exempt(filepath.ToSlash(rel)) {
				return nil
			}
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			n++
			look(label+"/"+rel, b)
			return nil
		})
		if err != nil {
			t.Fatalf("read %s: %v", label, err)
		}
		if n == 0 {
			t.Fatalf("no file to search in %s", label)
		}
	}
	walk(r.dataDir, "<data dir>", func(rel string) bool { return slices.Contains(exemptDataFiles, rel) })
	walk(r.stateDir, "<agent state dir>", exemptAgentFile)
	return hits
}

// pageAll reads every page of a list (the replies are recorded and searched).
func (r *run) pageAll(path string) {
	cursor := ""
	for {
		var page struct {
			NextCursor *string `json:"next_cursor"`
		}
		q := "?limit=500"
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r.do(http.MethodGet, path+q, r.admin, "", http.StatusOK, &page, "")
		if page.NextCursor == nil {
			return
		}
		cursor = *page.NextCursor
	}
}

func (r *run) superuserPassword() string {
	b, err := os.ReadFile(filepath.Join(r.dataDir, "postgres", "superuser-password"))
	if err != nil {
		r.t.Fatalf("the embedded cluster's superuser password: %v", err)
	}
	return strings.TrimSpace(string(b))
}

// pgDump dumps the whole certctl database as the superuser, over the
// cluster's socket (its directory is in postmaster.pid).
func (r *run) pgDump() []byte {
	t := r.t
	pid, err := os.ReadFile(filepath.Join(r.dataDir, "postgres", "pgdata", "postmaster.pid"))
	if err != nil {
		t.Fatalf("postmaster.pid: %v", err)
	}
	lines := strings.Split(string(pid), "\n")
	if len(lines) < 5 || lines[4] == "" {
		t.Fatalf("postmaster.pid names no socket directory:\n%s", pid)
	}
	binDir, err := pgembed.FindBinaries("")
	if err != nil {
		t.Fatal(err)
	}
	u := url.URL{Scheme: "postgres", User: url.UserPassword("postgres", r.superuserPassword()), Path: "/certctl",
		RawQuery: url.Values{"host": {lines[4]}, "port": {"5432"}, "sslmode": {"disable"}}.Encode()}
	cmd := exec.CommandContext(r.ctx, filepath.Join(binDir, "pg_dump"), "--dbname="+u.String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump: %v\n%s", err, stderr.String())
	}
	if !bytes.Contains(out, []byte("COPY public.audit_events ")) {
		t.Fatalf("pg_dump holds no audit_events table:\n%.2000s", out)
	}
	return out
}

// do calls the API and records the reply. want 0 accepts any status.
func (r *run) do(method, path, key, body string, want int, into any, exempt string) reply {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(r.ctx, 90*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, r.url+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		r.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		r.t.Fatalf("%s %s: read the reply: %v", method, path, err)
	}
	rep := reply{what: method + " " + path, status: resp.StatusCode, header: resp.Header, body: b, exempt: exempt}
	r.mu.Lock()
	r.replies = append(r.replies, rep)
	r.mu.Unlock()
	if want != 0 && resp.StatusCode != want {
		r.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b, want)
	}
	if into != nil {
		if err := json.Unmarshal(b, into); err != nil {
			r.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return rep
}

func (r *run) waitReady() {
	for range 900 {
		select {
		case <-r.server.done:
			r.t.Fatalf("certctl-server exited: %v\n%s", r.server.err, r.logs())
		default:
		}
		if resp, err := http.Get(r.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	r.t.Fatalf("certctl-server did not get ready\n%s", r.logs())
}

func (r *run) logs() string {
	var b strings.Builder
	for _, p := range []*process{r.server, r.agent} {
		if p != nil {
			fmt.Fprintf(&b, "--- %s stderr (end)\n%s\n", p.name, tail(p.stderr.String(), 40))
		}
	}
	return b.String()
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// process is a binary from bin/ with its output captured.
type process struct {
	name           string
	cmd            *exec.Cmd
	stdout, stderr *doctest.SyncBuffer
	done           chan struct{}
	err            error
}

func startProcess(t *testing.T, name, bin string, env []string) *process {
	p := &process{name: name, stdout: &doctest.SyncBuffer{}, stderr: &doctest.SyncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin)
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends SIGINT and requires a clean exit.
func (p *process) stop(t *testing.T) {
	select {
	case <-p.done:
		t.Fatalf("%s had exited: %v\n%s", p.name, p.err, tail(p.stderr.String(), 40))
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatalf("signal %s: %v", p.name, err)
	}
	select {
	case <-p.done:
	case <-time.After(90 * time.Second):
		t.Fatalf("%s did not exit within 90s of SIGINT", p.name)
	}
	if p.err != nil {
		t.Errorf("%s after SIGINT: %v\n%s", p.name, p.err, tail(p.stderr.String(), 40))
	}
}

type procInfo struct {
	pid        int
	comm, root string
}

// descendants lists every process below the given roots (not the roots:
// they were given the secrets in their own environment).
func descendants(t *testing.T, roots ...int) []procInfo {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	parent, comm := map[int]int{}, map[int]string{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < open {
			continue
		}
		fields := strings.Fields(s[end+1:])
		if len(fields) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(fields[1])
		parent[pid], comm[pid] = ppid, s[open+1:end]
	}
	var out []procInfo
	for pid := range parent {
		for p := parent[pid]; p > 1; p = parent[p] {
			if i := slices.Index(roots, p); i >= 0 {
				name := "certctl-server"
				if i == 1 {
					name = "certctl-agent"
				}
				out = append(out, procInfo{pid: pid, comm: comm[pid], root: name})
				break
			}
		}
	}
	postgres := 0
	for _, p := range out {
		if p.comm == "postgres" {
			postgres++
		}
	}
	if postgres == 0 || len(out) < 3 {
		t.Fatalf("expected the embedded PostgreSQL and plugins below the server, found %v", out)
	}
	return out
}

// makeCA returns a self-signed CA certificate and its PKCS#8 private key.
func makeCA(t *testing.T) (certPEM, keyPEM string) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: "secret scan root CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}))
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func portOf(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSearchFindsKeyEncodings checks the needles of a private key: the key
// is found as PEM escaped in JSON, as bytea hex in a dump and as raw DER in
// a binary file, and nothing is found in text without it.
func TestSearchFindsKeyEncodings(t *testing.T) {
	_, keyPEM := makeCA(t)
	sec := &secrets{}
	sec.addKeyPEM(t, "key", keyPEM)
	sec.add("token", "cce_0123456789abcdefghijkl")
	b, _ := pem.Decode([]byte(keyPEM))
	jsonPEM, _ := json.Marshal(map[string]string{"pem": keyPEM})
	for where, data := range map[string][]byte{
		"JSON":      jsonPEM,
		"bytea hex": []byte(`COPY t (k) FROM stdin;` + "\n" + `\\x` + hex.EncodeToString(b.Bytes) + "\n"),
		"raw DER":   append(append([]byte{0, 1, 2}, b.Bytes...), 3, 4),
	} {
		if hits := sec.search(where, data); len(hits) == 0 {
			t.Errorf("the key was not found in %s", where)
		}
	}
	if hits := sec.search("base64 of the token", []byte(`{"x":"`+base64.StdEncoding.EncodeToString([]byte("cce_0123456789abcdefghijkl"))+`"}`)); len(hits) == 0 {
		t.Error("the token in base64 was not found")
	}
	if hits := sec.search("clean", []byte(`{"status":"active","certificate_pem":"-----BEGIN CERTIFICATE-----"}`)); len(hits) != 0 {
		t.Errorf("hits in text without a secret: %v", hits)
	}
}
