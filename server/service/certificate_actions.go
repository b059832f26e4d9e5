package service

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"time"

	"github.com/google/uuid"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/certctl/certctl/sdk/keys"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// RenewCertificate starts a renewal of a certificate now, whatever its
// schedule (or its first issuance, if it has none). It returns the job.
func (s *Service) RenewCertificate(ctx context.Context, id uuid.UUID) (core.Job, error) {
	var out core.Job
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "certificate.renew", resourceType: "certificate", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			c, err := q.GetCertificateForUpdate(ctx, id)
			if err != nil {
				return "", nil, err
			}
			j, err := s.manualIssuance(ctx, q, c)
			out = j
			return "", map[string]any{"job_id": j.ID.String()}, err
		})
	return out, err
}

func (s *Service) manualIssuance(ctx context.Context, q *store.Queries, c core.Certificate) (core.Job, error) {
	if c.Status == core.CertRevoked {
		return core.Job{}, core.Errorf(core.ECONFLICT, "certificate %q is revoked; change its names, key type or key mode to issue a new one", c.Name)
	}
	kind := core.JobRenew
	if c.CurrentVersionID == nil {
		kind = core.JobIssue
	}
	a, _ := core.ActorFrom(ctx)
	ok, err := s.enqueueIssuance(ctx, q, a, c, kind, "manual")
	if err != nil {
		return core.Job{}, err
	}
	live, _, err := q.LiveIssuanceJob(ctx, c.ID)
	if err != nil {
		return core.Job{}, err
	}
	if !ok {
		return live, core.Errorf(core.ECONFLICT, "an issuance of certificate %q is already under way (job %s)", c.Name, live.ID)
	}
	return live, nil
}

// BulkResult counts what a bulk action did.
type BulkResult struct {
	Matched int
	Started int
	Skipped int // already under way, not applicable
	JobIDs  []uuid.UUID
}

// maxBulk bounds one bulk action.
const maxBulk = 10000

// RenewCertificates starts renewals of every certificate the filter
// selects (at most 10,000), skipping those already being issued.
func (s *Service) RenewCertificates(ctx context.Context, f core.CertificateFilter) (BulkResult, error) {
	return s.bulk(ctx, "certificate.bulk_renew", f, func(q *store.Queries, c core.Certificate) (core.Job, error) {
		return s.manualIssuance(ctx, q, c)
	})
}

// RevokeCertificates revokes the current version of every certificate the
// filter selects (at most 10,000).
func (s *Service) RevokeCertificates(ctx context.Context, f core.CertificateFilter, reason int) (BulkResult, error) {
	return s.bulk(ctx, "certificate.bulk_revoke", f, func(q *store.Queries, c core.Certificate) (core.Job, error) {
		a, _ := core.ActorFrom(ctx)
		return s.enqueueRevoke(ctx, q, a, c.ID, RevokeInput{Reason: reason})
	})
}

func (s *Service) bulk(ctx context.Context, action string, f core.CertificateFilter,
	one func(q *store.Queries, c core.Certificate) (core.Job, error)) (BulkResult, error) {
	var res BulkResult
	if f.Status == "" && f.IssuerID == nil && f.TargetID == nil && f.ExpiringBefore == nil && f.NamePrefix == "" {
		return res, core.Invalid("filter", "a bulk action needs at least one filter (status, issuer_id, target_id, expiring_before, name_prefix)")
	}
	err := s.mutate(ctx, change{role: core.RoleOperator, action: action, resourceType: "certificate"},
		func(q *store.Queries) (string, map[string]any, error) {
			f.Page = core.Page{Limit: core.MaxPageLimit}
			for res.Matched < maxBulk {
				certs, more, err := q.ListCertificates(ctx, f)
				if err != nil {
					return "", nil, err
				}
				for _, c := range certs {
					res.Matched++
					j, err := one(q, c)
					switch {
					case err == nil:
						res.Started++
						res.JobIDs = append(res.JobIDs, j.ID)
					case errIs(err, core.ECONFLICT):
						res.Skipped++
					default:
						return "", nil, err
					}
				}
				if !more || len(certs) == 0 {
					break
				}
				last := certs[len(certs)-1].ID
				f.Page.After = &last
			}
			return "", map[string]any{"matched": res.Matched, "started": res.Started, "skipped": res.Skipped}, nil
		})
	return res, err
}

// RenewalExplanation says when and why a certificate will renew next.
type RenewalExplanation struct {
	CertificateID uuid.UUID
	Status        string
	Policy        core.RenewalPolicy
	NotBefore     *time.Time
	NotAfter      *time.Time
	NextRenewalAt *time.Time
	Due           bool
	Reason        string
	JobID         *uuid.UUID // the live issuance, if one runs
	LastError     string
}

// ExplainRenewal says when and why a certificate renews next.
func (s *Service) ExplainRenewal(ctx context.Context, id uuid.UUID) (RenewalExplanation, error) {
	if err := s.read(ctx); err != nil {
		return RenewalExplanation{}, err
	}
	q := s.store.Q()
	c, err := q.GetCertificate(ctx, id)
	if err != nil {
		return RenewalExplanation{}, err
	}
	var p core.RenewalPolicy
	if c.RenewalPolicyID != nil {
		p, err = q.GetPolicy(ctx, *c.RenewalPolicyID)
	} else {
		p, err = q.GetDefaultPolicy(ctx)
	}
	if err != nil {
		return RenewalExplanation{}, err
	}
	out := RenewalExplanation{CertificateID: c.ID, Status: c.Status, Policy: p, NotAfter: c.NotAfter,
		NextRenewalAt: c.NextRenewalAt, LastError: c.LastError}
	now := s.clock()
	if j, ok, err := q.LiveIssuanceJob(ctx, c.ID); err != nil {
		return out, err
	} else if ok {
		out.JobID = &j.ID
		out.Reason = fmt.Sprintf("an issuance is under way now (job %s, %s, attempt %d)", j.ID, j.State, j.Attempt)
		if j.State == core.JobWaiting {
			out.Reason = fmt.Sprintf("waiting for the agent's CSR (job %s)", j.ID)
		}
		return out, nil
	}
	var v *core.CertificateVersion
	if c.CurrentVersionID != nil {
		cv, err := q.GetVersion(ctx, c.ID, *c.CurrentVersionID)
		if err != nil {
			return out, err
		}
		v = &cv
		out.NotBefore = &cv.NotBefore
	}
	switch {
	case c.Status == core.CertRevoked:
		out.Reason = "revoked: certctl does not renew a revoked certificate; change its names, key type or key mode to issue a new one"
	case v == nil:
		out.Reason = "not issued yet"
		if c.LastError != "" {
			out.Reason += "; the last attempt failed: " + c.LastError
		}
	case c.Status == core.CertFailed && c.NextRenewalAt != nil:
		out.Reason = fmt.Sprintf("the last renewal failed (%s); it is tried again at %s", c.LastError,
			c.NextRenewalAt.UTC().Format(time.RFC3339))
	default:
		var window *Window
		if v.RenewalWindowStart != nil {
			window = &Window{Start: *v.RenewalWindowStart, End: *v.RenewalWindowEnd}
		}
		plan := PlanRenewal(p, c.ID, v.NotBefore, v.NotAfter, window)
		out.Reason = "renews " + plan.Reason
		if c.NextRenewalAt != nil && !c.NextRenewalAt.Equal(plan.At) {
			out.Reason += fmt.Sprintf("; scheduled for %s", c.NextRenewalAt.UTC().Format(time.RFC3339))
		}
	}
	out.Due = c.NextRenewalAt != nil && !now.Before(*c.NextRenewalAt)
	return out, nil
}

// KeyExport is a server-held private key, exported.
type KeyExport struct {
	Format      string // "pem" or "pkcs12"
	Data        []byte
	Password    string // pkcs12: the generated password protecting Data
	ContentType string
}

// ExportPrivateKey gives an admin the private key of a version whose key
// the server holds (server key mode): PEM (key, then certificate and
// chain), or PKCS#12 protected by a generated password. It is audited.
func (s *Service) ExportPrivateKey(ctx context.Context, certID, versionID uuid.UUID, format string) (KeyExport, error) {
	var out KeyExport
	err := s.mutate(ctx, change{role: core.RoleAdmin, action: "certificate.export_key", resourceType: "certificate", resourceID: certID.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			if format == "" {
				format = "pem"
			}
			if format != "pem" && format != "pkcs12" {
				return "", nil, core.Invalid("format", "must be pem or pkcs12")
			}
			v, err := q.GetVersion(ctx, certID, versionID)
			if err != nil {
				return "", nil, err
			}
			sealed, err := q.VersionPrivateKey(ctx, v.ID)
			if err != nil {
				return "", nil, err
			}
			if len(sealed) == 0 {
				return "", nil, core.Errorf(core.ENOTFOUND, "the server does not hold this version's key (agent key mode keeps it on the agent)")
			}
			keyPEM, err := s.box.Open(sealed, "version:"+v.ID.String())
			if err != nil {
				return "", nil, err
			}
			if format == "pem" {
				out = KeyExport{Format: "pem", ContentType: "application/x-pem-file",
					Data: append(append(keyPEM, v.CertificatePEM...), v.ChainPEM...)}
			} else if out, err = pkcs12Export(keyPEM, v); err != nil {
				return "", nil, err
			}
			return "", map[string]any{"version_id": v.ID.String(), "format": format}, nil
		})
	return out, err
}

func pkcs12Export(keyPEM []byte, v core.CertificateVersion) (KeyExport, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return KeyExport{}, fmt.Errorf("stored key is not PEM")
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return KeyExport{}, fmt.Errorf("parse stored key: %w", err)
	}
	certs, err := keys.ParseCertificates(v.CertificatePEM + v.ChainPEM)
	if err != nil {
		return KeyExport{}, fmt.Errorf("parse stored certificate: %v", err)
	}
	pw := make([]byte, 18)
	_, _ = rand.Read(pw)
	password := base64.RawURLEncoding.EncodeToString(pw)
	data, err := pkcs12.Modern.Encode(key.(crypto.PrivateKey), certs[0], certs[1:], password)
	if err != nil {
		return KeyExport{}, fmt.Errorf("encode PKCS#12: %w", err)
	}
	return KeyExport{Format: "pkcs12", Data: data, Password: password, ContentType: "application/x-pkcs12"}, nil
}
