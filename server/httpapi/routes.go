package httpapi

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// routes lists every route of the server in one place.
func (s *Server) routes(reg *prometheus.Registry) {
	r := s.router
	r.NotFoundHandler = s.notFound()
	r.MethodNotAllowedHandler = s.methodNotAllowed()
	r.Use(routeName)

	// Operations: no authentication.
	r.Handle("/healthz", s.h(s.healthz)).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/readyz", s.h(s.readyz)).Methods(http.MethodGet, http.MethodHead)
	if reg != nil {
		r.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{})).Methods(http.MethodGet)
	}

	// The API: every route needs an API key. Routes are registered on the
	// root router (not a PathPrefix subrouter) so that a method mismatch
	// answers 405 rather than 404.
	// Each route names its action ("<resource>.<verb>"), which the
	// audit trail records when a caller is refused.
	v1 := func(method, path, action string, f handlerFunc) {
		r.Handle("/api/v1"+path, s.authenticate(action, s.h(f))).Methods(method)
	}

	v1(http.MethodGet, "/openapi.json", "openapi.get", s.openAPI)

	v1(http.MethodGet, "/issuers", "issuer.list", s.listIssuers)
	v1(http.MethodPost, "/issuers", "issuer.create", s.createIssuer)
	v1(http.MethodGet, "/issuers/{id}", "issuer.get", s.getIssuer)
	v1(http.MethodPut, "/issuers/{id}", "issuer.update", s.updateIssuer)
	v1(http.MethodDelete, "/issuers/{id}", "issuer.delete", s.deleteIssuer)

	v1(http.MethodGet, "/targets", "target.list", s.listTargets)
	v1(http.MethodPost, "/targets", "target.create", s.createTarget)
	v1(http.MethodGet, "/targets/{id}", "target.get", s.getTarget)
	v1(http.MethodPut, "/targets/{id}", "target.update", s.updateTarget)
	v1(http.MethodDelete, "/targets/{id}", "target.delete", s.deleteTarget)

	v1(http.MethodGet, "/notifiers", "notifier.list", s.listNotifiers)
	v1(http.MethodPost, "/notifiers", "notifier.create", s.createNotifier)
	v1(http.MethodGet, "/notifiers/{id}", "notifier.get", s.getNotifier)
	v1(http.MethodPut, "/notifiers/{id}", "notifier.update", s.updateNotifier)
	v1(http.MethodDelete, "/notifiers/{id}", "notifier.delete", s.deleteNotifier)
	v1(http.MethodPost, "/notifiers/{id}/test", "notifier.test", s.testNotifier)

	v1(http.MethodGet, "/plugins", "plugin.list", s.listPlugins)
	v1(http.MethodPost, "/plugins/{kind}/{name}/register", "plugin.register", s.registerPlugin)

	v1(http.MethodGet, "/certificates", "certificate.list", s.listCertificates)
	v1(http.MethodPost, "/certificates", "certificate.create", s.createCertificate)
	v1(http.MethodGet, "/certificates/{id}", "certificate.get", s.getCertificate)
	v1(http.MethodPut, "/certificates/{id}", "certificate.update", s.updateCertificate)
	v1(http.MethodDelete, "/certificates/{id}", "certificate.delete", s.deleteCertificate)
	v1(http.MethodGet, "/certificates/{id}/versions", "certificate.list_versions", s.listVersions)
	v1(http.MethodGet, "/certificates/{id}/versions/{version_id}", "certificate.get_version", s.getVersion)
	v1(http.MethodGet, "/certificates/{id}/deployments", "certificate.list_deployments", s.listDeployments)

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
}
