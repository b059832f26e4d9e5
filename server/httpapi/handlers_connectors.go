package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

func (s *Server) listIssuers(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, more, err := s.svc.ListIssuers(r.Context(), core.IssuerFilter{Page: page, Type: r.URL.Query().Get("type")})
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(i core.Issuer) uuid.UUID { return i.ID }, toIssuer))
	return nil
}

func (s *Server) createIssuer(w http.ResponseWriter, r *http.Request) error {
	var req api.IssuerRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	iss, err := s.svc.CreateIssuer(r.Context(), service.IssuerInput{Name: req.Name, Type: req.Type, Config: req.Config})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/issuers/"+iss.ID.String())
	encode(w, http.StatusCreated, toIssuer(iss))
	return nil
}

func (s *Server) getIssuer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	iss, err := s.svc.GetIssuer(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toIssuer(iss))
	return nil
}

func (s *Server) updateIssuer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.IssuerRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	iss, err := s.svc.UpdateIssuer(r.Context(), id, service.IssuerInput{Name: req.Name, Type: req.Type, Config: req.Config})
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toIssuer(iss))
	return nil
}

func (s *Server) deleteIssuer(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteIssuer(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listTargets(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	agentID, err := queryID(r, "agent_id")
	if err != nil {
		return err
	}
	f := core.TargetFilter{Page: page, Type: r.URL.Query().Get("type"), AgentID: agentID}
	items, more, err := s.svc.ListTargets(r.Context(), f)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(t core.Target) uuid.UUID { return t.ID }, toTarget))
	return nil
}

func targetInput(req api.TargetRequest) (service.TargetInput, error) {
	agentID, err := optionalID("agent_id", req.AgentID)
	return service.TargetInput{Name: req.Name, Type: req.Type, AgentID: agentID, Config: req.Config}, err
}

func (s *Server) createTarget(w http.ResponseWriter, r *http.Request) error {
	var req api.TargetRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := targetInput(req)
	if err != nil {
		return err
	}
	t, err := s.svc.CreateTarget(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/targets/"+t.ID.String())
	encode(w, http.StatusCreated, toTarget(t))
	return nil
}

func (s *Server) getTarget(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	t, err := s.svc.GetTarget(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toTarget(t))
	return nil
}

func (s *Server) updateTarget(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.TargetRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := targetInput(req)
	if err != nil {
		return err
	}
	t, err := s.svc.UpdateTarget(r.Context(), id, in)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toTarget(t))
	return nil
}

func (s *Server) deleteTarget(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteTarget(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
