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
	v1 := func(method, path string, f handlerFunc) {
		r.Handle("/api/v1"+path, s.authenticate(s.h(f))).Methods(method)
	}

	v1(http.MethodGet, "/openapi.json", s.openAPI)

	v1(http.MethodGet, "/issuers", s.listIssuers)
	v1(http.MethodPost, "/issuers", s.createIssuer)
	v1(http.MethodGet, "/issuers/{id}", s.getIssuer)
	v1(http.MethodPut, "/issuers/{id}", s.updateIssuer)
	v1(http.MethodDelete, "/issuers/{id}", s.deleteIssuer)

	v1(http.MethodGet, "/targets", s.listTargets)
	v1(http.MethodPost, "/targets", s.createTarget)
	v1(http.MethodGet, "/targets/{id}", s.getTarget)
	v1(http.MethodPut, "/targets/{id}", s.updateTarget)
	v1(http.MethodDelete, "/targets/{id}", s.deleteTarget)

	v1(http.MethodGet, "/certificates", s.listCertificates)
	v1(http.MethodPost, "/certificates", s.createCertificate)
	v1(http.MethodGet, "/certificates/{id}", s.getCertificate)
	v1(http.MethodPut, "/certificates/{id}", s.updateCertificate)
	v1(http.MethodDelete, "/certificates/{id}", s.deleteCertificate)
	v1(http.MethodGet, "/certificates/{id}/versions", s.listVersions)
	v1(http.MethodGet, "/certificates/{id}/versions/{version_id}", s.getVersion)
	v1(http.MethodGet, "/certificates/{id}/deployments", s.listDeployments)

	v1(http.MethodGet, "/agents", s.listAgents)
	v1(http.MethodGet, "/agents/{id}", s.getAgent)
	v1(http.MethodPost, "/agents/{id}/retire", s.retireAgent)

	v1(http.MethodGet, "/enrollment-tokens", s.listEnrollmentTokens)
	v1(http.MethodPost, "/enrollment-tokens", s.createEnrollmentToken)
	v1(http.MethodGet, "/enrollment-tokens/{id}", s.getEnrollmentToken)
	v1(http.MethodDelete, "/enrollment-tokens/{id}", s.revokeEnrollmentToken)

	v1(http.MethodGet, "/api-keys", s.listAPIKeys)
	v1(http.MethodPost, "/api-keys", s.createAPIKey)
	v1(http.MethodGet, "/api-keys/{id}", s.getAPIKey)
	v1(http.MethodDelete, "/api-keys/{id}", s.revokeAPIKey)

	v1(http.MethodGet, "/audit-events", s.listAuditEvents)
}
