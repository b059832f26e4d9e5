package core

import (
	"time"

	"github.com/google/uuid"
)

// NotificationRule routes lifecycle events to a notifier.
type NotificationRule struct {
	ID                uuid.UUID
	Name              string
	NotifierID        uuid.UUID
	Events            []string          // event names, or "*" for all
	ExpiryDays        []int             // thresholds for certificate.expiring
	CertificateLabels map[string]string // only certificates with all these labels
	Enabled           bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

// Notification delivery statuses.
const (
	NotificationPending    = "pending"     // waiting for its first delivery
	NotificationSent       = "sent"        // delivered
	NotificationRetrying   = "retrying"    // a delivery failed; will try again
	NotificationDead       = "dead"        // gave up: the dead-letter state
	NotificationNoNotifier = "no_notifier" // nothing was configured to receive it
)

// Notification is one event for one notifier, and its delivery state.
type Notification struct {
	ID            uuid.UUID
	Event         string
	NotifierID    *uuid.UUID
	RuleID        *uuid.UUID
	CertificateID *uuid.UUID
	AgentID       *uuid.UUID
	DedupeKey     string
	Status        string
	Attempts      int
	NextAttemptAt *time.Time
	LastError     string
	Payload       map[string]any
	CreatedAt     time.Time
	UpdatedAt     time.Time
	SentAt        *time.Time
}

// NotificationFilter selects notifications.
type NotificationFilter struct {
	Page
	Status        string
	Event         string
	CertificateID *uuid.UUID
}
