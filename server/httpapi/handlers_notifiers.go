package httpapi

import (
	"net/http"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

func (s *Server) listNotifiers(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, more, err := s.svc.ListNotifiers(r.Context(), core.NotifierFilter{Page: page, Type: r.URL.Query().Get("type")})
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(n core.Notifier) uuid.UUID { return n.ID }, toNotifier))
	return nil
}

func (s *Server) createNotifier(w http.ResponseWriter, r *http.Request) error {
	var req api.NotifierRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	n, err := s.svc.CreateNotifier(r.Context(), service.NotifierInput{Name: req.Name, Type: req.Type, Config: req.Config, Enabled: req.Enabled})
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/notifiers/"+n.ID.String())
	encode(w, http.StatusCreated, toNotifier(n))
	return nil
}

func (s *Server) getNotifier(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	n, err := s.svc.GetNotifier(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toNotifier(n))
	return nil
}

func (s *Server) updateNotifier(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.NotifierRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	n, err := s.svc.UpdateNotifier(r.Context(), id, service.NotifierInput{Name: req.Name, Type: req.Type, Config: req.Config, Enabled: req.Enabled})
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toNotifier(n))
	return nil
}

func (s *Server) deleteNotifier(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteNotifier(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) testNotifier(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	res, err := s.svc.TestNotifier(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, api.NotifierTestResult{Delivered: true, MessageID: res.MessageID})
	return nil
}

func (s *Server) listPlugins(w http.ResponseWriter, r *http.Request) error {
	items, err := s.svc.ListPlugins(r.Context())
	if err != nil {
		return err
	}
	out := api.List[api.Plugin]{Items: make([]api.Plugin, len(items))}
	for i, p := range items {
		if out.Items[i], err = toPlugin(p); err != nil {
			return err
		}
	}
	encode(w, http.StatusOK, out)
	return nil
}

func (s *Server) registerPlugin(w http.ResponseWriter, r *http.Request) error {
	vars := mux.Vars(r)
	st, err := s.svc.RegisterPlugin(r.Context(), plugin.Kind(vars["kind"]), vars["name"])
	if err != nil {
		return err
	}
	out, err := toPlugin(st)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, out)
	return nil
}
