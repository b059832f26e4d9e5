package httpapi

import (
	"net/http"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

func policyInput(req api.RenewalPolicyRequest) service.RenewalPolicyInput {
	return service.RenewalPolicyInput{Name: req.Name, Mode: req.Mode, RenewFraction: req.RenewFraction,
		DaysBeforeExpiry: req.DaysBeforeExpiry, JitterFraction: req.JitterFraction, ReuseKey: req.ReuseKey,
		UseIssuerWindow: req.UseIssuerWindow, IsDefault: req.IsDefault}
}

func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, more, err := s.svc.ListPolicies(r.Context(), page)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(p core.RenewalPolicy) uuid.UUID { return p.ID }, toPolicy))
	return nil
}

func (s *Server) createPolicy(w http.ResponseWriter, r *http.Request) error {
	var req api.RenewalPolicyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := s.svc.CreatePolicy(r.Context(), policyInput(req))
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/renewal-policies/"+p.ID.String())
	encode(w, http.StatusCreated, toPolicy(p))
	return nil
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := s.svc.GetPolicy(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toPolicy(p))
	return nil
}

func (s *Server) updatePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.RenewalPolicyRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	p, err := s.svc.UpdatePolicy(r.Context(), id, policyInput(req))
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toPolicy(p))
	return nil
}

func (s *Server) deletePolicy(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeletePolicy(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func ruleInput(req api.NotificationRuleRequest) (service.NotificationRuleInput, error) {
	in := service.NotificationRuleInput{Name: req.Name, Events: req.Events, ExpiryDays: req.ExpiryDays,
		CertificateLabels: req.CertificateLabels, Enabled: req.Enabled}
	if req.NotifierID == "" {
		return in, core.Invalid("notifier_id", "is required")
	}
	var err error
	in.NotifierID, err = parseID("notifier_id", req.NotifierID)
	return in, err
}

func (s *Server) listRules(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, more, err := s.svc.ListRules(r.Context(), page)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(n core.NotificationRule) uuid.UUID { return n.ID }, toRule))
	return nil
}

func (s *Server) createRule(w http.ResponseWriter, r *http.Request) error {
	var req api.NotificationRuleRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := ruleInput(req)
	if err != nil {
		return err
	}
	n, err := s.svc.CreateRule(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/notification-rules/"+n.ID.String())
	encode(w, http.StatusCreated, toRule(n))
	return nil
}

func (s *Server) getRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	n, err := s.svc.GetRule(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toRule(n))
	return nil
}

func (s *Server) updateRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.NotificationRuleRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := ruleInput(req)
	if err != nil {
		return err
	}
	n, err := s.svc.UpdateRule(r.Context(), id, in)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toRule(n))
	return nil
}

func (s *Server) deleteRule(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteRule(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listNotifications(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := core.NotificationFilter{Page: page, Status: q.Get("status"), Event: q.Get("event")}
	if f.CertificateID, err = queryID(r, "certificate_id"); err != nil {
		return err
	}
	items, more, err := s.svc.ListNotifications(r.Context(), f)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(n core.Notification) uuid.UUID { return n.ID }, toNotification))
	return nil
}
