package httpapi_test

import (
	"context"
	"net/http"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// A principal is one kind of caller of the authorization matrix.
type principal string

const (
	pNone       principal = "no credential"
	pInvalid    principal = "unknown API key"
	pRevoked    principal = "revoked admin key"
	pExpired    principal = "expired admin key"
	pViewer     principal = "viewer key"
	pOperator   principal = "operator key"
	pAdmin      principal = "admin key"
	pAgent      principal = "agent credential"
	pOtherAgent principal = "another agent's credential"
	pStaleAgent principal = "rotated-away agent credential"
	pRetired    principal = "retired agent's credential"
)

var principals = []principal{pNone, pInvalid, pRevoked, pExpired, pViewer, pOperator, pAdmin, pAgent, pOtherAgent, pStaleAgent, pRetired}

// apiKeys are the principals that hold a valid API key.
var apiKeys = []principal{pViewer, pOperator, pAdmin}

// access is who may call a route.
type access struct {
	allow []principal
	// scoped: the route acts on a job of one agent; any other agent is told
	// it does not exist (404).
	scoped bool
	// spends: a successful call invalidates the agent credential used, so
	// each agent principal calls it with a freshly enrolled agent.
	spends bool
	// tokenInBody: the caller proves itself with an enrollment token in the
	// body, whatever credential the request carries.
	tokenInBody bool
	// public: needs nothing, and answers a caller without a credential in full.
	public bool
}

var (
	public   = access{allow: principals, public: true}
	anyKey   = access{allow: []principal{pViewer, pOperator, pAdmin}}
	operator = access{allow: []principal{pOperator, pAdmin}}
	admin    = access{allow: []principal{pAdmin}}
	agent    = access{allow: []principal{pAgent, pOtherAgent}}
	agentJob = access{allow: []principal{pAgent, pOtherAgent}, scoped: true}
)

// authzTable is the security model of docs/api.md ("Authentication"), route
// by route: every route of the router must be here, and nothing else.
var authzTable = map[string]access{
	// Operations, the API description and CRLs are public.
	"GET /healthz":             public,
	"HEAD /healthz":            public,
	"GET /readyz":              public,
	"HEAD /readyz":             public,
	"GET /metrics":             public,
	"GET /api/v1/openapi.json": public,
	"GET /crl/{issuer}.crl":    public,
	"HEAD /crl/{issuer}.crl":   public,
	// The HTTP-01 responder: ACME CAs fetch challenge responses without credentials.
	"GET /.well-known/acme-challenge/{token}": public,

	// The agent API takes agent credentials only; enrollment takes a token.
	"POST /api/v1/agent/enroll":               {allow: principals, tokenInBody: true},
	"POST /api/v1/agent/heartbeat":            agent,
	"GET /api/v1/agent/work":                  agent,
	"POST /api/v1/agent/jobs/{id}/csr":        agentJob,
	"POST /api/v1/agent/jobs/{id}/result":     agentJob,
	"POST /api/v1/agent/jobs/{id}/challenges": agentJob,
	"POST /api/v1/agent/credential":           {allow: agent.allow, spends: true},

	"GET /api/v1/issuers":           anyKey,
	"POST /api/v1/issuers":          operator,
	"POST /api/v1/issuers/validate": operator,
	"GET /api/v1/issuers/{id}":      anyKey,
	"PUT /api/v1/issuers/{id}":      operator,
	"DELETE /api/v1/issuers/{id}":   operator,

	"GET /api/v1/targets":           anyKey,
	"POST /api/v1/targets":          operator,
	"POST /api/v1/targets/validate": operator,
	"GET /api/v1/targets/{id}":      anyKey,
	"PUT /api/v1/targets/{id}":      operator,
	"DELETE /api/v1/targets/{id}":   operator,

	"GET /api/v1/notifiers":            anyKey,
	"POST /api/v1/notifiers":           operator,
	"POST /api/v1/notifiers/validate":  operator,
	"GET /api/v1/notifiers/{id}":       anyKey,
	"PUT /api/v1/notifiers/{id}":       operator,
	"DELETE /api/v1/notifiers/{id}":    operator,
	"POST /api/v1/notifiers/{id}/test": operator,

	"GET /api/v1/plugins":                         anyKey,
	"POST /api/v1/plugins/{kind}/{name}/register": admin,

	"GET /api/v1/certificates":                                        anyKey,
	"POST /api/v1/certificates":                                       operator,
	"POST /api/v1/certificates/renew":                                 operator,
	"POST /api/v1/certificates/revoke":                                operator,
	"POST /api/v1/certificates/reissue":                               operator,
	"GET /api/v1/certificates/{id}":                                   anyKey,
	"PUT /api/v1/certificates/{id}":                                   operator,
	"DELETE /api/v1/certificates/{id}":                                operator,
	"GET /api/v1/certificates/{id}/versions":                          anyKey,
	"GET /api/v1/certificates/{id}/versions/{version_id}":             anyKey,
	"GET /api/v1/certificates/{id}/deployments":                       anyKey,
	"POST /api/v1/certificates/{id}/renew":                            operator,
	"POST /api/v1/certificates/{id}/revoke":                           operator,
	"GET /api/v1/certificates/{id}/renewal":                           anyKey,
	"GET /api/v1/certificates/{id}/versions/{version_id}/private-key": admin,

	"GET /api/v1/jobs":              anyKey,
	"GET /api/v1/jobs/{id}":         anyKey,
	"POST /api/v1/jobs/{id}/cancel": operator,
	"POST /api/v1/jobs/{id}/retry":  operator,
	"POST /api/v1/jobs/{id}/csr":    operator,

	"GET /api/v1/operations":              anyKey,
	"GET /api/v1/operations/{id}":         anyKey,
	"POST /api/v1/operations/{id}/cancel": operator,

	"GET /api/v1/renewal-policies":         anyKey,
	"POST /api/v1/renewal-policies":        operator,
	"GET /api/v1/renewal-policies/{id}":    anyKey,
	"PUT /api/v1/renewal-policies/{id}":    operator,
	"DELETE /api/v1/renewal-policies/{id}": operator,

	"GET /api/v1/notification-rules":         anyKey,
	"POST /api/v1/notification-rules":        operator,
	"GET /api/v1/notification-rules/{id}":    anyKey,
	"PUT /api/v1/notification-rules/{id}":    operator,
	"DELETE /api/v1/notification-rules/{id}": operator,
	"GET /api/v1/notifications":              anyKey,

	"GET /api/v1/agents":              anyKey,
	"GET /api/v1/agents/{id}":         anyKey,
	"POST /api/v1/agents/{id}/retire": operator,

	"GET /api/v1/enrollment-tokens":         admin,
	"POST /api/v1/enrollment-tokens":        admin,
	"GET /api/v1/enrollment-tokens/{id}":    admin,
	"DELETE /api/v1/enrollment-tokens/{id}": admin,

	"GET /api/v1/api-keys":         admin,
	"POST /api/v1/api-keys":        admin,
	"GET /api/v1/api-keys/{id}":    admin,
	"DELETE /api/v1/api-keys/{id}": admin,

	"GET /api/v1/audit-events": anyKey,

	"POST /api/v1/encryption-key/rotate": admin,
}

// TestAuthorizationMatrix calls every route the router has, every method,
// with every kind of credential, and checks that exactly the principals of
// authzTable get through (anything but 401 and 403; the request itself may
// then be refused as invalid or not found) and that the others get 401 (no
// credential of the route's kind) or 403 (an API key whose role is too low).
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	clock := &testClock{now: time.Now().UTC()}
	env := apitest.Start(t, apitest.Options{Clock: clock.Now, PluginDir: pluginDir})
	ctx := core.WithActor(context.Background(), core.SystemActor)

	creds := map[principal]string{
		pNone:     "",
		pInvalid:  "cck_not-a-real-key-at-all-0000000000000000000",
		pRevoked:  env.NewKey(t, core.RoleAdmin),
		pViewer:   env.NewKey(t, core.RoleViewer),
		pOperator: env.NewKey(t, core.RoleOperator),
		pAdmin:    env.AdminKey,
	}
	revoked, err := env.Service.Authenticate(ctx, creds[pRevoked])
	if err != nil {
		t.Fatalf("authenticate the key to revoke: %v", err)
	}
	if _, err := env.Service.RevokeAPIKey(ctx, uuid.MustParse(revoked.ID)); err != nil {
		t.Fatalf("revoke key: %v", err)
	}
	exp := clock.Now().Add(time.Hour)
	expiring, err := env.Service.CreateAPIKey(ctx, service.APIKeyInput{Name: "short", Role: core.RoleAdmin, ExpiresAt: &exp})
	if err != nil {
		t.Fatalf("create expiring key: %v", err)
	}
	env.MustDo(t, "GET", "/api/v1/issuers", expiring.Secret, nil, 200)
	clock.Add(2 * time.Hour)
	creds[pExpired] = expiring.Secret

	agentA, credA := enroll(t, env, "matrix-a")
	_, creds[pOtherAgent] = enroll(t, env, "matrix-b")
	creds[pAgent] = credA
	_, stale := enroll(t, env, "matrix-stale")
	env.MustDo(t, "POST", "/api/v1/agent/credential", stale, nil, 200)
	creds[pStaleAgent] = stale
	retired, retiredCred := enroll(t, env, "matrix-retired")
	env.MustDo(t, "POST", "/api/v1/agents/"+retired.ID+"/retire", env.AdminKey, nil, 200)
	creds[pRetired] = retiredCred

	// Agent A's own jobs: an issuance waiting for its CSR and a deployment
	// waiting for it to take.
	csrJob, deployJob := agentJobs(t, env, agentA.ID, credA)

	var rs []route
	seen := map[string]bool{}
	for _, r := range walkRoutes(t, env) {
		key := r.method + " " + r.template
		seen[key] = true
		if _, ok := authzTable[key]; !ok {
			t.Errorf("new route %s: add it to authzTable with the principals allowed to call it", key)
			continue
		}
		rs = append(rs, r)
	}
	for key := range authzTable {
		if !seen[key] {
			t.Errorf("authzTable lists %s, which the router no longer has: remove it", key)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].template+rs[i].method < rs[j].template+rs[j].method })

	for _, r := range rs {
		key := r.method + " " + r.template
		a := authzTable[key]
		path := r.path
		switch key {
		case "POST /api/v1/agent/jobs/{id}/csr":
			path = "/api/v1/agent/jobs/" + csrJob + "/csr"
		case "POST /api/v1/agent/jobs/{id}/result":
			path = "/api/v1/agent/jobs/" + deployJob + "/result"
		case "POST /api/v1/agent/jobs/{id}/challenges":
			path = "/api/v1/agent/jobs/" + csrJob + "/challenges"
		case "POST /api/v1/plugins/{kind}/{name}/register":
			path = "/api/v1/plugins/issuer/no-such-plugin/register"
		}
		for _, p := range principals {
			cred := creds[p]
			if a.spends && (p == pAgent || p == pOtherAgent) {
				_, cred = enroll(t, env, "spender-"+uuid.NewString()[:8])
			}
			var body any
			if r.method != http.MethodGet && r.method != http.MethodHead {
				body = "{}"
			}
			if a.tokenInBody {
				body = api.AgentEnrollRequest{Token: newEnrollmentToken(t, env), Name: "enrollee-" + uuid.NewString()[:8]}
			}
			resp := env.Do(t, r.method, path, cred, body)
			want := expectedAuthz(a, p)
			got := resp.Status
			switch want {
			case 0: // accepted
				if got == 401 || got == 403 || got >= 500 {
					t.Errorf("%s with %s: %d %s, want it let through", key, p, got, resp.Body)
				}
				if a.public && p == pNone {
					// Public: answered in full (the CRL of an issuer that does not
					// exist, a challenge token no job presents, are not found).
					wantPublic := 200
					if strings.HasPrefix(r.template, "/crl/") || strings.HasPrefix(r.template, "/.well-known/") {
						wantPublic = 404
					}
					if got != wantPublic {
						t.Errorf("%s without a credential: %d, want %d", key, got, wantPublic)
					}
				}
			default:
				if got != want {
					t.Errorf("%s with %s: %d %s, want %d", key, p, got, resp.Body, want)
					continue
				}
				code := map[int]string{401: api.CodeUnauthorized, 403: api.CodeForbidden, 404: api.CodeNotFound}[want]
				if r.method != http.MethodHead && resp.ErrorCode() != code {
					t.Errorf("%s with %s: error code %q, want %q", key, p, resp.ErrorCode(), code)
				}
			}
		}
		if a.tokenInBody {
			// Without a valid token nobody enrolls.
			for _, p := range principals {
				if resp := env.Do(t, r.method, path, creds[p], `{"token":"cce_bogus"}`); resp.Status != 401 {
					t.Errorf("%s with %s and a bogus token: %d %s, want 401", key, p, resp.Status, resp.Body)
				}
			}
		}
	}
}

// expectedAuthz is the status a principal gets on a route with access a: 0
// when it is let through, otherwise the refusal.
func expectedAuthz(a access, p principal) int {
	switch {
	case a.scoped && p == pOtherAgent:
		return 404 // another agent's job does not exist for this one
	case slices.Contains(a.allow, p):
		return 0
	case slices.Contains(a.allow, pAdmin) && slices.Contains(apiKeys, p):
		return 403 // an API key route, a role too low
	case slices.Contains(a.allow, pAgent) && p == pRetired:
		return 403 // an agent route, an agent that is no more
	default:
		return 401 // no credential of the kind the route takes
	}
}

// newEnrollmentToken returns a fresh enrollment token's secret.
func newEnrollmentToken(t *testing.T, env *apitest.Env) string {
	t.Helper()
	var tok api.EnrollmentToken
	env.MustDo(t, "POST", "/api/v1/enrollment-tokens", env.AdminKey, api.EnrollmentTokenRequest{}, 201).Decode(t, &tok)
	return tok.Token
}

// agentJobs gives the agent agentID two certificates whose keys it makes,
// hands in the CSR of one so that it is issued, and returns the job of the
// other (an issuance waiting for its CSR) and the deployment of the first
// (waiting for the agent to take it).
func agentJobs(t *testing.T, env *apitest.Env, agentID, cred string) (csrJob, deployJob string) {
	t.Helper()
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "matrix-ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &iss)
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "matrix-web", Type: "nginx", AgentID: &agentID,
		Config: map[string]any{"certificate_path": "/etc/ssl/a.pem"}}, 201).Decode(t, &tgt)
	for _, name := range []string{"issued", "waiting"} {
		env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "matrix-" + name,
			CommonName: name + ".example.com", IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201)
	}
	work := func() map[string]api.AgentWorkItem {
		var w api.AgentWork
		env.MustDo(t, "GET", "/api/v1/agent/work", cred, nil, 200).Decode(t, &w)
		items := map[string]api.AgentWorkItem{}
		for _, it := range w.Items {
			items[it.Kind+" "+it.Certificate.CommonName] = it
		}
		return items
	}
	issued := work()["csr issued.example.com"].JobID
	if issued == "" {
		t.Fatalf("no csr work for issued.example.com: %+v", work())
	}
	env.MustDo(t, "POST", "/api/v1/agent/jobs/"+issued+"/csr", cred, api.CSRRequest{CSRPEM: csrFor(t, "issued.example.com")}, 200)
	env.RunJobs(t)
	items := work()
	csrJob, deployJob = items["csr waiting.example.com"].JobID, items["deploy issued.example.com"].JobID
	if csrJob == "" || deployJob == "" {
		t.Fatalf("agent work = %+v, want a csr and a deploy item", items)
	}
	return csrJob, deployJob
}
