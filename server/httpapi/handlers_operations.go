package httpapi

import (
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// bulkReissue starts a durable re-issue operation over every certificate
// the filter selects; the answer is the operation, which runs on.
func (s *Server) bulkReissue(w http.ResponseWriter, r *http.Request) error {
	var req api.ReissueRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	f, err := bulkFilter(req.Status, req.IssuerID, req.TargetID, req.ExpiringBefore, req.NamePrefix)
	if err != nil {
		return err
	}
	in := service.ReissueInput{Reason: req.Reason, MaxPerSecond: req.MaxPerSecond, Filter: core.OperationFilter{
		Status: f.Status, IssuerID: f.IssuerID, TargetID: f.TargetID, ExpiringBefore: f.ExpiringBefore, NamePrefix: f.NamePrefix}}
	if in.ToIssuerID, err = optionalID("to_issuer_id", req.ToIssuerID); err != nil {
		return err
	}
	o, err := s.svc.ReissueCertificates(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/operations/"+o.ID.String())
	encode(w, http.StatusAccepted, toOperation(o, time.Now()))
	return nil
}

func (s *Server) listOperations(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, more, err := s.svc.ListOperations(r.Context(), r.URL.Query().Get("status"), page)
	if err != nil {
		return err
	}
	now := time.Now()
	encode(w, http.StatusOK, list(items, more, func(o core.Operation) uuid.UUID { return o.ID },
		func(o core.Operation) api.Operation { return toOperation(o, now) }))
	return nil
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.svc.GetOperation(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toOperation(o, time.Now()))
	return nil
}

func (s *Server) cancelOperation(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	o, err := s.svc.CancelOperation(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toOperation(o, time.Now()))
	return nil
}

func toOperation(o core.Operation, now time.Time) api.Operation {
	p := o.Progress
	out := api.Operation{
		ID: o.ID.String(), Kind: o.Kind, Status: o.Status, ToIssuerID: idPtr(o.ToIssuerID), Reason: o.Reason,
		MaxPerSecond: o.MaxPerSecond, CreatedBy: o.CreatedByName, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt,
		FinishedAt: o.FinishedAt, LastError: o.LastError, EstimatedTotal: o.EstimatedTotal, Matched: o.Matched,
		Started: o.Started, Adopted: o.Adopted, Skipped: o.Skipped, Deferred: o.Deferred, WalkDone: o.WalkEndedAt != nil,
		Outstanding: p.Outstanding, Issued: p.Issued, Failed: p.Failed, Cancelled: p.Cancelled,
		DeploymentsDone: p.DeploymentsDone, DeploymentsFailed: p.DeploymentsFailed, DeploymentsActive: p.DeploymentsActive,
		LeaseOwner: o.LeaseOwner,
		Filter: api.OperationFilter{Status: o.Filter.Status, IssuerID: idPtr(o.Filter.IssuerID), TargetID: idPtr(o.Filter.TargetID),
			ExpiringBefore: o.Filter.ExpiringBefore, NamePrefix: o.Filter.NamePrefix},
	}
	// What has no outcome yet: the walk may still meet more certificates
	// than it matched so far, so the estimate starts from the larger.
	total := max(o.EstimatedTotal, o.Matched)
	out.Remaining = max(total-o.Skipped-p.Issued-p.Failed-p.Cancelled, 0)
	if o.Status != core.OperationRunning {
		out.Remaining = 0
	}
	end := now
	if o.FinishedAt != nil {
		end = *o.FinishedAt
	}
	if secs := end.Sub(o.CreatedAt).Seconds(); secs > 0 && p.Issued > 0 {
		out.Rate = float64(p.Issued) / secs
		if o.Status == core.OperationRunning {
			eta := float64(out.Remaining) / out.Rate
			out.ETASeconds = &eta
		}
	}
	return out
}
