package service

import (
	"context"

	"github.com/certctl/certctl/server/core"
)

var auditOutcomes = []string{core.OutcomeSuccess, core.OutcomeFailure, core.OutcomeDenied}

// ListAudit returns a page of audit events, newest first.
func (s *Service) ListAudit(ctx context.Context, f core.AuditFilter) ([]core.AuditEvent, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	if f.Outcome != "" {
		if err := core.ValidateOneOf("outcome", f.Outcome, auditOutcomes); err != nil {
			return nil, false, err
		}
	}
	return s.store.Q().ListAudit(ctx, f)
}
