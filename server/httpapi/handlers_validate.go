package httpapi

// handlers_validate.go: POST /api/v1/{issuers,targets,notifiers}/validate
// check a connector declaration the way its create (or, with ?id=, its
// update) would, and store nothing.

import (
	"net/http"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/service"
)

func (s *Server) validateIssuer(w http.ResponseWriter, r *http.Request) error {
	var req api.IssuerRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	return s.validateConnector(w, r, service.ConnectorDraft{Kind: plugin.KindIssuer, Name: req.Name, Type: req.Type, Config: req.Config})
}

func (s *Server) validateTarget(w http.ResponseWriter, r *http.Request) error {
	var req api.TargetRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := targetInput(req)
	if err != nil {
		return err
	}
	return s.validateConnector(w, r, service.ConnectorDraft{Kind: plugin.KindTarget, Name: in.Name, Type: in.Type,
		AgentID: in.AgentID, Config: in.Config})
}

func (s *Server) validateNotifier(w http.ResponseWriter, r *http.Request) error {
	var req api.NotifierRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	return s.validateConnector(w, r, service.ConnectorDraft{Kind: plugin.KindNotifier, Name: req.Name, Type: req.Type, Config: req.Config})
}

// validateConnector runs the check of d, as an update of the connector
// named by the query's id when there is one.
func (s *Server) validateConnector(w http.ResponseWriter, r *http.Request, d service.ConnectorDraft) error {
	id, err := queryID(r, "id")
	if err != nil {
		return err
	}
	d.ID = id
	res, err := s.svc.ValidateConnector(r.Context(), d)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, api.ConnectorValidation{Kind: string(res.Kind), Type: res.Type, Config: res.Config,
		SecretFields: emptyIfNil(res.SecretFields)})
	return nil
}
