package service

import (
	"bytes"
	"context"
	"crypto"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// IssuerProvider gives the issuer plugin of a type; *host.Host is one.
type IssuerProvider interface {
	Issuer(name string) (plugin.Issuer, error)
}

// issuer returns the plugin of an issuer type. The host's errors (no such
// plugin, one being replaced) come as Failures.
func (s *Service) issuer(typ string) (plugin.Issuer, error) {
	if s.issuers == nil {
		return nil, core.Errorf(core.EUNAVAILABLE, "this server runs no issuer plugins")
	}
	iss, err := s.issuers.Issuer(typ)
	return iss, fromPlugin(err)
}

// errDeclarationChanged: the job's CSR was made for an older declaration.
var errDeclarationChanged = errors.New("the certificate's declaration changed since the CSR was made")

// issueTimeout bounds one call to an issuer plugin.
const issueTimeout = 2 * time.Minute

// enqueueIssuance starts the issuance of a certificate's next version: a
// job that runs at once (server key mode) or waits for the agent's CSR
// (agent key mode). The certificate's status shows it. It reports false
// when an issuance is already live; that one will pick up the latest
// declaration when it completes.
func (s *Service) enqueueIssuance(ctx context.Context, q *store.Queries, a core.Actor, c core.Certificate, kind, trigger string) (bool, error) {
	j := s.newJob(kind, &c.ID, core.JobPayload{SpecRevision: c.SpecRevision, Trigger: trigger})
	if c.KeyMode == core.KeyModeAgent {
		agent, err := q.CertificateAgent(ctx, c.ID)
		if err != nil {
			return false, err
		}
		j.State, j.AgentID = core.JobWaiting, agent
	}
	ok, err := s.insertJob(ctx, q, a, j)
	if err != nil || !ok {
		return ok, err
	}
	status := core.CertRenewing
	if c.CurrentVersionID == nil {
		status = core.CertIssuing
	}
	if c.Status == status && c.LastError == "" && c.NextRenewalAt == nil {
		return true, nil // as the update would leave it: a certificate created issuing
	}
	return true, q.SetCertificateStatus(ctx, c.ID, status, "", nil, s.clock())
}

// SubmitCSR hands a waiting issuance the CSR its agent made. The CSR is
// checked against the declaration before any issuer sees it.
func (s *Service) SubmitCSR(ctx context.Context, jobID uuid.UUID, csrPEM string) (core.Job, error) {
	var out core.Job
	// Agents submit the CSRs of their own jobs; operators may submit any.
	if a, ok := core.ActorFrom(ctx); ok && a.Type != core.ActorAgent {
		if _, err := s.authorize(ctx, core.RoleOperator, "job.submit_csr", "job", jobID.String()); err != nil {
			return core.Job{}, err
		}
	}
	err := s.mutate(ctx, change{action: "job.submit_csr", resourceType: "job", resourceID: jobID.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			j, err := q.GetJobForUpdate(ctx, jobID)
			if err != nil {
				return "", nil, err
			}
			if a, _ := core.ActorFrom(ctx); a.Type == core.ActorAgent && (j.AgentID == nil || j.AgentID.String() != a.ID) {
				return "", nil, core.Errorf(core.ENOTFOUND, "job not found") // another agent's jobs do not exist for this one
			}
			if j.State != core.JobWaiting || (j.Kind != core.JobIssue && j.Kind != core.JobRenew) || j.CertificateID == nil {
				return "", nil, core.Errorf(core.ECONFLICT, "this %s job is %s; it does not wait for a CSR", j.Kind, j.State)
			}
			if len(j.Payload.AwaitingChallenges) > 0 {
				return "", nil, core.Errorf(core.ECONFLICT, "this %s job waits for HTTP-01 challenges, not for a CSR", j.Kind)
			}
			c, err := q.GetCertificate(ctx, *j.CertificateID)
			if err != nil {
				return "", nil, err
			}
			csr, err := parseCSR([]byte(csrPEM))
			if err != nil {
				return "", nil, err
			}
			if err := CheckCSR(c, csr); err != nil {
				return "", nil, err
			}
			p := j.Payload
			p.CSRPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr.Raw}))
			p.SpecRevision = c.SpecRevision
			now := s.clock()
			out, err = q.SetJobState(ctx, jobID, core.JobQueued, &p, now, now, "")
			return "", map[string]any{"certificate_id": c.ID.String()}, err
		})
	return out, err
}

// issuanceInput is what an issuance needs, read before the slow part.
type issuanceInput struct {
	cert      core.Certificate
	targets   []core.Target
	issuer    core.Issuer
	config    plugin.Config
	policy    core.RenewalPolicy
	current   *core.CertificateVersion
	csrDER    []byte
	csrPub    crypto.PublicKey // the CSR's key, to check the CA's answer against without parsing the CSR again
	csrPEM    string
	sealedKey []byte
}

// runIssuance issues (or renews) a certificate: CSR, issuer plugin, and one
// transaction that stores the version, makes it current, schedules its
// renewal, creates its deployments and finishes the job, all only while
// this worker still holds the job.
func (s *Service) runIssuance(ctx context.Context, owner string, j core.Job) error {
	in, err := s.prepareIssuance(ctx, j)
	if errors.Is(err, errDeclarationChanged) {
		return s.store.InTx(context.WithoutCancel(ctx), func(q *store.Queries) error {
			return s.restartIssuance(ctx, q, owner, j, in.cert)
		})
	}
	if err != nil {
		return err
	}
	iss, err := s.issuer(in.issuer.Type)
	if err != nil {
		return err
	}
	callCtx, cancel := context.WithTimeout(ctx, issueTimeout)
	defer cancel()
	req := plugin.IssueRequest{Config: in.config, CSR: in.csrDER, CommonName: in.cert.CommonName, SANs: in.cert.SANs,
		Profile: in.cert.Profile, IdempotencyKey: j.ID.String(), Now: s.clock(), OrderID: j.Payload.OrderID}
	var res plugin.IssueResult
	if req.OrderID != "" {
		// A pending order (perhaps of a server that died): if the CA has
		// issued it meanwhile, that certificate completes the job;
		// otherwise the order is continued, never started again.
		res, err = iss.GetOrderStatus(callCtx, plugin.OrderStatusRequest{Config: in.config, OrderID: req.OrderID})
		if err != nil {
			s.logger.Debug("order status unknown; continuing the order", "job", j.ID, "order", req.OrderID, "err", err)
		}
		if err != nil || res.Status != plugin.StatusIssued {
			if req.PresentedChallenges, err = s.presentedTokens(ctx, j.ID); err != nil {
				return err
			}
			res, err = s.callIssuer(callCtx, iss, j, in, req)
		}
	} else {
		res, err = s.callIssuer(callCtx, iss, j, in, req)
	}
	if err != nil {
		return err
	}
	if res.Status == plugin.StatusPending {
		return s.pendIssuance(ctx, owner, j, in, res)
	}
	v, err := versionFromResult(in, res, j)
	if err != nil {
		return err
	}
	return s.completeIssuance(ctx, owner, j, in, v)
}

// callIssuer asks the issuer for a certificate, or the next of a series.
// The issuer's errors come back as Failures.
func (s *Service) callIssuer(ctx context.Context, iss plugin.Issuer, j core.Job, in issuanceInput, req plugin.IssueRequest) (plugin.IssueResult, error) {
	if j.Kind == core.JobRenew && in.current != nil {
		res, err := iss.RenewCertificate(ctx, plugin.RenewRequest{IssueRequest: req,
			PreviousSerial: in.current.SerialNumber, PreviousCertificatePEM: in.current.CertificatePEM})
		err = fromPlugin(err)
		// A CA without a renewal operation of its own (one that embeds
		// plugin.UnimplementedIssuer) renews by issuing anew.
		if failureCode(err) != FailUnsupported {
			return res, err
		}
	}
	res, err := iss.IssueCertificate(ctx, req)
	return res, fromPlugin(err)
}

func (s *Service) prepareIssuance(ctx context.Context, j core.Job) (issuanceInput, error) {
	var in issuanceInput
	q := s.store.Q()
	c, err := q.GetCertificate(ctx, *j.CertificateID)
	if err != nil {
		return in, err
	}
	in.cert = c
	if in.issuer, in.config, err = s.issuerWithConfig(ctx, c.IssuerID); err != nil {
		return in, err
	}
	if len(c.TargetIDs) > 0 {
		if in.targets, err = q.GetTargets(ctx, c.TargetIDs); err != nil {
			return in, err
		}
	}
	if in.policy, err = s.policyFor(ctx, c.RenewalPolicyID); err != nil {
		return in, err
	}
	if c.CurrentVersionID != nil {
		v, err := q.GetVersion(ctx, c.ID, *c.CurrentVersionID)
		if err != nil {
			return in, err
		}
		in.current = &v
	}
	if c.KeyMode == core.KeyModeAgent {
		if j.Payload.CSRPEM == "" {
			return in, core.Errorf(core.EINVALID, "agent key mode: the job has no CSR from the agent")
		}
		csr, err := parseCSR([]byte(j.Payload.CSRPEM))
		if err != nil {
			return in, err
		}
		// SubmitCSR checked it against this declaration. If the declaration
		// changed since, the agent must make a new CSR.
		if j.Payload.SpecRevision != c.SpecRevision {
			return in, errDeclarationChanged
		}
		in.csrDER, in.csrPub, in.csrPEM = csr.Raw, csr.PublicKey, j.Payload.CSRPEM
		return in, nil
	}
	if s.box == nil {
		return in, core.Errorf(core.EINTERNAL, "no encryption key to seal the private key")
	}
	if j.Payload.SealedKey != nil && j.Payload.ServerCSRPEM != "" {
		// A pending order's key and CSR: the order is finalized with them.
		if j.Payload.SpecRevision != c.SpecRevision {
			return in, errDeclarationChanged
		}
		keyPEM, err := s.box.Open(j.Payload.SealedKey, jobKeyContext(j.ID))
		if err != nil {
			return in, core.Errorf(core.EINTERNAL, "open the private key of the pending order: %v", err)
		}
		csr, err := parseCSR([]byte(j.Payload.ServerCSRPEM))
		if err != nil {
			return in, err
		}
		in.csrDER, in.csrPub, in.csrPEM, in.sealedKey = csr.Raw, csr.PublicKey, j.Payload.ServerCSRPEM, keyPEM
		return in, nil
	}
	// Server key mode: the server makes the key, sealed to the version.
	key, err := s.serverKey(ctx, in)
	if err != nil {
		return in, err
	}
	der, err := newCSR(c, key)
	if err != nil {
		return in, fmt.Errorf("make CSR: %w", err)
	}
	keyPEM, err := marshalKeyPEM(key)
	if err != nil {
		return in, fmt.Errorf("encode key: %w", err)
	}
	in.csrDER, in.csrPub = der, key.Public()
	in.csrPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	in.sealedKey = keyPEM // sealed in completeIssuance, once the version id is known
	return in, nil
}

// serverKey returns the key for a server-mode issuance: the current one
// when the policy reuses keys and the type is unchanged, else a new one.
func (s *Service) serverKey(ctx context.Context, in issuanceInput) (crypto.Signer, error) {
	if in.policy.ReuseKey && in.current != nil && in.current.HasPrivateKey {
		sealed, err := s.store.Q().VersionPrivateKey(ctx, in.current.ID)
		if err == nil && len(sealed) > 0 {
			if raw, err := s.box.Open(sealed, "version:"+in.current.ID.String()); err == nil {
				if block, _ := pem.Decode(raw); block != nil {
					if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
						if signer, ok := k.(crypto.Signer); ok && keyTypeOf(signer.Public()) == in.cert.KeyType {
							return signer, nil
						}
					}
				}
			}
		}
	}
	return generateKey(in.cert.KeyType)
}

// versionFromResult checks what the CA returned and turns it into a version.
func versionFromResult(in issuanceInput, res plugin.IssueResult, j core.Job) (core.CertificateVersion, error) {
	block, _ := pem.Decode([]byte(res.CertificatePEM))
	if block == nil || block.Type != "CERTIFICATE" {
		return core.CertificateVersion{}, failf(FailBadAnswer, "issuer returned no PEM certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return core.CertificateVersion{}, failf(FailBadAnswer, "issuer returned a certificate that does not parse: %v", err)
	}
	if !publicKeysEqual(leaf.PublicKey, in.csrPub) {
		return core.CertificateVersion{}, failf(FailBadAnswer, "issuer returned a certificate for another key than the CSR's")
	}
	fp := sha256.Sum256(leaf.Raw)
	sans := []string{} // never nil: a certificate may carry no SAN at all, and the column is NOT NULL
	for _, ip := range leaf.IPAddresses {
		sans = append(sans, ip.String())
	}
	for _, u := range leaf.URIs {
		sans = append(sans, u.String())
	}
	sans = append(append(sans, leaf.EmailAddresses...), leaf.DNSNames...)
	issuerID := in.issuer.ID
	v := core.CertificateVersion{
		ID: newID(), CertificateID: in.cert.ID, SpecRevision: in.cert.SpecRevision,
		SerialNumber: strings.ToLower(leaf.SerialNumber.Text(16)), FingerprintSHA256: hex.EncodeToString(fp[:]),
		Subject: leaf.Subject.String(), SANs: sans, NotBefore: leaf.NotBefore.UTC(), NotAfter: leaf.NotAfter.UTC(),
		CertificatePEM: string(pem.EncodeToMemory(block)), ChainPEM: res.ChainPEM, IssuerID: &issuerID, JobID: &j.ID,
		Status: core.VersionActive,
	}
	if !res.RenewalWindowStart.IsZero() && res.RenewalWindowEnd.After(res.RenewalWindowStart) {
		start, end := res.RenewalWindowStart.UTC(), res.RenewalWindowEnd.UTC()
		v.RenewalWindowStart, v.RenewalWindowEnd = &start, &end
	}
	return v, nil
}

func publicKeysEqual(a, b any) bool {
	ka, err1 := x509.MarshalPKIXPublicKey(a)
	kb, err2 := x509.MarshalPKIXPublicKey(b)
	return err1 == nil && err2 == nil && bytes.Equal(ka, kb)
}

// completeIssuance stores the new version in one transaction with the
// job's end, so that a crash leaves either nothing (the job runs again) or
// everything (exactly one version). Everything is written in one round
// trip (store.CompleteIssuance), shared with the issuances that end at the
// same time (completionGroup); only the lease and the declaration are
// checked, by the statements themselves.
func (s *Service) completeIssuance(ctx context.Context, owner string, j core.Job, in issuanceInput, v core.CertificateVersion) error {
	ctx = context.WithoutCancel(ctx)
	rules, err := s.activeRules(ctx)
	if err != nil {
		return err
	}
	now := s.clock()
	v.CreatedAt = now
	var window *Window
	if v.RenewalWindowStart != nil {
		window = &Window{Start: *v.RenewalWindowStart, End: *v.RenewalWindowEnd}
	}
	plan := PlanRenewal(in.policy, in.cert.ID, v.NotBefore, v.NotAfter, window)
	c := in.cert
	c.CurrentVersionID, c.NotAfter, c.NextRenewalAt, c.Status = &v.ID, &v.NotAfter, &plan.At, core.CertActive
	done := store.IssuanceCompletion{Version: v, CSRPEM: in.csrPEM, SpecRevision: in.cert.SpecRevision,
		NextRenewal: plan.At, Now: now, JobID: j.ID, Owner: owner}
	if in.sealedKey != nil {
		done.SealedKey = s.box.Seal(in.sealedKey, "version:"+v.ID.String())
	}
	action, event := "certificate.issued", EventIssued
	if in.current != nil {
		action, event = "certificate.renewed", EventRenewed
	}
	done.Audits = append(done.Audits,
		s.auditEvent(ctx, core.SystemActor, action, "certificate", c.ID.String(), core.OutcomeSuccess,
			map[string]any{"version_id": v.ID.String(), "serial_number": v.SerialNumber, "not_after": v.NotAfter,
				"next_renewal_at": plan.At, "job_id": j.ID.String()}),
		s.auditEvent(ctx, core.SystemActor, "job.succeeded", "job", j.ID.String(), core.OutcomeSuccess,
			map[string]any{"kind": j.Kind, "attempt": j.Attempt}))
	for _, t := range in.targets {
		vid, tid := v.ID, t.ID
		dj := s.newJob(core.JobDeploy, &c.ID, core.JobPayload{VersionID: &vid, Trigger: "issued"})
		dj.TargetID, dj.AgentID, dj.State = &tid, t.AgentID, core.JobWaiting
		done.DeployJobs = append(done.DeployJobs, dj)
		done.Deployments = append(done.Deployments, core.Deployment{ID: newID(), CertificateID: c.ID, VersionID: v.ID,
			TargetID: t.ID, AgentID: t.AgentID, JobID: &dj.ID, Status: "pending", CreatedAt: now})
		done.Audits = append(done.Audits, s.auditEvent(ctx, core.SystemActor, "job.created", "job", dj.ID.String(),
			core.OutcomeSuccess, map[string]any{"kind": dj.Kind, "state": dj.State, "trigger": "issued",
				"certificate_id": c.ID.String(), "target_id": t.ID.String()}))
	}
	done.Notifications = s.notificationsFor(rules, Event{Name: event, Certificate: &c, Version: &v, Key: v.ID.String()})
	err = s.completeIssuanceGrouped(ctx, done)
	if errors.Is(err, store.ErrSpecChanged) {
		// The declaration changed while the CA worked: issue again for the
		// new one (agent mode waits for a new CSR).
		return s.store.InTx(ctx, func(q *store.Queries) error {
			cur, err := q.GetCertificateForUpdate(ctx, c.ID)
			if err != nil {
				return err
			}
			return s.restartIssuance(ctx, q, owner, j, cur)
		})
	}
	return err
}

// restartIssuance sends a job whose certificate changed back to the start.
func (s *Service) restartIssuance(ctx context.Context, q *store.Queries, owner string, j core.Job, c core.Certificate) error {
	now := s.clock()
	state := core.JobQueued
	if c.KeyMode == core.KeyModeAgent {
		state = core.JobWaiting
	}
	if err := q.FinishJob(ctx, j.ID, owner, core.JobQueued, "the certificate changed during issuance; issuing again", now, now); err != nil {
		return err
	}
	p := j.Payload
	p.SpecRevision, p.CSRPEM, p.ServerCSRPEM, p.SealedKey = c.SpecRevision, "", "", nil
	p.ClearOrder() // the order was for the old declaration
	if err := q.EndChallenges(ctx, j.ID, now); err != nil {
		return err
	}
	_, err := q.SetJobState(ctx, j.ID, state, &p, now, now, "")
	return err
}

// issuanceFailed records a failed issuance attempt on the certificate, and
// alerts once per job.
func (s *Service) issuanceFailed(ctx context.Context, q *store.Queries, j core.Job, msg string, final bool) error {
	c, err := q.GetCertificate(ctx, *j.CertificateID)
	if errIs(err, core.ENOTFOUND) {
		return nil
	}
	if err != nil {
		return err
	}
	status := c.Status
	var next *time.Time
	if final {
		status = core.CertFailed
		if c.CurrentVersionID != nil || c.Status != core.CertPending {
			t := s.clock().Add(s.jobs.FailedRenewalRetry)
			next = &t // the scheduler tries again later
		}
	}
	if err := q.SetCertificateStatus(ctx, c.ID, status, msg, next, s.clock()); err != nil {
		return err
	}
	// Alert at the first failure of a job (it will be retried) and again
	// when it gives up; never for the attempts in between.
	key := j.ID.String()
	if final {
		key += ":final"
	} else if j.Attempt > 1 {
		return nil
	}
	return s.emit(ctx, q, Event{Name: EventRenewalFailed, Certificate: &c, Key: key,
		Details: map[string]string{"error": msg, "attempt": fmt.Sprint(j.Attempt), "final": fmt.Sprint(final)}})
}

// afterIssuanceEnded puts a certificate whose issuance job was cancelled
// back into a resting status.
func (s *Service) afterIssuanceEnded(ctx context.Context, q *store.Queries, j core.Job, why string) error {
	if j.CertificateID == nil || (j.Kind != core.JobIssue && j.Kind != core.JobRenew) {
		return nil
	}
	c, err := q.GetCertificate(ctx, *j.CertificateID)
	if err != nil {
		return err
	}
	status := core.CertPending
	var next *time.Time
	if c.CurrentVersionID != nil {
		t := s.clock().Add(s.jobs.FailedRenewalRetry) // the scheduler tries again later
		status, next = core.CertActive, &t
	}
	if err := q.EndChallenges(ctx, j.ID, s.clock()); err != nil {
		return err
	}
	return q.SetCertificateStatus(ctx, c.ID, status, "issuance "+why, next, s.clock())
}
