package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
)

// TestNotificationRules: rules round-trip their events, thresholds and
// label selector; ActiveRules is the enabled rules of enabled notifiers
// with the notifier's type; deleting a notifier takes its rules along.
func TestNotificationRules(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	notifier := func(name string, enabled bool) core.Notifier {
		n := core.Notifier{ID: newID(t), Name: name, Type: "webhook", Config: map[string]any{}, Enabled: enabled,
			CreatedAt: at(0), UpdatedAt: at(0)}
		if err := q.CreateNotifier(ctx, n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	on, off := notifier("on", true), notifier("off", false)
	rule := func(name string, n core.Notifier, enabled bool) core.NotificationRule {
		r := core.NotificationRule{ID: newID(t), Name: name, NotifierID: n.ID, Events: []string{"certificate.expiring", "*"},
			ExpiryDays: []int{30, 7}, CertificateLabels: map[string]string{"env": "prod"}, Enabled: enabled, CreatedAt: at(0)}
		if err := q.CreateRule(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	live, disabled, ofOff := rule("live", on, true), rule("disabled", on, false), rule("of-off", off, true)

	got, err := q.GetRule(ctx, live.ID)
	if err != nil || !slices.Equal(got.Events, live.Events) || !slices.Equal(got.ExpiryDays, []int{30, 7}) ||
		got.CertificateLabels["env"] != "prod" || !got.Enabled || got.NotifierID != on.ID {
		t.Errorf("GetRule = %+v, %v", got, err)
	}
	active, err := q.ActiveRules(ctx)
	if err != nil || len(active) != 1 || active[0].ID != live.ID || active[0].NotifierType != "webhook" {
		t.Errorf("ActiveRules = %+v, %v; want only %s", active, err, live.Name)
	}
	disabled.Enabled, disabled.Events, disabled.UpdatedAt = true, []string{"certificate.issued"}, at(2)
	if err := q.UpdateRule(ctx, disabled); err != nil {
		t.Fatal(err)
	}
	if active, _ = q.ActiveRules(ctx); len(active) != 2 {
		t.Errorf("after enabling a rule: %d active", len(active))
	}
	wantCode(t, "updating an unknown rule", q.UpdateRule(ctx, core.NotificationRule{ID: uuid.New(), NotifierID: on.ID,
		Events: []string{}, ExpiryDays: []int{}, CertificateLabels: map[string]string{}}), core.ENOTFOUND)
	items, more, err := q.ListRules(ctx, core.Page{Limit: 2})
	if err != nil || !more || len(items) != 2 || items[0].ID != live.ID {
		t.Errorf("ListRules = %+v, %v, %v", items, more, err)
	}

	if err := q.DeleteNotifier(ctx, off.ID); err != nil {
		t.Fatal(err)
	}
	_, err = q.GetRule(ctx, ofOff.ID)
	wantCode(t, "a rule of a deleted notifier", err, core.ENOTFOUND)
	if err := q.DeleteRule(ctx, live.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "deleting twice", q.DeleteRule(ctx, live.ID), core.ENOTFOUND)
}

// TestNotifications: a notification is recorded once per dedupe key, each
// delivery attempt counted, sent_at set when sent; lists filter by status,
// event and certificate, newest first.
func TestNotifications(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	cert := createCertificate(t, q, "www", createIssuer(t, q, "ca").ID)
	mk := func(event, key string) (core.Notification, bool) {
		n := core.Notification{ID: newID(t), Event: event, CertificateID: &cert.ID, DedupeKey: key,
			Status: core.NotificationPending, NextAttemptAt: ptr(at(0)), Payload: map[string]any{"k": key}, CreatedAt: at(0)}
		inserted, err := q.InsertNotification(ctx, n)
		if err != nil {
			t.Fatal(err)
		}
		return n, inserted
	}
	issued, ok := mk("certificate.issued", "issued-1")
	if !ok {
		t.Fatal("the first notification was not inserted")
	}
	if _, ok := mk("certificate.issued", "issued-1"); ok {
		t.Error("a second notification with the same dedupe key was inserted")
	}
	expiring, _ := mk("certificate.expiring", "expiring-30")

	next := at(5)
	if err := q.SetNotificationStatus(ctx, issued.ID, core.NotificationRetrying, "HTTP 503", &next, at(1)); err != nil {
		t.Fatal(err)
	}
	if err := q.SetNotificationStatus(ctx, issued.ID, core.NotificationSent, "", nil, at(6)); err != nil {
		t.Fatal(err)
	}
	got, err := q.GetNotification(ctx, issued.ID)
	if err != nil || got.Status != core.NotificationSent || got.Attempts != 2 || got.SentAt == nil || !got.SentAt.Equal(at(6)) ||
		got.NextAttemptAt != nil || got.LastError != "" || got.Payload["k"] != "issued-1" {
		t.Errorf("after two attempts = %+v, %v", got, err)
	}

	for _, tt := range []struct {
		what string
		f    core.NotificationFilter
		want []uuid.UUID
	}{
		{"all", core.NotificationFilter{}, []uuid.UUID{expiring.ID, issued.ID}},
		{"sent", core.NotificationFilter{Status: core.NotificationSent}, []uuid.UUID{issued.ID}},
		{"expiring", core.NotificationFilter{Event: "certificate.expiring"}, []uuid.UUID{expiring.ID}},
		{"of the certificate", core.NotificationFilter{CertificateID: &cert.ID}, []uuid.UUID{expiring.ID, issued.ID}},
		{"of another", core.NotificationFilter{CertificateID: ptr(uuid.New())}, nil},
	} {
		tt.f.Limit = 10
		items, _, err := q.ListNotifications(ctx, tt.f)
		var ids []uuid.UUID
		for _, n := range items {
			ids = append(ids, n.ID)
		}
		if err != nil || !slices.Equal(ids, tt.want) {
			t.Errorf("ListNotifications %s = %v, %v; want %v", tt.what, ids, err, tt.want)
		}
	}
}

// TestExpiringCertificates: a certificate is expiring at a threshold when
// its current version ends within it, its lifetime is more than twice the
// threshold, it is live, and it was not announced at that threshold or a
// smaller one.
func TestExpiringCertificates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	iss := createIssuer(t, q, "ca")
	now := at(0).Add(80 * 24 * time.Hour)
	current := func(name string, lifetime time.Duration) core.Certificate {
		c := createCertificate(t, q, name, iss.ID)
		v := core.CertificateVersion{ID: newID(t), CertificateID: c.ID, SerialNumber: name, FingerprintSHA256: name,
			SANs: []string{}, NotBefore: now.Add(20*24*time.Hour - lifetime), NotAfter: now.Add(20 * 24 * time.Hour),
			IssuerID: &iss.ID, Status: core.VersionActive, CreatedAt: at(0)}
		if err := q.CreateVersion(ctx, v, "", nil); err != nil {
			t.Fatal(err)
		}
		if err := q.MakeVersionCurrent(ctx, c.ID, v.ID, v.NotAfter, v.NotAfter, at(0)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	long := current("long", 100*24*time.Hour) // ends in 20 days, lives 100
	current("short", 45*24*time.Hour)         // ends in 20 days, lives 45: not "expiring within 30"
	createCertificate(t, q, "never-issued", iss.ID)

	names := func(days int) []string {
		t.Helper()
		cs, err := q.ExpiringCertificates(ctx, now, days, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	if got := names(30); !slices.Equal(got, []string{"long"}) {
		t.Errorf("expiring within 30 days: %v, want [long]", got)
	}
	if got := names(10); len(got) != 0 {
		t.Errorf("expiring within 10 days: %v, want none", got)
	}
	if err := q.SetExpiryAlerted(ctx, long.ID, 30); err != nil {
		t.Fatal(err)
	}
	if got := names(30); len(got) != 0 {
		t.Errorf("after announcing at 30 days: %v, want none", got)
	}
	if got := names(21); !slices.Equal(got, []string{"long", "short"}) {
		t.Errorf("expiring within 21 days: %v, want [long short] (a smaller threshold is announced again)", got)
	}
}

// TestCertificateAgent: the agent of a certificate is that of its targets,
// or none.
func TestCertificateAgent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	q := newStore(t).Q()
	iss := createIssuer(t, q, "ca")
	agent := createAgent(t, q, "web", "linux")
	bound := core.Target{ID: newID(t), Name: "t", Type: "nginx", AgentID: &agent.ID, Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)}
	loose := core.Target{ID: newID(t), Name: "f5", Type: "f5", Config: map[string]any{}, CreatedAt: at(0), UpdatedAt: at(0)}
	for _, tg := range []core.Target{bound, loose} {
		if err := q.CreateTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
	}
	c := core.Certificate{ID: newID(t), Name: "www", CommonName: "www.example.com", SANs: []string{}, IssuerID: iss.ID,
		TargetIDs: []uuid.UUID{loose.ID, bound.ID}, KeyType: "ecdsa-p256", KeyMode: core.KeyModeAgent, Status: core.CertPending,
		Labels: map[string]string{}, CreatedAt: at(0), UpdatedAt: at(0)}
	if err := q.CreateCertificate(ctx, c); err != nil {
		t.Fatal(err)
	}
	if got, err := q.CertificateAgent(ctx, c.ID); err != nil || got == nil || *got != agent.ID {
		t.Errorf("CertificateAgent = %v, %v; want %s", got, err, agent.ID)
	}
	lone := createCertificate(t, q, "lone", iss.ID)
	if got, err := q.CertificateAgent(ctx, lone.ID); err != nil || got != nil {
		t.Errorf("CertificateAgent of a certificate without targets = %v, %v", got, err)
	}
}
