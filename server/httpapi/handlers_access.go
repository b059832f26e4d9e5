package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

func (s *Server) listAgents(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := core.AgentFilter{Page: page, Status: q.Get("status"), OS: q.Get("os"), Arch: q.Get("arch")}
	items, more, err := s.svc.ListAgents(r.Context(), f)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(a core.Agent) uuid.UUID { return a.ID }, toAgent))
	return nil
}

func (s *Server) getAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.svc.GetAgent(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toAgent(a))
	return nil
}

func (s *Server) retireAgent(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	a, err := s.svc.RetireAgent(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toAgent(a))
	return nil
}

func (s *Server) listEnrollmentTokens(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, more, err := s.svc.ListEnrollmentTokens(r.Context(), page)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(t core.EnrollmentToken) uuid.UUID { return t.ID }, toEnrollmentToken))
	return nil
}

func (s *Server) createEnrollmentToken(w http.ResponseWriter, r *http.Request) error {
	var req api.EnrollmentTokenRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in := service.EnrollmentTokenInput{AgentName: req.AgentName, Labels: req.Labels}
	if req.TTL != "" {
		d, err := time.ParseDuration(req.TTL)
		if err != nil {
			return core.Invalid("ttl", "%q is not a duration such as \"24h\" or \"30m\"", req.TTL)
		}
		in.TTL = &d
	}
	t, err := s.svc.CreateEnrollmentToken(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/enrollment-tokens/"+t.ID.String())
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusCreated, toEnrollmentToken(t))
	return nil
}

func (s *Server) getEnrollmentToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.svc.GetEnrollmentToken(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toEnrollmentToken(t))
	return nil
}

func (s *Server) revokeEnrollmentToken(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.svc.RevokeEnrollmentToken(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toEnrollmentToken(t))
	return nil
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, more, err := s.svc.ListAPIKeys(r.Context(), page)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(k core.APIKey) uuid.UUID { return k.ID }, toAPIKey))
	return nil
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	var req api.APIKeyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	k, err := s.svc.CreateAPIKey(r.Context(), service.APIKeyInput{Name: req.Name, Role: req.Role, ExpiresAt: req.ExpiresAt})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/api-keys/"+k.ID.String())
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusCreated, toAPIKey(k))
	return nil
}

func (s *Server) getAPIKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	k, err := s.svc.GetAPIKey(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toAPIKey(k))
	return nil
}

func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	k, err := s.svc.RevokeAPIKey(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toAPIKey(k))
	return nil
}

func (s *Server) listAuditEvents(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := core.AuditFilter{Page: page, Actor: q.Get("actor"), Action: q.Get("action"), ResourceType: q.Get("resource_type"),
		ResourceID: q.Get("resource_id"), Outcome: q.Get("outcome")}
	if f.Since, err = queryTime(r, "since"); err != nil {
		return err
	}
	if f.Until, err = queryTime(r, "until"); err != nil {
		return err
	}
	items, more, err := s.svc.ListAudit(r.Context(), f)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(e core.AuditEvent) uuid.UUID { return e.ID }, toAuditEvent))
	return nil
}
