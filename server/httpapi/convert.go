package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

func idPtr(id *uuid.UUID) *string {
	if id == nil {
		return nil
	}
	s := id.String()
	return &s
}

func idStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

func emptyIfNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// list wraps a page of items as the API's list object.
func list[T, W any](items []T, more bool, id func(T) uuid.UUID, convert func(T) W) api.List[W] {
	out := api.List[W]{Items: make([]W, len(items))}
	for i, it := range items {
		out.Items[i] = convert(it)
	}
	if more && len(items) > 0 {
		c := encodeCursor(id(items[len(items)-1]))
		out.NextCursor = &c
	}
	return out
}

// Cursors are opaque to clients: the id of the last item, base64url-encoded.
func encodeCursor(id uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString(id[:])
}

func decodeCursor(s string) (*uuid.UUID, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 16 {
		return nil, core.Invalid("cursor", "is not a cursor this API returned")
	}
	id := uuid.UUID(b)
	return &id, nil
}

// Connector configurations are shown without their sensitive fields: the
// store keeps those apart, sealed, and only their names are shown.

func toIssuer(i core.Issuer) api.Issuer {
	return api.Issuer{ID: i.ID.String(), Name: i.Name, Type: i.Type, Config: i.Config, SecretFields: emptyIfNil(i.Secret.Fields),
		CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt}
}

func toTarget(t core.Target) api.Target {
	return api.Target{ID: t.ID.String(), Name: t.Name, Type: t.Type, AgentID: idPtr(t.AgentID), Config: t.Config,
		SecretFields: emptyIfNil(t.Secret.Fields), CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

func toNotifier(n core.Notifier) api.Notifier {
	return api.Notifier{ID: n.ID.String(), Name: n.Name, Type: n.Type, Config: n.Config, SecretFields: emptyIfNil(n.Secret.Fields),
		Enabled: n.Enabled, CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt}
}

// toPlugin renders a plugin's status. The schema comes as the plugin SDK
// encoded it, which is the API's PluginSchema field for field.
func toPlugin(s core.PluginStatus) (api.Plugin, error) {
	out := api.Plugin{Kind: s.Kind, Name: s.Name, Version: s.Version, Description: s.Description, SHA256: s.SHA256,
		Status: s.Status, Restarts: s.Restarts, LastError: s.LastError}
	if !s.RegisteredAt.IsZero() {
		t := s.RegisteredAt
		out.RegisteredAt = &t
	}
	if len(s.Schema) > 0 {
		if err := json.Unmarshal(s.Schema, &out.Schema); err != nil {
			return api.Plugin{}, fmt.Errorf("plugin %s %q: decode its schema: %w", s.Kind, s.Name, err)
		}
	}
	if out.Schema.Fields == nil {
		out.Schema.Fields = []api.PluginField{}
	}
	return out, nil
}

func toCertificate(c core.Certificate) api.Certificate {
	return api.Certificate{
		ID: c.ID.String(), Name: c.Name, CommonName: c.CommonName, SANs: emptyIfNil(c.SANs), IssuerID: c.IssuerID.String(),
		TargetIDs: idStrings(c.TargetIDs), KeyType: c.KeyType, KeyMode: c.KeyMode, RenewalPolicyID: idPtr(c.RenewalPolicyID),
		Status: c.Status, LastError: c.ShownLastError(), Labels: c.Labels, CurrentVersionID: idPtr(c.CurrentVersionID),
		NotAfter: c.NotAfter, NextRenewalAt: c.NextRenewalAt, DeploymentHealth: api.DeploymentHealth(c.DeploymentHealth),
		Profile: c.Profile, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

func toVersion(v core.CertificateVersion) api.CertificateVersion {
	return api.CertificateVersion{
		ID: v.ID.String(), CertificateID: v.CertificateID.String(), SerialNumber: v.SerialNumber,
		FingerprintSHA256: v.FingerprintSHA256, Subject: v.Subject, SANs: emptyIfNil(v.SANs), NotBefore: v.NotBefore,
		NotAfter: v.NotAfter, CertificatePEM: v.CertificatePEM, ChainPEM: v.ChainPEM, IssuerID: idPtr(v.IssuerID),
		JobID: idPtr(v.JobID), Status: v.Status, RevokedAt: v.RevokedAt, RevocationReason: v.RevocationReason,
		HasPrivateKey: v.HasPrivateKey, RenewalWindowStart: v.RenewalWindowStart, RenewalWindowEnd: v.RenewalWindowEnd,
		CreatedAt: v.CreatedAt,
	}
}

func toDeployment(d core.Deployment) api.Deployment {
	return api.Deployment{
		ID: d.ID.String(), CertificateID: d.CertificateID.String(), VersionID: d.VersionID.String(),
		TargetID: d.TargetID.String(), AgentID: idPtr(d.AgentID), JobID: idPtr(d.JobID), Status: d.Status,
		Message: d.Message, Metadata: d.Metadata, VerifiedAt: d.VerifiedAt, CreatedAt: d.CreatedAt,
		UpdatedAt: d.UpdatedAt, CompletedAt: d.CompletedAt,
	}
}

func toAgent(a core.Agent) api.Agent {
	out := api.Agent{
		ID: a.ID.String(), Name: a.Name, Status: a.Status, Labels: a.Labels, OS: a.OS, Arch: a.Arch,
		Hostname: a.Hostname, AgentVersion: a.AgentVersion, UptimeSeconds: a.UptimeSeconds,
		Plugins: make([]api.AgentPlugin, len(a.Plugins)), LastHeartbeatAt: a.LastHeartbeatAt, EnrolledAt: a.EnrolledAt,
		RetiredAt: a.RetiredAt, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt,
	}
	if a.IPAddress != nil {
		ip := a.IPAddress.String()
		out.IPAddress = &ip
	}
	for i, p := range a.Plugins {
		out.Plugins[i] = api.AgentPlugin(p)
	}
	return out
}

func toEnrollmentToken(t core.EnrollmentToken) api.EnrollmentToken {
	return api.EnrollmentToken{
		ID: t.ID.String(), Token: t.Secret, Prefix: t.Prefix, AgentName: t.AgentName, Labels: t.Labels,
		ExpiresAt: t.ExpiresAt, UsedAt: t.UsedAt, UsedByAgentID: idPtr(t.UsedByAgentID), RevokedAt: t.RevokedAt,
		CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt,
	}
}

func toAPIKey(k core.APIKey) api.APIKey {
	return api.APIKey{
		ID: k.ID.String(), Name: k.Name, Key: k.Secret, Prefix: k.Prefix, Role: k.Role, ExpiresAt: k.ExpiresAt,
		RevokedAt: k.RevokedAt, LastUsedAt: k.LastUsedAt, CreatedBy: k.CreatedBy, CreatedAt: k.CreatedAt,
	}
}

func toAuditEvent(e core.AuditEvent) api.AuditEvent {
	return api.AuditEvent{
		ID: e.ID.String(), OccurredAt: e.OccurredAt, Actor: e.Actor, ActorType: e.ActorType, ActorName: e.ActorName,
		Action: e.Action, ResourceType: e.ResourceType, ResourceID: e.ResourceID, Outcome: e.Outcome,
		RequestID: e.RequestID, Details: e.Details,
	}
}

// toJob shows a job without its payload: a CSR is not secret, but it is
// large, so the reply only says whether there is one.
func toJob(j core.Job) api.Job {
	return api.Job{
		ID: j.ID.String(), Kind: j.Kind, State: j.State, CertificateID: idPtr(j.CertificateID), TargetID: idPtr(j.TargetID),
		AgentID: idPtr(j.AgentID), Attempt: j.Attempt, MaxAttempts: j.MaxAttempts, RunAt: j.RunAt, LastError: j.LastError,
		Trigger: j.Payload.Trigger, VersionID: idPtr(j.Payload.VersionID), HasCSR: j.Payload.CSRPEM != "",
		WaitingFor: j.WaitingFor, OrderID: j.Payload.OrderID, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt, FinishedAt: j.FinishedAt,
	}
}

func toPolicy(p core.RenewalPolicy) api.RenewalPolicy {
	return api.RenewalPolicy{
		ID: p.ID.String(), Name: p.Name, Mode: p.Mode, RenewFraction: p.RenewFraction, DaysBeforeExpiry: p.DaysBeforeExpiry,
		JitterFraction: p.JitterFraction, ReuseKey: p.ReuseKey, UseIssuerWindow: p.UseIssuerWindow, IsDefault: p.IsDefault,
		CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt,
	}
}

func toRenewalExplanation(e service.RenewalExplanation) api.RenewalExplanation {
	return api.RenewalExplanation{
		CertificateID: e.CertificateID.String(), Status: e.Status, Policy: toPolicy(e.Policy), NotBefore: e.NotBefore,
		NotAfter: e.NotAfter, NextRenewalAt: e.NextRenewalAt, Due: e.Due, Reason: e.Reason, JobID: idPtr(e.JobID),
		LastError: e.LastError,
	}
}

func toBulkResult(r service.BulkResult) api.BulkResult {
	return api.BulkResult{Matched: r.Matched, Started: r.Started, Skipped: r.Skipped, JobIDs: idStrings(r.JobIDs)}
}

func toRule(r core.NotificationRule) api.NotificationRule {
	labels := r.CertificateLabels
	if labels == nil {
		labels = map[string]string{}
	}
	return api.NotificationRule{
		ID: r.ID.String(), Name: r.Name, NotifierID: r.NotifierID.String(), Events: emptyIfNil(r.Events),
		ExpiryDays: emptyIfNil(r.ExpiryDays), CertificateLabels: labels, Enabled: r.Enabled, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt,
	}
}

func toNotification(n core.Notification) api.Notification {
	payload := n.Payload
	if payload == nil {
		payload = map[string]any{}
	}
	return api.Notification{
		ID: n.ID.String(), Event: n.Event, NotifierID: idPtr(n.NotifierID), RuleID: idPtr(n.RuleID),
		CertificateID: idPtr(n.CertificateID), AgentID: idPtr(n.AgentID), Status: n.Status, Attempts: n.Attempts,
		NextAttemptAt: n.NextAttemptAt, LastError: n.LastError, Payload: payload, CreatedAt: n.CreatedAt,
		UpdatedAt: n.UpdatedAt, SentAt: n.SentAt,
	}
}
