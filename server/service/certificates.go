package service

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// CertificateInput is what a client declares for a managed certificate.
type CertificateInput struct {
	Name            string
	CommonName      string
	SANs            []string
	IssuerID        uuid.UUID
	TargetIDs       []uuid.UUID
	KeyType         string
	KeyMode         string
	RenewalPolicyID *uuid.UUID
	Labels          map[string]string
	Profile         string // the CA's certificate profile, "" for the issuer's default
}

// Limits on what one certificate may declare.
const (
	maxSANs    = 100
	maxTargets = 100
)

// DefaultKeyType is the key type of certificates that do not name one.
const DefaultKeyType = "ecdsa-p256"

// validateCertificate checks a declaration and fills in its defaults.
func (s *Service) validateCertificate(ctx context.Context, q *store.Queries, in *CertificateInput) error {
	if err := core.ValidateName("name", in.Name); err != nil {
		return err
	}
	if err := core.ValidateCommonName("common_name", in.CommonName); err != nil {
		return err
	}
	in.CommonName = core.NormalizeSANs([]string{in.CommonName})[0]
	if len(in.SANs) > maxSANs {
		return core.Invalid("sans", "at most %d names", maxSANs)
	}
	for i, san := range in.SANs {
		if err := core.ValidateSAN(fmt.Sprintf("sans[%d]", i), san); err != nil {
			return err
		}
	}
	in.SANs = core.NormalizeSANs(in.SANs)
	if err := validateProfile(in.Profile); err != nil {
		return err
	}
	if in.KeyType == "" {
		in.KeyType = DefaultKeyType
	}
	if err := core.ValidateOneOf("key_type", in.KeyType, core.KeyTypes); err != nil {
		return err
	}
	if err := core.ValidateLabels("labels", in.Labels); err != nil {
		return err
	}
	if in.Labels == nil {
		in.Labels = map[string]string{}
	}
	if in.IssuerID == uuid.Nil {
		return core.Invalid("issuer_id", "is required")
	}
	if _, err := q.GetIssuer(ctx, in.IssuerID); err != nil {
		if errIs(err, core.ENOTFOUND) {
			return core.Invalid("issuer_id", "no issuer with id %s", in.IssuerID)
		}
		return err
	}
	if in.RenewalPolicyID != nil {
		ok, err := q.RenewalPolicyExists(ctx, *in.RenewalPolicyID)
		if err != nil {
			return err
		}
		if !ok {
			return core.Invalid("renewal_policy_id", "no renewal policy with id %s", in.RenewalPolicyID)
		}
	}
	return s.validateCertificateTargets(ctx, q, in)
}

// validateCertificateTargets checks the bound targets and decides the key
// mode: a key generated on an agent can serve only that agent's targets.
func (s *Service) validateCertificateTargets(ctx context.Context, q *store.Queries, in *CertificateInput) error {
	if len(in.TargetIDs) > maxTargets {
		return core.Invalid("target_ids", "at most %d targets", maxTargets)
	}
	slices.SortFunc(in.TargetIDs, func(a, b uuid.UUID) int { return slices.Compare(a[:], b[:]) })
	in.TargetIDs = slices.Compact(in.TargetIDs)
	if in.TargetIDs == nil {
		in.TargetIDs = []uuid.UUID{}
	}
	targets, err := q.GetTargets(ctx, in.TargetIDs)
	if err != nil {
		return err
	}
	if len(targets) != len(in.TargetIDs) {
		for _, id := range in.TargetIDs {
			if !slices.ContainsFunc(targets, func(t core.Target) bool { return t.ID == id }) {
				return core.Invalid("target_ids", "no target with id %s", id)
			}
		}
	}
	var agents []uuid.UUID
	var onAgent []string // names of the targets bound to an agent
	unbound := 0
	for _, t := range targets {
		if t.AgentID == nil {
			unbound++
			continue
		}
		onAgent = append(onAgent, t.Name)
		if !slices.Contains(agents, *t.AgentID) {
			agents = append(agents, *t.AgentID)
		}
	}
	if in.KeyMode == "" {
		in.KeyMode = core.KeyModeServer
		if len(agents) > 0 {
			in.KeyMode = core.KeyModeAgent
		}
	}
	if err := core.ValidateOneOf("key_mode", in.KeyMode, core.KeyModes); err != nil {
		return err
	}
	switch in.KeyMode {
	case core.KeyModeServer:
		// A server-held key never goes to an agent, and only agents deploy:
		// such a certificate could never reach these targets.
		if len(onAgent) > 0 {
			slices.Sort(onAgent)
			return core.Invalid("key_mode", `"server" keeps the private key on the server and keys never go to agents, `+
				`so targets bound to an agent (%s) could never get it; use key_mode "agent" (chosen when key_mode is left out), `+
				`with every target bound to one and the same agent`, strings.Join(onAgent, ", "))
		}
	case core.KeyModeAgent:
		if len(agents) != 1 || unbound > 0 {
			return core.Invalid("key_mode", `"agent" needs every target bound to one and the same agent (the key never leaves it); `+
				`bind them to one agent, or declare one certificate per agent`)
		}
	}
	return nil
}

// CreateCertificate declares a managed certificate and starts its first
// issuance: status "issuing" until the version exists.
func (s *Service) CreateCertificate(ctx context.Context, in CertificateInput) (core.Certificate, error) {
	var out, created core.Certificate
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "certificate.create", resourceType: "certificate"},
		func(q *store.Queries) (string, map[string]any, error) {
			if err := s.validateCertificate(ctx, q, &in); err != nil {
				return "", nil, err
			}
			now := s.clock()
			out = core.Certificate{
				ID: newID(), Name: in.Name, CommonName: in.CommonName, SANs: in.SANs, IssuerID: in.IssuerID,
				TargetIDs: in.TargetIDs, KeyType: in.KeyType, KeyMode: in.KeyMode, RenewalPolicyID: in.RenewalPolicyID,
				// Issuing from the start: its issuance job is created below
				// in this transaction (a status written once, not twice).
				Status: core.CertIssuing, Labels: in.Labels, SpecRevision: 1, CreatedAt: now, UpdatedAt: now,
				Profile: in.Profile,
			}
			if err := q.CreateCertificate(ctx, out); err != nil {
				return "", nil, err
			}
			a, _ := core.ActorFrom(ctx)
			if _, err := s.enqueueIssuance(ctx, q, a, out, core.JobIssue, "created"); err != nil {
				return "", nil, err
			}
			if out, err := q.GetCertificate(ctx, out.ID); err == nil {
				created = out
			}
			return out.ID.String(), map[string]any{"name": out.Name, "common_name": out.CommonName}, nil
		})
	if err == nil && created.ID != uuid.Nil {
		out = created
	}
	return out, err
}

// GetCertificate returns a managed certificate.
func (s *Service) GetCertificate(ctx context.Context, id uuid.UUID) (core.Certificate, error) {
	if err := s.read(ctx); err != nil {
		return core.Certificate{}, err
	}
	return s.store.Q().GetCertificate(ctx, id)
}

// ListCertificates returns a page of managed certificates.
func (s *Service) ListCertificates(ctx context.Context, f core.CertificateFilter) ([]core.Certificate, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	if f.Status != "" {
		if err := core.ValidateOneOf("status", f.Status, core.CertificateStatuses); err != nil {
			return nil, false, err
		}
	}
	if f.DeploymentHealth != "" {
		if err := core.ValidateOneOf("deployment_health", f.DeploymentHealth, core.DeploymentHealthFilters); err != nil {
			return nil, false, err
		}
	}
	return s.store.Q().ListCertificates(ctx, f)
}

// UpdateCertificate replaces a certificate's declaration. A change of
// subject, SANs, key type or key mode raises its spec revision and starts
// an issuance: the current version no longer matches what is declared.
func (s *Service) UpdateCertificate(ctx context.Context, id uuid.UUID, in CertificateInput) (core.Certificate, error) {
	var out core.Certificate
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "certificate.update", resourceType: "certificate", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			cur, err := q.GetCertificateForUpdate(ctx, id)
			if err != nil {
				return "", nil, err
			}
			if err := s.validateCertificate(ctx, q, &in); err != nil {
				return "", nil, err
			}
			respec := in.CommonName != cur.CommonName || !slices.Equal(in.SANs, cur.SANs) || in.KeyType != cur.KeyType ||
				in.KeyMode != cur.KeyMode
			out = cur
			out.Name, out.CommonName, out.SANs, out.IssuerID = in.Name, in.CommonName, in.SANs, in.IssuerID
			out.TargetIDs, out.KeyType, out.KeyMode = in.TargetIDs, in.KeyType, in.KeyMode
			out.RenewalPolicyID, out.Labels, out.UpdatedAt = in.RenewalPolicyID, in.Labels, s.clock()
			out.Profile = in.Profile // from the next issuance on: a new profile alone issues nothing now
			if respec {
				out.SpecRevision++
			}
			if err := q.UpdateCertificate(ctx, out); err != nil {
				return "", nil, err
			}
			if respec {
				a, _ := core.ActorFrom(ctx)
				if _, err := s.enqueueIssuance(ctx, q, a, out, core.JobIssue, "updated"); err != nil {
					return "", nil, err
				}
				if out, err = q.GetCertificate(ctx, id); err != nil {
					return "", nil, err
				}
			}
			return "", map[string]any{"name": out.Name, "spec_revision": out.SpecRevision, "respec": respec}, nil
		})
	return out, err
}

// DeleteCertificate deletes a managed certificate with its versions and
// deployments. Deployed files stay where they are.
func (s *Service) DeleteCertificate(ctx context.Context, id uuid.UUID) error {
	return s.mutate(ctx, change{role: core.RoleOperator, action: "certificate.delete", resourceType: "certificate", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			return "", nil, q.DeleteCertificate(ctx, id)
		})
}

// ListVersions returns a page of a certificate's versions, newest first.
func (s *Service) ListVersions(ctx context.Context, certificateID uuid.UUID, p core.Page) ([]core.CertificateVersion, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	if err := s.certificateMustExist(ctx, certificateID); err != nil {
		return nil, false, err
	}
	return s.store.Q().ListVersions(ctx, certificateID, p)
}

// GetVersion returns one version of a certificate.
func (s *Service) GetVersion(ctx context.Context, certificateID, id uuid.UUID) (core.CertificateVersion, error) {
	if err := s.read(ctx); err != nil {
		return core.CertificateVersion{}, err
	}
	return s.store.Q().GetVersion(ctx, certificateID, id)
}

// ListDeployments returns a page of a certificate's deployments, newest first.
func (s *Service) ListDeployments(ctx context.Context, certificateID uuid.UUID, p core.Page) ([]core.Deployment, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	if err := s.certificateMustExist(ctx, certificateID); err != nil {
		return nil, false, err
	}
	return s.store.Q().ListDeployments(ctx, certificateID, p)
}

func (s *Service) certificateMustExist(ctx context.Context, id uuid.UUID) error {
	ok, err := s.store.Q().CertificateExists(ctx, id)
	if err != nil {
		return err
	}
	if !ok {
		return core.Errorf(core.ENOTFOUND, "certificate not found")
	}
	return nil
}

// maxProfile bounds a certificate's profile name.
const maxProfile = 64

// validateProfile checks a profile name: ACME profile names are short
// tokens (RFC draft-ietf-acme-profiles), and the issuer checks that its CA
// offers it.
func validateProfile(p string) error {
	if len(p) > maxProfile {
		return core.Invalid("profile", "is longer than %d characters", maxProfile)
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return core.Invalid("profile", "%q holds %q: use letters, digits, '-', '_' and '.'", p, r)
		}
	}
	return nil
}
