package core

import (
	"time"

	"github.com/google/uuid"
)

// Bulk operation kinds.
const (
	// OperationReissue re-issues (and so redeploys) every certificate a
	// filter selects, optionally from another issuer: a CA distrusted, a
	// key compromised.
	OperationReissue = "reissue"
)

// Bulk operation statuses.
const (
	OperationRunning   = "running"
	OperationDone      = "done"
	OperationCancelled = "cancelled"
	OperationFailed    = "failed"
)

// OperationStatuses lists the statuses of a bulk operation.
var OperationStatuses = []string{OperationRunning, OperationDone, OperationCancelled, OperationFailed}

// OperationFilter is the certificate filter an operation walks, as stored.
type OperationFilter struct {
	Status         string     `json:"status,omitempty"`
	IssuerID       *uuid.UUID `json:"issuer_id,omitempty"`
	TargetID       *uuid.UUID `json:"target_id,omitempty"`
	ExpiringBefore *time.Time `json:"expiring_before,omitempty"`
	NamePrefix     string     `json:"name_prefix,omitempty"`
}

// Empty reports whether the filter selects everything.
func (f OperationFilter) Empty() bool {
	return f.Status == "" && f.IssuerID == nil && f.TargetID == nil && f.ExpiringBefore == nil && f.NamePrefix == ""
}

// Operation is a durable bulk action over certificates, driven in the
// background by one server replica at a time.
type Operation struct {
	ID            uuid.UUID
	Kind          string
	Status        string
	Filter        OperationFilter
	ToIssuerID    *uuid.UUID
	Reason        string
	MaxPerSecond  *float64
	CreatedBy     string // the actor's id
	CreatedByName string
	CursorID      *uuid.UUID
	UntilID       *uuid.UUID
	WalkEndedAt   *time.Time
	// EstimatedTotal is how many certificates the filter matched when
	// the operation began.
	EstimatedTotal int
	Matched        int // certificates the walk reached
	Started        int // jobs it created
	Adopted        int // live issuances not yet started that it took over
	Skipped        int // revoked certificates, which are never re-issued
	Deferred       int // waiting for an issuance already running to end
	LastError      string
	LeaseOwner     string
	LeaseExpiresAt *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FinishedAt     *time.Time
	Progress       OperationProgress
}

// OperationProgress counts an operation's jobs and the deployments of
// the versions they issued.
type OperationProgress struct {
	Outstanding       int // queued, waiting, running or retrying
	Issued            int // succeeded
	Failed            int
	Cancelled         int
	DeploymentsDone   int
	DeploymentsFailed int
	DeploymentsActive int // pending or in progress
}
