package httpapi

import (
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
)

func (s *Server) listJobs(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := core.JobFilter{Page: page, Kind: q.Get("kind"), State: q.Get("state")}
	if f.CertificateID, err = queryID(r, "certificate_id"); err != nil {
		return err
	}
	items, more, err := s.svc.ListJobs(r.Context(), f)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(j core.Job) uuid.UUID { return j.ID }, toJob))
	return nil
}

func (s *Server) getJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := queryWait(r)
	if err != nil {
		return err
	}
	wait, changed, stop := s.prepareWait(w, id, d)
	defer stop()
	j, err := s.svc.WaitJob(r.Context(), id, wait, changed)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toJob(j))
	return nil
}

func (s *Server) cancelJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.svc.CancelJob(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toJob(j))
	return nil
}

func (s *Server) retryJob(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.svc.RetryJob(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toJob(j))
	return nil
}

func (s *Server) submitCSR(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.CSRRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.CSRPEM == "" {
		return core.Invalid("csr_pem", "is required: a PEM certificate request")
	}
	j, err := s.svc.SubmitCSR(r.Context(), id, req.CSRPEM)
	if err != nil {
		return renameField(err, "csr", "csr_pem")
	}
	encode(w, http.StatusOK, toJob(j))
	return nil
}

// renameField gives an invalid-input error from the service the name the
// field has in the request body.
func renameField(err error, from, to string) error {
	var e *core.Error
	if errors.As(err, &e) && e.Field == from {
		renamed := *e
		renamed.Field = to
		return &renamed
	}
	return err
}
