package httpapi

import (
	"net/http"
	"strings"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route of the server in one place.
func (s *Server) routes(reg *prometheus.Registry) {
	r := s.router
	r.NotFoundHandler = s.notFound()
	r.MethodNotAllowedHandler = s.methodNotAllowed()
	r.Use(routeName, s.refuseNULInParams)

	// Operations: no authentication.
	r.Handle("/healthz", s.h(s.healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", s.h(s.readyz)).Methods(http.MethodGet, http.MethodHead)
	if reg != nil {
		r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	}
	// The API's description is public, so that tools and people can read
	// it before they hold a key; it says nothing a key protects.
	r.Handle("/api/v1/openapi.json", s.h(s.openAPI)).Methods(http.MethodGet)
	// CRLs are public: relying parties fetch them without credentials.
	// {issuer} is the issuer's id or name.
	r.Handle("/crl/{issuer}.crl", s.h(s.crl)).Methods(http.MethodGet, http.MethodHead)
	// The HTTP-01 responder is public: ACME CAs fetch challenge responses
	// without credentials (see also HTTP01Handler).
	r.Handle(acmeChallengePath+"{token}", s.h(s.acmeChallenge)).Methods(http.MethodGet)

	// The agent API: enrollment with a token, then the agent's own credential.
	// Past a bound of agent requests at once, more are shed (shed.go).
	r.Handle("/api/v1/agent/enroll", s.shedAgents(s.h(s.agentEnroll))).Methods(http.MethodPost)
	agent := func(method, path string, f handlerFunc) {
		r.Handle("/api/v1/agent"+path, s.shedAgents(s.authenticateAgent(s.h(f)))).Methods(method)
	}
	agent(http.MethodPost, "/heartbeat", s.agentHeartbeat)
	agent(http.MethodGet, "/work", s.agentWork)
	agent(http.MethodPost, "/jobs/{id}/csr", s.agentSubmitCSR)
	agent(http.MethodPost, "/jobs/{id}/result", s.agentReportDeployment)
	agent(http.MethodPost, "/jobs/{id}/challenges", s.agentReportChallenges)
	agent(http.MethodPost, "/credential", s.agentRotateCredential)

	// The API: every other route needs an API key. Routes are registered on the
	// root router (not a PathPrefix subrouter) so that a method mismatch
	// answers 405 rather than 404.
	// Each route names its action ("<resource>.<verb>"), which the
	// audit trail records when a caller is refused.
	v1 := func(method, path, action string, f handlerFunc) {
		r.Handle("/api/v1"+path, s.authenticate(action, s.h(f))).Methods(method)
	}

	v1(http.MethodGet, "/issuers", "issuer.list", s.listIssuers)
	v1(http.MethodPost, "/issuers", "issuer.create", s.createIssuer)
	v1(http.MethodPost, "/issuers/validate", "issuer.validate", s.validateIssuer)
	v1(http.MethodGet, "/issuers/{id}", "issuer.get", s.getIssuer)
	v1(http.MethodPut, "/issuers/{id}", "issuer.update", s.updateIssuer)
	v1(http.MethodDelete, "/issuers/{id}", "issuer.delete", s.deleteIssuer)

	v1(http.MethodGet, "/targets", "target.list", s.listTargets)
	v1(http.MethodPost, "/targets", "target.create", s.createTarget)
	v1(http.MethodPost, "/targets/validate", "target.validate", s.validateTarget)
	v1(http.MethodGet, "/targets/{id}", "target.get", s.getTarget)
	v1(http.MethodPut, "/targets/{id}", "target.update", s.updateTarget)
	v1(http.MethodDelete, "/targets/{id}", "target.delete", s.deleteTarget)

	v1(http.MethodGet, "/notifiers", "notifier.list", s.listNotifiers)
	v1(http.MethodPost, "/notifiers", "notifier.create", s.createNotifier)
	v1(http.MethodPost, "/notifiers/validate", "notifier.validate", s.validateNotifier)
	v1(http.MethodGet, "/notifiers/{id}", "notifier.get", s.getNotifier)
	v1(http.MethodPut, "/notifiers/{id}", "notifier.update", s.updateNotifier)
	v1(http.MethodDelete, "/notifiers/{id}", "notifier.delete", s.deleteNotifier)
	v1(http.MethodPost, "/notifiers/{id}/test", "notifier.test", s.testNotifier)

	v1(http.MethodGet, "/plugins", "plugin.list", s.listPlugins)
	v1(http.MethodPost, "/plugins/{kind}/{name}/register", "plugin.register", s.registerPlugin)

	v1(http.MethodGet, "/certificates", "certificate.list", s.listCertificates)
	v1(http.MethodPost, "/certificates", "certificate.create", s.createCertificate)
	// The bulk actions come before /certificates/{id} so that their static
	// paths are never read as an id.
	v1(http.MethodPost, "/certificates/renew", "certificate.bulk_renew", s.bulkRenew)
	v1(http.MethodPost, "/certificates/revoke", "certificate.bulk_revoke", s.bulkRevoke)
	v1(http.MethodPost, "/certificates/reissue", "certificate.bulk_reissue", s.bulkReissue)
	v1(http.MethodGet, "/certificates/{id}", "certificate.get", s.getCertificate)
	v1(http.MethodPut, "/certificates/{id}", "certificate.update", s.updateCertificate)
	v1(http.MethodDelete, "/certificates/{id}", "certificate.delete", s.deleteCertificate)
	v1(http.MethodGet, "/certificates/{id}/versions", "certificate.list_versions", s.listVersions)
	v1(http.MethodGet, "/certificates/{id}/versions/{version_id}", "certificate.get_version", s.getVersion)
	v1(http.MethodGet, "/certificates/{id}/deployments", "certificate.list_deployments", s.listDeployments)
	v1(http.MethodPost, "/certificates/{id}/renew", "certificate.renew", s.renewCertificate)
	v1(http.MethodPost, "/certificates/{id}/revoke", "certificate.revoke", s.revokeCertificate)
	v1(http.MethodGet, "/certificates/{id}/renewal", "certificate.explain_renewal", s.explainRenewal)
	// Admin only (the service checks), and audited although it is a GET.
	v1(http.MethodGet, "/certificates/{id}/versions/{version_id}/private-key", "certificate.export_key", s.exportPrivateKey)

	v1(http.MethodGet, "/jobs", "job.list", s.listJobs)
	v1(http.MethodGet, "/jobs/{id}", "job.get", s.getJob)
	v1(http.MethodPost, "/jobs/{id}/cancel", "job.cancel", s.cancelJob)
	v1(http.MethodPost, "/jobs/{id}/retry", "job.retry", s.retryJob)
	v1(http.MethodPost, "/jobs/{id}/csr", "job.submit_csr", s.submitCSR)

	// Durable bulk operations (a re-issue of every certificate a filter
	// selects), driven in the background.
	v1(http.MethodGet, "/operations", "operation.list", s.listOperations)
	v1(http.MethodGet, "/operations/{id}", "operation.get", s.getOperation)
	v1(http.MethodPost, "/operations/{id}/cancel", "operation.cancel", s.cancelOperation)

	v1(http.MethodGet, "/renewal-policies", "renewal_policy.list", s.listPolicies)
	v1(http.MethodPost, "/renewal-policies", "renewal_policy.create", s.createPolicy)
	v1(http.MethodGet, "/renewal-policies/{id}", "renewal_policy.get", s.getPolicy)
	v1(http.MethodPut, "/renewal-policies/{id}", "renewal_policy.update", s.updatePolicy)
	v1(http.MethodDelete, "/renewal-policies/{id}", "renewal_policy.delete", s.deletePolicy)

	v1(http.MethodGet, "/notification-rules", "notification_rule.list", s.listRules)
	v1(http.MethodPost, "/notification-rules", "notification_rule.create", s.createRule)
	v1(http.MethodGet, "/notification-rules/{id}", "notification_rule.get", s.getRule)
	v1(http.MethodPut, "/notification-rules/{id}", "notification_rule.update", s.updateRule)
	v1(http.MethodDelete, "/notification-rules/{id}", "notification_rule.delete", s.deleteRule)
	v1(http.MethodGet, "/notifications", "notification.list", s.listNotifications)

	v1(http.MethodGet, "/agents", "agent.list", s.listAgents)
	v1(http.MethodGet, "/agents/{id}", "agent.get", s.getAgent)
	v1(http.MethodPost, "/agents/{id}/retire", "agent.retire", s.retireAgent)

	v1(http.MethodGet, "/enrollment-tokens", "enrollment_token.list", s.listEnrollmentTokens)
	v1(http.MethodPost, "/enrollment-tokens", "enrollment_token.create", s.createEnrollmentToken)
	v1(http.MethodGet, "/enrollment-tokens/{id}", "enrollment_token.get", s.getEnrollmentToken)
	v1(http.MethodDelete, "/enrollment-tokens/{id}", "enrollment_token.revoke", s.revokeEnrollmentToken)

	v1(http.MethodGet, "/api-keys", "api_key.list", s.listAPIKeys)
	v1(http.MethodPost, "/api-keys", "api_key.create", s.createAPIKey)
	v1(http.MethodGet, "/api-keys/{id}", "api_key.get", s.getAPIKey)
	v1(http.MethodDelete, "/api-keys/{id}", "api_key.revoke", s.revokeAPIKey)

	v1(http.MethodGet, "/audit-events", "audit_event.list", s.listAuditEvents)

	// Admin only (the service checks): re-seals every secret with the current key.
	v1(http.MethodPost, "/encryption-key/rotate", "encryption_key.rotate", s.rotateEncryptionKey)

	// The web console answers every path the routes above leave, except
	// under the API's and the operations' own prefixes, which keep their
	// JSON 404 and 405 answers.
	if s.console != nil {
		// The matcher comes before the path: matching the path would
		// forget an earlier route's method mismatch (its 405).
		r.MatcherFunc(func(req *http.Request, _ *mux.RouteMatch) bool {
			return !consoleExcluded(req.URL.Path)
		}).PathPrefix("/").Handler(s.console)
	}
}

// consoleExcluded reports whether path belongs to the API or the
// operations endpoints rather than to the console.
func consoleExcluded(path string) bool {
	for _, p := range []string{"/api/", "/healthz", "/readyz", "/metrics", "/crl/", "/.well-known/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
