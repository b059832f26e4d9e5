package core

import (
	"time"

	"github.com/google/uuid"
)

// Job kinds.
const (
	JobIssue  = "issue"  // the first version of a certificate, or one after its declaration changed
	JobRenew  = "renew"  // the next version before the current one expires
	JobRevoke = "revoke" // revoke a version through its issuer
	JobDeploy = "deploy" // deliver a version to a target (run by the target's agent)
	JobNotify = "notify" // deliver a notification through a notifier
)

// JobKinds lists every kind.
var JobKinds = []string{JobIssue, JobRenew, JobRevoke, JobDeploy, JobNotify}

// Job states. A job is live while queued, running, waiting or retrying.
const (
	JobQueued    = "queued"    // ready to run at RunAt
	JobRunning   = "running"   // a worker holds its lease
	JobWaiting   = "waiting"   // waits for something from outside (an agent's CSR)
	JobRetrying  = "retrying"  // failed, will run again at RunAt
	JobSucceeded = "succeeded" // done
	JobFailed    = "failed"    // gave up after MaxAttempts, or failed for good
	JobCancelled = "cancelled" // stopped by an operator
)

// JobStates lists every state.
var JobStates = []string{JobQueued, JobRunning, JobWaiting, JobRetrying, JobSucceeded, JobFailed, JobCancelled}

// Job is a unit of durable work.
type Job struct {
	ID             uuid.UUID
	Kind           string
	State          string
	CertificateID  *uuid.UUID
	TargetID       *uuid.UUID
	AgentID        *uuid.UUID
	Payload        JobPayload
	Attempt        int
	MaxAttempts    int
	RunAt          time.Time
	LeaseOwner     string
	LeaseExpiresAt *time.Time
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FinishedAt     *time.Time
	// Facts are read with the job where it is shown, to say what it waits
	// for; WaitingFor is that, set by the service ("" when not waiting).
	Facts      *JobFacts
	WaitingFor string
}

// JobFacts are the current facts a live job's progress depends on.
type JobFacts struct {
	AgentName            string // "" when the job has no agent
	AgentStatus          string
	AgentLastHeartbeatAt *time.Time
	TargetName           string // "" when the job has no target
}

// JobPayload is what a job needs beyond its references.
type JobPayload struct {
	SpecRevision   int64      `json:"spec_revision,omitempty"`
	CSRPEM         string     `json:"csr_pem,omitempty"`         // agent key mode: the agent's CSR
	VersionID      *uuid.UUID `json:"version_id,omitempty"`      // revoke, deploy
	Reason         int        `json:"reason,omitempty"`          // revoke: RFC 5280 reason code
	NotificationID *uuid.UUID `json:"notification_id,omitempty"` // notify
	Trigger        string     `json:"trigger,omitempty"`         // why the job exists: created, updated, due, manual, ...

	// An issuance whose CA answered "pending" (an ACME order) keeps what
	// resumes the same order after a restart: the order, since when it is
	// pending, and in server key mode the CSR (ServerCSRPEM) and its private key,
	// sealed with the server's encryption key (context "job:<id>"), so that
	// every later call finalizes with the same key.
	OrderID      string     `json:"order_id,omitempty"`
	PendingSince *time.Time `json:"pending_since,omitempty"`
	ServerCSRPEM string     `json:"server_csr_pem,omitempty"`
	SealedKey    []byte     `json:"sealed_key,omitempty"`
	// AwaitingChallenges are the names whose HTTP-01 challenges the job's
	// agent is asked to present: the job waits for its report.
	AwaitingChallenges []string `json:"awaiting_challenges,omitempty"`
}

// ClearOrder forgets a pending order: the next run starts a new one (with
// the same key and CSR, if the payload keeps them).
func (p *JobPayload) ClearOrder() {
	p.OrderID, p.PendingSince, p.AwaitingChallenges = "", nil, nil
}

// Challenge states (http01_challenges.state).
const (
	ChallengePending   = "pending"   // the agent is asked to serve it
	ChallengePresented = "presented" // served
	ChallengeCleanup   = "cleanup"   // the job ended: the agent must stop serving it
)

// Challenge is an ACME HTTP-01 challenge an issuance job presents, by the
// server's responder (AgentID nil) or by an agent.
type Challenge struct {
	JobID            uuid.UUID
	Token            string
	Identifier       string
	KeyAuthorization string
	AgentID          *uuid.UUID
	State            string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// JobFilter selects jobs.
type JobFilter struct {
	Page
	Kind          string
	State         string
	CertificateID *uuid.UUID
}

// Renewal policy modes.
const (
	PolicyFraction   = "fraction"    // renew when a fraction of the lifetime remains
	PolicyDaysBefore = "days_before" // renew a number of days before expiry
)

// RenewalPolicy says when certificates that follow it are renewed.
type RenewalPolicy struct {
	ID               uuid.UUID
	Name             string
	Mode             string
	RenewFraction    float64 // fraction mode: renew when this much of the lifetime remains
	DaysBeforeExpiry int     // days_before mode
	JitterFraction   float64 // spread renewals earlier by up to this fraction of the lifetime
	ReuseKey         bool    // keep the key across renewals (agent key mode)
	UseIssuerWindow  bool    // follow the CA's renewal window (ACME ARI) when it gives one
	IsDefault        bool
	CreatedAt        time.Time
	UpdatedAt        time.Time
}
