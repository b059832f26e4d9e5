package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
)

// healthz says the process is up; it checks nothing else.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	encode(w, http.StatusOK, api.Health{Status: "ok"})
	return nil
}

// readyz says whether the server can serve: the database answers and its
// schema is migrated.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.ready(ctx); err != nil {
		s.logger.WarnContext(ctx, "not ready", "err", err)
		encode(w, http.StatusServiceUnavailable, api.Health{Status: "unavailable", Checks: map[string]string{"database": core.ErrorMessage(err)}})
		return nil
	}
	encode(w, http.StatusOK, api.Health{Status: "ok", Checks: map[string]string{"database": "ok"}})
	return nil
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDocument)
	return err
}
