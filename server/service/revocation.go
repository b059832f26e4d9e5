package service

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// RevokeInput says what to revoke and why.
type RevokeInput struct {
	VersionID *uuid.UUID // nil means the current version
	Reason    int        // RFC 5280 CRLReason code
}

// RevokeCertificate revokes a version of a certificate (its current one by
// default) through its issuer: a revoke job does the work and marks the
// version revoked. It returns the job.
func (s *Service) RevokeCertificate(ctx context.Context, certID uuid.UUID, in RevokeInput) (core.Job, error) {
	var out core.Job
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "certificate.revoke", resourceType: "certificate", resourceID: certID.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			a, _ := core.ActorFrom(ctx)
			j, err := s.enqueueRevoke(ctx, q, a, certID, in)
			out = j
			return "", map[string]any{"reason": in.Reason, "job_id": j.ID.String()}, err
		})
	return out, err
}

func (s *Service) enqueueRevoke(ctx context.Context, q *store.Queries, a core.Actor, certID uuid.UUID, in RevokeInput) (core.Job, error) {
	if !plugin.ValidReason(in.Reason) {
		return core.Job{}, core.Invalid("reason", "must be an RFC 5280 reason code: 0-6 or 8-10")
	}
	c, err := q.GetCertificate(ctx, certID)
	if err != nil {
		return core.Job{}, err
	}
	vid := in.VersionID
	if vid == nil {
		if c.CurrentVersionID == nil {
			return core.Job{}, core.Errorf(core.ECONFLICT, "certificate %q has no issued version to revoke", c.Name)
		}
		vid = c.CurrentVersionID
	}
	v, err := q.GetVersion(ctx, certID, *vid)
	if err != nil {
		return core.Job{}, err
	}
	if v.Status == core.VersionRevoked {
		return core.Job{}, core.Errorf(core.ECONFLICT, "version %s is already revoked", v.ID)
	}
	j := s.newJob(core.JobRevoke, &certID, core.JobPayload{VersionID: &v.ID, Reason: in.Reason, Trigger: "manual"})
	ok, err := s.insertJob(ctx, q, a, j)
	if err != nil {
		return core.Job{}, err
	}
	if !ok {
		return core.Job{}, core.Errorf(core.ECONFLICT, "a revocation of this version is already under way")
	}
	return j, nil
}

// runRevoke asks the issuer to revoke, then records it: version revoked,
// certificate revoked when it was the current version, the issuer's CRL
// marked for re-signing.
func (s *Service) runRevoke(ctx context.Context, owner string, j core.Job) error {
	q := s.store.Q()
	v, err := q.GetVersion(ctx, *j.CertificateID, *j.Payload.VersionID)
	if err != nil {
		return err
	}
	if v.IssuerID == nil {
		return failf(FailNotFound, "the version's issuer was deleted")
	}
	iss, err := q.GetIssuer(ctx, *v.IssuerID)
	if err != nil {
		return err
	}
	cfg, err := s.IssuerConfig(iss)
	if err != nil {
		return err
	}
	p, err := s.issuer(iss.Type)
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, issueTimeout)
	defer cancel()
	note := ""
	if err := p.RevokeCertificate(callCtx, plugin.RevokeRequest{Config: cfg, SerialNumber: v.SerialNumber,
		Reason: j.Payload.Reason, CertificatePEM: v.CertificatePEM}); err != nil {
		if err = fromPlugin(err); failureCode(err) != FailUnsupported {
			return err
		}
		// The CA has no revocation: certctl still records it (and stops
		// deploying and renewing the version), and says so.
		note = "the issuer does not support revocation; recorded in certctl only"
	}
	return s.store.InTx(context.WithoutCancel(ctx), func(q *store.Queries) error {
		now := s.clock()
		c, err := q.GetCertificateForUpdate(ctx, *j.CertificateID)
		if err != nil {
			return err
		}
		if err := q.RevokeVersion(ctx, v.ID, reasonName(j.Payload.Reason), now); err != nil {
			return err
		}
		if c.CurrentVersionID != nil && *c.CurrentVersionID == v.ID {
			if err := q.SetCertificateStatus(ctx, c.ID, core.CertRevoked, "", nil, now); err != nil {
				return err
			}
		}
		if err := q.MarkCRLDirty(ctx, iss.ID); err != nil {
			return err
		}
		if err := q.FinishJob(ctx, j.ID, owner, core.JobSucceeded, "", now, now); err != nil {
			return err
		}
		if err := q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, "certificate.revoked", "certificate", c.ID.String(),
			core.OutcomeSuccess, map[string]any{"version_id": v.ID.String(), "serial_number": v.SerialNumber,
				"reason": reasonName(j.Payload.Reason), "job_id": j.ID.String(), "note": note})); err != nil {
			return err
		}
		return s.emit(ctx, q, Event{Name: EventRevoked, Certificate: &c, Version: &v, Key: v.ID.String(),
			Details: map[string]string{"reason": reasonName(j.Payload.Reason)}})
	})
}

var reasonNames = map[int]string{0: "unspecified", 1: "keyCompromise", 2: "cACompromise", 3: "affiliationChanged",
	4: "superseded", 5: "cessationOfOperation", 6: "certificateHold", 8: "removeFromCRL", 9: "privilegeWithdrawn",
	10: "aACompromise"}

func reasonName(code int) string {
	if n, ok := reasonNames[code]; ok {
		return n
	}
	return fmt.Sprint(code)
}

func reasonCode(name string) int {
	for code, n := range reasonNames {
		if n == name {
			return code
		}
	}
	return 0
}

// CRL settings: a CRL is re-signed at most this often after revocations,
// and is valid for crlValidity.
const (
	crlMinInterval = 10 * time.Second
	crlValidity    = 24 * time.Hour
)

// CRL returns the DER-encoded CRL of an issuer whose CA certctl holds,
// named by id or name, and when it stops being current. Revocations only
// mark the CRL dirty; it is re-signed here, from the revoked versions, at
// most once per crlMinInterval however many revocations came in between,
// and again before it expires. No authentication: CRLs are public.
func (s *Service) CRL(ctx context.Context, issuerRef string) ([]byte, time.Time, error) {
	q := s.store.Q()
	var iss core.Issuer
	var err error
	if id, perr := uuid.Parse(issuerRef); perr == nil {
		iss, err = q.GetIssuer(ctx, id)
	} else {
		iss, err = q.GetIssuerByName(ctx, issuerRef)
	}
	if err != nil {
		return nil, time.Time{}, err
	}
	now := s.clock()
	crl, found, err := q.GetCRL(ctx, iss.ID)
	if err != nil {
		return nil, time.Time{}, err
	}
	fresh := found && now.Before(crl.NextUpdate.Add(-crlValidity/2)) && (!crl.Dirty || now.Sub(crl.ThisUpdate) < crlMinInterval)
	if fresh {
		return crl.DER, crl.NextUpdate, nil
	}
	revoked, err := q.RevokedVersions(ctx, iss.ID, now)
	if err != nil {
		return nil, time.Time{}, err
	}
	cfg, err := s.IssuerConfig(iss)
	if err != nil {
		return nil, time.Time{}, err
	}
	p, err := s.issuer(iss.Type)
	if err != nil {
		return nil, time.Time{}, pluginError(err, plugin.KindIssuer, iss.Type)
	}
	req := plugin.CRLRequest{Config: cfg, Number: crl.Number + 1, ThisUpdate: now, NextUpdate: now.Add(crlValidity)}
	for _, r := range revoked {
		req.Revoked = append(req.Revoked, plugin.RevokedCertificate{SerialNumber: r.SerialNumber, RevokedAt: r.RevokedAt,
			Reason: reasonCode(r.Reason)})
	}
	signed, err := p.SignCRL(ctx, req)
	if err != nil {
		if failureCode(fromPlugin(err)) == FailUnsupported {
			return nil, time.Time{}, core.Errorf(core.ENOTFOUND, "issuer %q does not publish a CRL through certctl", iss.Name)
		}
		return nil, time.Time{}, pluginError(err, plugin.KindIssuer, iss.Type)
	}
	next := store.CRL{IssuerID: iss.ID, Number: req.Number, ThisUpdate: now, NextUpdate: req.NextUpdate, DER: signed.DER, Entries: len(revoked)}
	if err := q.SaveCRL(ctx, next, crl.Number, found); err != nil {
		return nil, time.Time{}, err
	}
	return signed.DER, next.NextUpdate, nil
}
