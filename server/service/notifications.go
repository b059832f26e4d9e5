package service

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// Lifecycle events that notifications are about.
const (
	EventExpiring         = "certificate.expiring"
	EventIssued           = "certificate.issued"
	EventRenewed          = "certificate.renewed"
	EventRenewalFailed    = "certificate.renewal_failed"
	EventRevoked          = "certificate.revoked"
	EventDeploymentFailed = "deployment.failed"
	EventAgentOffline     = "agent.offline"
)

// Events lists every event, for validating rules.
var Events = []string{EventExpiring, EventIssued, EventRenewed, EventRenewalFailed, EventRevoked, EventDeploymentFailed, EventAgentOffline}

// alertEvents need attention; the others are informational.
var alertEvents = []string{EventExpiring, EventRenewalFailed, EventDeploymentFailed, EventAgentOffline}

// DefaultExpiryDays are the expiry alert thresholds of a rule that names none.
var DefaultExpiryDays = []int{30, 14, 7, 1}

// Event is something that happened, to be announced.
type Event struct {
	Name        string
	Certificate *core.Certificate
	Version     *core.CertificateVersion
	AgentID     *uuid.UUID
	Days        int    // certificate.expiring: the threshold crossed
	Key         string // what makes this occurrence unique (with the event name)
	Details     map[string]string
}

// emit records the notifications an event causes, in the caller's
// transaction: one per matching rule (with a delivery job), or one in
// status no_notifier when nothing is configured to receive it. The dedupe
// key makes a repeated event a no-op.
func (s *Service) emit(ctx context.Context, q *store.Queries, e Event) error {
	rules, err := s.activeRules(ctx)
	if err != nil {
		return err
	}
	for _, pn := range s.notificationsFor(rules, e) {
		inserted, err := q.InsertNotification(ctx, pn.Notification)
		if err != nil {
			return err
		}
		if inserted && pn.Job != nil {
			if _, err := s.insertJob(ctx, q, core.SystemActor, *pn.Job); err != nil {
				return err
			}
		}
	}
	return nil
}

// notificationsFor returns the notifications an event causes under rules,
// each with its delivery job (none for the no_notifier record).
func (s *Service) notificationsFor(rules []store.ActiveRule, e Event) []store.PendingNotification {
	now := s.clock()
	payload := s.notificationPayload(e, now)
	raw, _ := json.Marshal(payload)
	var asMap map[string]any
	_ = json.Unmarshal(raw, &asMap)
	base := core.Notification{Event: e.Name, CertificateID: certID(e), AgentID: e.AgentID, Payload: asMap, CreatedAt: now}
	var out []store.PendingNotification
	for _, r := range rules {
		if !ruleMatches(r.NotificationRule, e) {
			continue
		}
		n := base
		notifierID, ruleID := r.NotifierID, r.ID
		n.ID, n.NotifierID, n.RuleID = newID(), &notifierID, &ruleID
		n.DedupeKey = e.Name + ":" + e.Key + ":" + notifierID.String()
		n.Status, n.NextAttemptAt = core.NotificationPending, &now
		nid := n.ID
		j := s.newJob(core.JobNotify, n.CertificateID, core.JobPayload{NotificationID: &nid, Trigger: e.Name})
		out = append(out, store.PendingNotification{Notification: n, Job: &j})
	}
	if len(out) == 0 {
		n := base
		n.ID, n.Status, n.DedupeKey = newID(), core.NotificationNoNotifier, e.Name+":"+e.Key+":none"
		n.LastError = "no enabled notification rule matches this event"
		out = append(out, store.PendingNotification{Notification: n})
	}
	return out
}

// rulesTTL is how long this server reuses the list of active rules. Rule
// and notifier changes made through this server take effect at once; those
// made through another replica within this time.
const rulesTTL = 2 * time.Second

type rulesCache struct {
	mu    sync.Mutex
	rules []store.ActiveRule
	at    time.Time
}

func (s *Service) activeRules(ctx context.Context) ([]store.ActiveRule, error) {
	s.rules.mu.Lock()
	defer s.rules.mu.Unlock()
	if !s.rules.at.IsZero() && time.Since(s.rules.at) < rulesTTL {
		return s.rules.rules, nil
	}
	rules, err := s.store.Q().ActiveRules(ctx)
	if err != nil {
		return nil, err
	}
	s.rules.rules, s.rules.at = rules, time.Now()
	return rules, nil
}

// forgetRules makes the next event read the rules afresh.
func (s *Service) forgetRules() {
	s.rules.mu.Lock()
	s.rules.at = time.Time{}
	s.rules.mu.Unlock()
}

func certID(e Event) *uuid.UUID {
	if e.Certificate == nil {
		return nil
	}
	id := e.Certificate.ID
	return &id
}

func ruleMatches(r core.NotificationRule, e Event) bool {
	if !slices.Contains(r.Events, e.Name) && !slices.Contains(r.Events, "*") {
		return false
	}
	if e.Name == EventExpiring {
		days := r.ExpiryDays
		if len(days) == 0 {
			days = DefaultExpiryDays
		}
		if !slices.Contains(days, e.Days) {
			return false
		}
	}
	for k, v := range r.CertificateLabels {
		if e.Certificate == nil || e.Certificate.Labels[k] != v {
			return false
		}
	}
	return true
}

// notificationPayload is what a notifier plugin receives.
func (s *Service) notificationPayload(e Event, now time.Time) plugin.Notification {
	n := plugin.Notification{Event: e.Name, OccurredAt: now, Details: e.Details, Severity: plugin.SeverityInfo}
	if n.Details == nil {
		n.Details = map[string]string{}
	}
	if slices.Contains(alertEvents, e.Name) {
		n.Severity = plugin.SeverityWarning
	}
	if c := e.Certificate; c != nil {
		n.CertificateID, n.CertificateName, n.CommonName, n.SANs = c.ID.String(), c.Name, c.CommonName, c.SANs
		if c.NotAfter != nil {
			n.NotAfter = *c.NotAfter
		}
	}
	if v := e.Version; v != nil {
		n.SerialNumber, n.NotAfter = v.SerialNumber, v.NotAfter
	}
	name := ""
	if e.Certificate != nil {
		name = fmt.Sprintf("%s (%s)", e.Certificate.Name, e.Certificate.CommonName)
	}
	switch e.Name {
	case EventExpiring:
		n.Title = fmt.Sprintf("Certificate %s expires within %d days", name, e.Days)
		n.Message = fmt.Sprintf("It expires at %s and has not been renewed yet.", n.NotAfter.UTC().Format(time.RFC3339))
		n.Details["days"] = fmt.Sprint(e.Days)
		if e.Days <= 7 {
			n.Severity = plugin.SeverityCritical
		}
	case EventIssued:
		n.Title = "Certificate " + name + " issued"
		n.Message = fmt.Sprintf("Serial %s, valid until %s.", n.SerialNumber, n.NotAfter.UTC().Format(time.RFC3339))
	case EventRenewed:
		n.Title = "Certificate " + name + " renewed"
		n.Message = fmt.Sprintf("New serial %s, valid until %s.", n.SerialNumber, n.NotAfter.UTC().Format(time.RFC3339))
	case EventRenewalFailed:
		n.Title = "Renewal of certificate " + name + " failed"
		n.Message = "The issuer did not deliver: " + n.Details["error"]
		if n.Details["final"] == "true" {
			n.Title = "Renewal of certificate " + name + " gave up"
			n.Message += " (no more retries; certctl tries again later)"
			n.Severity = plugin.SeverityCritical
		} else {
			n.Message += " (certctl retries)"
		}
	case EventRevoked:
		n.Title = "Certificate " + name + " revoked"
		n.Message = fmt.Sprintf("Serial %s was revoked (reason %s).", n.SerialNumber, n.Details["reason"])
	default:
		n.Title = strings.ReplaceAll(e.Name, ".", " ")
		n.Message = n.Details["message"]
	}
	return n
}

// runNotify delivers one notification through its notifier's plugin.
func (s *Service) runNotify(ctx context.Context, owner string, j core.Job) error {
	if j.Payload.NotificationID == nil {
		return failf(FailNotFound, "notify job without a notification")
	}
	q := s.store.Q()
	n, err := q.GetNotification(ctx, *j.Payload.NotificationID)
	if err != nil {
		return err
	}
	if n.Status == core.NotificationSent {
		return s.finishNotify(ctx, owner, j, n, "", "")
	}
	if n.NotifierID == nil {
		return s.finishNotify(ctx, owner, j, n, "", "its notifier was deleted")
	}
	notifier, err := q.GetNotifier(ctx, *n.NotifierID)
	if errIs(err, core.ENOTFOUND) {
		return s.finishNotify(ctx, owner, j, n, "", "its notifier was deleted")
	}
	if err != nil {
		return err
	}
	if !notifier.Enabled {
		return s.finishNotify(ctx, owner, j, n, "", "its notifier is disabled")
	}
	cfg, err := s.openConfig(notifier.Config, notifier.Secret, sealContext(plugin.KindNotifier, notifier.ID.String()))
	if err != nil {
		return err
	}
	if s.senders == nil {
		return core.Errorf(core.EUNAVAILABLE, "this server runs no notifier plugins")
	}
	p, err := s.senders.Notifier(notifier.Type)
	if err != nil {
		return fromPlugin(err)
	}
	var msg plugin.Notification
	raw, _ := json.Marshal(n.Payload)
	if err := json.Unmarshal(raw, &msg); err != nil {
		return failf(FailCorrupt, "stored notification does not decode: %v", err)
	}
	msg.ID = n.ID.String() // stable across retries: receivers drop duplicates by it
	sendCtx, cancel := context.WithTimeout(ctx, issueTimeout)
	defer cancel()
	var res plugin.SendResult
	if slices.Contains(alertEvents, n.Event) {
		res, err = p.SendAlert(sendCtx, plugin.SendRequest{Config: cfg, Notification: msg})
	} else {
		res, err = p.SendEvent(sendCtx, plugin.SendRequest{Config: cfg, Notification: msg})
	}
	if err != nil {
		return fromPlugin(err)
	}
	return s.finishNotify(ctx, owner, j, n, res.MessageID, "")
}

// finishNotify ends a delivery job: the notification is sent, or (with
// undeliverable set) dead for that reason.
func (s *Service) finishNotify(ctx context.Context, owner string, j core.Job, n core.Notification, messageID, undeliverable string) error {
	return s.store.InTx(context.WithoutCancel(ctx), func(q *store.Queries) error {
		now := s.clock()
		if err := q.FinishJob(ctx, j.ID, owner, core.JobSucceeded, "", now, now); err != nil {
			return err
		}
		if n.Status == core.NotificationSent {
			return nil
		}
		if undeliverable != "" {
			return q.SetNotificationStatus(ctx, n.ID, core.NotificationDead, undeliverable, nil, now)
		}
		if err := q.SetNotificationStatus(ctx, n.ID, core.NotificationSent, "", nil, now); err != nil {
			return err
		}
		return q.AppendAudit(ctx, s.auditEvent(ctx, core.SystemActor, "notification.sent", "notification", n.ID.String(),
			core.OutcomeSuccess, map[string]any{"event": n.Event, "notifier_id": n.NotifierID.String(), "message_id": messageID}))
	})
}

// notificationFailed records a failed delivery; a final failure is the
// dead-letter state, visible in the notifications list.
func (s *Service) notificationFailed(ctx context.Context, q *store.Queries, j core.Job, msg string, final bool, retryAt time.Time) error {
	if j.Payload.NotificationID == nil {
		return nil
	}
	status, next := core.NotificationRetrying, &retryAt
	if final {
		status, next = core.NotificationDead, nil
	}
	return q.SetNotificationStatus(ctx, *j.Payload.NotificationID, status, msg, next, s.clock())
}

// ScanExpiring announces certificates crossing an expiry threshold, once
// per threshold and version. It returns how many it announced.
func (s *Service) ScanExpiring(ctx context.Context, limit int) (int, error) {
	rules, err := s.activeRules(ctx)
	if err != nil {
		return 0, err
	}
	thresholds := slices.Clone(DefaultExpiryDays)
	for _, r := range rules {
		thresholds = append(thresholds, r.ExpiryDays...)
	}
	slices.Sort(thresholds)
	thresholds = slices.Compact(thresholds)
	total := 0
	now := s.clock()
	for _, d := range thresholds { // smallest first: a certificate is announced at the smallest threshold it crossed
		certs, err := s.store.Q().ExpiringCertificates(ctx, now, d, limit)
		if err != nil {
			return total, err
		}
		for _, c := range certs {
			err := s.store.InTx(ctx, func(q *store.Queries) error {
				if err := q.SetExpiryAlerted(ctx, c.ID, d); err != nil {
					return err
				}
				key := fmt.Sprintf("%s:%d:%d", c.ID, c.NotAfter.Unix(), d)
				return s.emit(ctx, q, Event{Name: EventExpiring, Certificate: &c, Days: d, Key: key})
			})
			if err != nil {
				return total, err
			}
			total++
		}
	}
	return total, nil
}

// NotificationRuleInput is what a client declares for a rule.
type NotificationRuleInput struct {
	Name              string
	NotifierID        uuid.UUID
	Events            []string
	ExpiryDays        []int
	CertificateLabels map[string]string
	Enabled           *bool
}

func validateRule(in *NotificationRuleInput) error {
	if err := core.ValidateName("name", in.Name); err != nil {
		return err
	}
	if len(in.Events) == 0 {
		return core.Invalid("events", "name at least one event (or \"*\" for all): %s", strings.Join(Events, ", "))
	}
	for i, e := range in.Events {
		if e != "*" && !slices.Contains(Events, e) {
			return core.Invalid(fmt.Sprintf("events[%d]", i), "unknown event %q (known: %s)", e, strings.Join(Events, ", "))
		}
	}
	if len(in.ExpiryDays) == 0 {
		in.ExpiryDays = DefaultExpiryDays
	}
	for i, d := range in.ExpiryDays {
		if d < 1 || d > 365 {
			return core.Invalid(fmt.Sprintf("expiry_days[%d]", i), "must be from 1 to 365")
		}
	}
	if in.CertificateLabels == nil {
		in.CertificateLabels = map[string]string{}
	}
	return core.ValidateLabels("certificate_labels", in.CertificateLabels)
}

// CreateRule creates a notification rule.
func (s *Service) CreateRule(ctx context.Context, in NotificationRuleInput) (core.NotificationRule, error) {
	defer s.forgetRules()
	var out core.NotificationRule
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "notification_rule.create", resourceType: "notification_rule"},
		func(q *store.Queries) (string, map[string]any, error) {
			if err := validateRule(&in); err != nil {
				return "", nil, err
			}
			if _, err := q.GetNotifier(ctx, in.NotifierID); err != nil {
				if errIs(err, core.ENOTFOUND) {
					return "", nil, core.Invalid("notifier_id", "no notifier with id %s", in.NotifierID)
				}
				return "", nil, err
			}
			now := s.clock()
			out = core.NotificationRule{ID: newID(), Name: in.Name, NotifierID: in.NotifierID, Events: in.Events,
				ExpiryDays: in.ExpiryDays, CertificateLabels: in.CertificateLabels, Enabled: in.Enabled == nil || *in.Enabled,
				CreatedAt: now, UpdatedAt: now}
			return out.ID.String(), map[string]any{"name": out.Name, "events": out.Events}, q.CreateRule(ctx, out)
		})
	return out, err
}

// UpdateRule replaces a notification rule.
func (s *Service) UpdateRule(ctx context.Context, id uuid.UUID, in NotificationRuleInput) (core.NotificationRule, error) {
	defer s.forgetRules()
	var out core.NotificationRule
	err := s.mutate(ctx, change{role: core.RoleOperator, action: "notification_rule.update", resourceType: "notification_rule", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) {
			cur, err := q.GetRule(ctx, id)
			if err != nil {
				return "", nil, err
			}
			if err := validateRule(&in); err != nil {
				return "", nil, err
			}
			if _, err := q.GetNotifier(ctx, in.NotifierID); err != nil {
				if errIs(err, core.ENOTFOUND) {
					return "", nil, core.Invalid("notifier_id", "no notifier with id %s", in.NotifierID)
				}
				return "", nil, err
			}
			out = cur
			out.Name, out.NotifierID, out.Events, out.ExpiryDays = in.Name, in.NotifierID, in.Events, in.ExpiryDays
			out.CertificateLabels, out.UpdatedAt = in.CertificateLabels, s.clock()
			if in.Enabled != nil {
				out.Enabled = *in.Enabled
			}
			return "", map[string]any{"name": out.Name}, q.UpdateRule(ctx, out)
		})
	return out, err
}

// DeleteRule deletes a notification rule.
func (s *Service) DeleteRule(ctx context.Context, id uuid.UUID) error {
	defer s.forgetRules()
	return s.mutate(ctx, change{role: core.RoleOperator, action: "notification_rule.delete", resourceType: "notification_rule", resourceID: id.String()},
		func(q *store.Queries) (string, map[string]any, error) { return "", nil, q.DeleteRule(ctx, id) })
}

// GetRule returns a notification rule.
func (s *Service) GetRule(ctx context.Context, id uuid.UUID) (core.NotificationRule, error) {
	if err := s.read(ctx); err != nil {
		return core.NotificationRule{}, err
	}
	return s.store.Q().GetRule(ctx, id)
}

// ListRules returns a page of notification rules.
func (s *Service) ListRules(ctx context.Context, p core.Page) ([]core.NotificationRule, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	return s.store.Q().ListRules(ctx, p)
}

var notificationStatuses = []string{core.NotificationPending, core.NotificationSent, core.NotificationRetrying,
	core.NotificationDead, core.NotificationNoNotifier}

// ListNotifications returns a page of notifications, newest first.
func (s *Service) ListNotifications(ctx context.Context, f core.NotificationFilter) ([]core.Notification, bool, error) {
	if err := s.read(ctx); err != nil {
		return nil, false, err
	}
	if f.Status != "" {
		if err := core.ValidateOneOf("status", f.Status, notificationStatuses); err != nil {
			return nil, false, err
		}
	}
	return s.store.Q().ListNotifications(ctx, f)
}
