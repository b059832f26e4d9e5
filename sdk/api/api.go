// Package api holds the JSON wire types of certctl's REST API (/api/v1):
// what the server sends and accepts, shared by the server, sdk/client,
// the CLI and the Terraform provider. It imports nothing of the project.
//
// Conventions: snake_case fields; ids are UUID strings; times are RFC 3339;
// lists are {"items": [...], "next_cursor": "..."} where next_cursor is null
// on the last page; errors are {"error": {"code": "...", "message": "..."}}.
package api

import (
	"bytes"
	"encoding/json"
	"reflect"
	"time"
)

// Error codes carried in ErrorDetail.Code.
const (
	CodeConflict             = "conflict"
	CodeForbidden            = "forbidden"
	CodeInternal             = "internal"
	CodeInvalid              = "invalid"
	CodeNotFound             = "not_found"
	CodeTooLarge             = "too_large"
	CodeUnauthorized         = "unauthorized"
	CodeUnavailable          = "unavailable"
	CodeUnsupportedMediaType = "unsupported_media_type"
	CodeMethodNotAllowed     = "method_not_allowed"
)

// ErrorResponse is the body of every error reply.
type ErrorResponse struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong.
type ErrorDetail struct {
	Code      string `json:"code"`
	Message   string `json:"message"`
	Field     string `json:"field,omitempty"`
	RequestID string `json:"request_id,omitempty"`
}

// List is one page of a list.
type List[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// Issuer is a configured CA connector.
type Issuer struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Type   string         `json:"type"`
	Config map[string]any `json:"config"`
	// SecretFields names the sensitive configuration fields that are set;
	// their values are stored encrypted and never returned.
	SecretFields []string  `json:"secret_fields"`
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// IssuerRequest creates (POST) or updates (PUT) an issuer. Type cannot
// change after creation. On update, configuration fields left out keep
// their values and fields set to null return to their defaults.
type IssuerRequest struct {
	Name   string         `json:"name"`
	Type   string         `json:"type"`
	Config map[string]any `json:"config"`
}

// Target is a place certificates are deployed to, through an agent.
type Target struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Type         string         `json:"type"`
	AgentID      *string        `json:"agent_id"`
	Config       map[string]any `json:"config"`
	SecretFields []string       `json:"secret_fields"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

// TargetRequest creates (POST) or updates (PUT) a target. Type cannot
// change after creation; configuration fields work as in IssuerRequest.
type TargetRequest struct {
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	AgentID *string        `json:"agent_id"`
	Config  map[string]any `json:"config"`
}

// Notifier is a configured notification connector.
type Notifier struct {
	ID           string         `json:"id"`
	Name         string         `json:"name"`
	Type         string         `json:"type"`
	Config       map[string]any `json:"config"`
	SecretFields []string       `json:"secret_fields"`
	Enabled      bool           `json:"enabled"`
	CreatedAt    time.Time      `json:"created_at"`
	UpdatedAt    time.Time      `json:"updated_at"`
}

// NotifierRequest creates (POST) or updates (PUT) a notifier; Enabled
// defaults to true. Configuration fields work as in IssuerRequest.
type NotifierRequest struct {
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	Config  map[string]any `json:"config"`
	Enabled *bool          `json:"enabled"`
}

// ConnectorValidation is the answer of POST /api/v1/issuers/validate,
// /targets/validate and /notifiers/validate: the declaration (an
// IssuerRequest, TargetRequest or NotifierRequest) passed every check its
// create (or, with ?id=, its update) would run, and this is the
// configuration the server would store. Nothing was stored or provisioned.
type ConnectorValidation struct {
	Kind string `json:"kind"` // issuer, target or notifier
	Type string `json:"type"`
	// Config is the normalised configuration (defaults applied) without
	// the sensitive fields.
	Config map[string]any `json:"config"`
	// SecretFields names the sensitive fields that are set.
	SecretFields []string `json:"secret_fields"`
}

// NotifierTestResult is the answer to a test notification.
type NotifierTestResult struct {
	Delivered bool   `json:"delivered"`
	MessageID string `json:"message_id"`
}

// Plugin is a connector plugin the server found in its plugin directory.
type Plugin struct {
	Kind         string       `json:"kind"`
	Name         string       `json:"name"`
	Version      string       `json:"version"`
	Description  string       `json:"description"`
	SHA256       string       `json:"sha256"`
	Status       string       `json:"status"`
	Restarts     int          `json:"restarts"`
	LastError    string       `json:"last_error,omitempty"`
	RegisteredAt *time.Time   `json:"registered_at"`
	Schema       PluginSchema `json:"schema"`
}

// PluginSchema describes a plugin's configuration.
type PluginSchema struct {
	Fields []PluginField `json:"fields"`
}

// PluginField is one configuration field of a plugin.
type PluginField struct {
	Name        string   `json:"name"`
	Type        string   `json:"type"`
	Description string   `json:"description"`
	Required    bool     `json:"required"`
	Default     any      `json:"default,omitempty"`
	Sensitive   bool     `json:"sensitive"`
	Enum        []string `json:"enum,omitempty"`
}

// Certificate is a managed certificate.
type Certificate struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	CommonName      string   `json:"common_name"`
	SANs            []string `json:"sans"`
	IssuerID        string   `json:"issuer_id"`
	TargetIDs       []string `json:"target_ids"`
	KeyType         string   `json:"key_type"`
	KeyMode         string   `json:"key_mode"`
	RenewalPolicyID *string  `json:"renewal_policy_id"`
	// Profile is the CA's certificate profile it is issued with (an ACME
	// profile such as "tlsserver"); omitted for the issuer's default.
	Profile          string            `json:"profile,omitempty"`
	Status           string            `json:"status"`
	LastError        string            `json:"last_error"`
	Labels           map[string]string `json:"labels"`
	CurrentVersionID *string           `json:"current_version_id"`
	NotAfter         *time.Time        `json:"not_after"`
	NextRenewalAt    *time.Time        `json:"next_renewal_at"`
	// DeploymentHealth sums up the deployments of the current version.
	DeploymentHealth DeploymentHealth `json:"deployment_health"`
	CreatedAt        time.Time        `json:"created_at"`
	UpdatedAt        time.Time        `json:"updated_at"`
}

// DeploymentHealth counts the deployments of a certificate's current
// version to the targets bound to it, by status (each bound target has at
// most one), with the latest failure. A target bound after the version was
// issued gets the next version, and is not counted until then.
type DeploymentHealth struct {
	Total      int `json:"total"`
	Pending    int `json:"pending"`
	InProgress int `json:"in_progress"`
	Succeeded  int `json:"succeeded"`
	Failed     int `json:"failed"`
	// LastError is "deploy to target <name>: <message>" of the latest failed
	// deployment; "" and LastErrorAt nil when none failed.
	LastError   string     `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
}

// Deployment health filters of the certificate list (deployment_health=).
const (
	DeploymentHealthFailed    = "failed"    // at least one deployment failed
	DeploymentHealthPending   = "pending"   // at least one deployment is pending or in progress
	DeploymentHealthSucceeded = "succeeded" // every deployment succeeded, and there is at least one
)

// CertificateRequest creates (POST) or replaces (PUT) a managed certificate.
// Omitted key_type means ecdsa-p256; omitted key_mode means "agent" when
// the targets are bound to an agent and "server" otherwise.
type CertificateRequest struct {
	Name            string            `json:"name"`
	CommonName      string            `json:"common_name"`
	SANs            []string          `json:"sans"`
	IssuerID        string            `json:"issuer_id"`
	TargetIDs       []string          `json:"target_ids"`
	KeyType         string            `json:"key_type"`
	KeyMode         string            `json:"key_mode"`
	RenewalPolicyID *string           `json:"renewal_policy_id"`
	Labels          map[string]string `json:"labels"`
	// Profile names the CA's certificate profile (an ACME profile such as
	// "tlsserver" or "shortlived"); omitted or "" for the issuer's default.
	// A change applies from the next issuance or renewal.
	Profile string `json:"profile,omitempty"`
}

// CertificateVersion is one issued certificate.
type CertificateVersion struct {
	ID                string     `json:"id"`
	CertificateID     string     `json:"certificate_id"`
	SerialNumber      string     `json:"serial_number"`
	FingerprintSHA256 string     `json:"fingerprint_sha256"`
	Subject           string     `json:"subject"`
	SANs              []string   `json:"sans"`
	NotBefore         time.Time  `json:"not_before"`
	NotAfter          time.Time  `json:"not_after"`
	CertificatePEM    string     `json:"certificate_pem"`
	ChainPEM          string     `json:"chain_pem"`
	IssuerID          *string    `json:"issuer_id"`
	JobID             *string    `json:"job_id"`
	Status            string     `json:"status"`
	RevokedAt         *time.Time `json:"revoked_at"`
	RevocationReason  string     `json:"revocation_reason,omitempty"`
	// HasPrivateKey says the server holds this version's key (server key
	// mode); an admin can export it.
	HasPrivateKey bool `json:"has_private_key"`
	// The CA's suggested renewal window (ACME ARI), when it gave one.
	RenewalWindowStart *time.Time `json:"renewal_window_start"`
	RenewalWindowEnd   *time.Time `json:"renewal_window_end"`
	CreatedAt          time.Time  `json:"created_at"`
}

// Deployment is the delivery of a certificate version to a target.
type Deployment struct {
	ID            string         `json:"id"`
	CertificateID string         `json:"certificate_id"`
	VersionID     string         `json:"version_id"`
	TargetID      string         `json:"target_id"`
	AgentID       *string        `json:"agent_id"`
	JobID         *string        `json:"job_id"`
	Status        string         `json:"status"`
	Message       string         `json:"message"`
	Metadata      map[string]any `json:"metadata"`
	VerifiedAt    *time.Time     `json:"verified_at"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	CompletedAt   *time.Time     `json:"completed_at"`
}

// Job is a unit of durable work: issuing, renewing or revoking a
// certificate, deploying it, delivering a notification.
type Job struct {
	ID            string  `json:"id"`
	Kind          string  `json:"kind"`  // issue, renew, revoke, deploy, notify
	State         string  `json:"state"` // queued, running, waiting, retrying, succeeded, failed, cancelled
	CertificateID *string `json:"certificate_id"`
	TargetID      *string `json:"target_id"`
	AgentID       *string `json:"agent_id"`
	Attempt       int     `json:"attempt"`
	MaxAttempts   int     `json:"max_attempts"`
	// RunAt is when the job runs (next).
	RunAt     time.Time `json:"run_at"`
	LastError string    `json:"last_error"`
	// Trigger says why the job exists: created, updated, due, manual, ...
	Trigger string `json:"trigger"`
	// VersionID is the certificate version a revoke or deploy job is about.
	VersionID *string `json:"version_id"`
	// HasCSR says an issuance job has its agent's CSR (agent key mode).
	HasCSR bool `json:"has_csr"`
	// WaitingFor says why a live job is not progressing ("" when it is not
	// waiting): "target web-1 has no agent", "agent web-01 offline since
	// 2026-12-05T19:00:00Z", "agent web-01 to send a CSR", "agent web-01 to
	// pick it up", "next attempt at ...".
	WaitingFor string `json:"waiting_for"`
	// OrderID is the CA's order an issuance job continues, once its CA
	// answered "pending" (an ACME order URL); omitted otherwise.
	OrderID    string     `json:"order_id,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at"`
}

// CSRRequest hands a waiting issuance job the CSR its agent made
// (PEM, "CERTIFICATE REQUEST").
type CSRRequest struct {
	CSRPEM string `json:"csr_pem"`
}

// RevocationReason is an RFC 5280 CRLReason: its name ("keyCompromise") or
// its code. It is sent as a string; the server also accepts the code as a
// JSON number (1) or a string ("1").
type RevocationReason string

// RevocationReasons maps the names of RFC 5280 revocation reasons to their codes.
var RevocationReasons = map[string]int{
	"unspecified": 0, "keyCompromise": 1, "cACompromise": 2, "affiliationChanged": 3, "superseded": 4,
	"cessationOfOperation": 5, "certificateHold": 6, "removeFromCRL": 8, "privilegeWithdrawn": 9, "aACompromise": 10,
}

// UnmarshalJSON accepts a string or a number (kept as its text, for the
// server to check).
func (r *RevocationReason) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || bytes.Equal(b, []byte("null")) {
		return nil
	}
	switch c := b[0]; {
	case c == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*r = RevocationReason(s)
	case c == '-' || (c >= '0' && c <= '9'):
		*r = RevocationReason(b)
	default:
		kind := map[byte]string{'t': "bool", 'f': "bool", '{': "object", '[': "array"}[c]
		// The field is named here because encoding/json, since Go 1.27, no
		// longer fills it in for an error an UnmarshalJSON method returns;
		// every request carries its reason as "reason".
		return &json.UnmarshalTypeError{Value: kind, Type: reflect.TypeOf(""), Field: "reason"}
	}
	return nil
}

// RevokeRequest revokes a version of a certificate. Reason defaults to
// unspecified; VersionID to the current version.
type RevokeRequest struct {
	Reason    RevocationReason `json:"reason"`
	VersionID *string          `json:"version_id"`
}

// BulkRenewRequest selects the certificates to renew at once; at least
// one filter is required.
type BulkRenewRequest struct {
	Status         string     `json:"status"`
	IssuerID       *string    `json:"issuer_id"`
	TargetID       *string    `json:"target_id"`
	ExpiringBefore *time.Time `json:"expiring_before"`
	NamePrefix     string     `json:"name_prefix"`
}

// BulkRevokeRequest selects the certificates whose current versions to
// revoke; at least one filter is required.
type BulkRevokeRequest struct {
	Status         string           `json:"status"`
	IssuerID       *string          `json:"issuer_id"`
	TargetID       *string          `json:"target_id"`
	ExpiringBefore *time.Time       `json:"expiring_before"`
	NamePrefix     string           `json:"name_prefix"`
	Reason         RevocationReason `json:"reason"`
}

// BulkResult counts what a bulk action did.
type BulkResult struct {
	Matched int      `json:"matched"`
	Started int      `json:"started"`
	Skipped int      `json:"skipped"` // already under way, or nothing to do
	JobIDs  []string `json:"job_ids"`
}

// ReissueRequest re-issues (and so redeploys) every certificate the
// filter selects, at least one filter being required, as one durable
// background operation: POST /api/v1/certificates/reissue answers 202
// with the Operation.
type ReissueRequest struct {
	Status         string     `json:"status"`
	IssuerID       *string    `json:"issuer_id"`
	TargetID       *string    `json:"target_id"`
	ExpiringBefore *time.Time `json:"expiring_before"`
	NamePrefix     string     `json:"name_prefix"`
	// ToIssuerID moves the certificates to this issuer first; omitted,
	// each is re-issued by its own issuer (a key compromise).
	ToIssuerID *string `json:"to_issuer_id"`
	// Reason is free text for the audit trail.
	Reason string `json:"reason"`
	// MaxPerSecond bounds how many issuances start per second (an
	// external CA's rate limit); omitted, only the server's bound of
	// outstanding jobs paces the operation.
	MaxPerSecond *float64 `json:"max_per_second"`
}

// OperationFilter is the certificate filter of an operation.
type OperationFilter struct {
	Status         string     `json:"status,omitempty"`
	IssuerID       *string    `json:"issuer_id,omitempty"`
	TargetID       *string    `json:"target_id,omitempty"`
	ExpiringBefore *time.Time `json:"expiring_before,omitempty"`
	NamePrefix     string     `json:"name_prefix,omitempty"`
}

// Operation is a durable bulk action (GET /api/v1/operations/{id}).
type Operation struct {
	ID           string          `json:"id"`
	Kind         string          `json:"kind"`   // reissue
	Status       string          `json:"status"` // running, done, cancelled, failed
	Filter       OperationFilter `json:"filter"`
	ToIssuerID   *string         `json:"to_issuer_id"`
	Reason       string          `json:"reason"`
	MaxPerSecond *float64        `json:"max_per_second"`
	CreatedBy    string          `json:"created_by"` // the API key's name
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	FinishedAt   *time.Time      `json:"finished_at"`
	LastError    string          `json:"last_error"`
	// Progress counts: the certificates the filter matched when the
	// operation began (estimated_total), those the walk reached
	// (matched), jobs started, live issuances taken over (adopted),
	// revoked certificates skipped, and certificates waiting for an
	// issuance already running to end (deferred).
	EstimatedTotal int  `json:"estimated_total"`
	Matched        int  `json:"matched"`
	Started        int  `json:"started"`
	Adopted        int  `json:"adopted"`
	Skipped        int  `json:"skipped"`
	Deferred       int  `json:"deferred"`
	WalkDone       bool `json:"walk_done"`
	// Counted from the operation's jobs (and the deployments of the
	// versions they issued); GET of one operation fills them, the list
	// leaves them zero.
	Outstanding       int `json:"outstanding"`
	Issued            int `json:"issued"`
	Failed            int `json:"failed"`
	Cancelled         int `json:"cancelled"`
	DeploymentsDone   int `json:"deployments_done"`
	DeploymentsFailed int `json:"deployments_failed"`
	DeploymentsActive int `json:"deployments_active"`
	// Remaining is how many certificates have no outcome yet; Rate the
	// issued per second so far; ETASeconds the estimate of the time left
	// at that rate (omitted until something was issued).
	Remaining  int      `json:"remaining"`
	Rate       float64  `json:"rate"`
	ETASeconds *float64 `json:"eta_seconds"`
	// LeaseOwner names the server replica driving it now ("" when none).
	LeaseOwner string `json:"lease_owner"`
}

// KeyRotation is what POST /api/v1/encryption-key/rotate did.
type KeyRotation struct {
	KeyID          string   `json:"key_id"`
	PreviousKeyIDs []string `json:"previous_key_ids"`
	Resealed       int      `json:"resealed"`
	AlreadyCurrent int      `json:"already_current"`
	Failed         []string `json:"failed"`
	Complete       bool     `json:"complete"`
}

// RenewalExplanation says when and why a certificate renews next.
type RenewalExplanation struct {
	CertificateID string        `json:"certificate_id"`
	Status        string        `json:"status"`
	Policy        RenewalPolicy `json:"policy"`
	NotBefore     *time.Time    `json:"not_before"`
	NotAfter      *time.Time    `json:"not_after"`
	NextRenewalAt *time.Time    `json:"next_renewal_at"`
	Due           bool          `json:"due"`
	Reason        string        `json:"reason"`
	JobID         *string       `json:"job_id"` // the issuance under way, if any
	LastError     string        `json:"last_error"`
}

// RenewalPolicy says when the certificates that follow it are renewed.
type RenewalPolicy struct {
	ID               string    `json:"id"`
	Name             string    `json:"name"`
	Mode             string    `json:"mode"` // fraction or days_before
	RenewFraction    float64   `json:"renew_fraction"`
	DaysBeforeExpiry int       `json:"days_before_expiry"`
	JitterFraction   float64   `json:"jitter_fraction"`
	ReuseKey         bool      `json:"reuse_key"`
	UseIssuerWindow  bool      `json:"use_issuer_window"`
	IsDefault        bool      `json:"is_default"`
	CreatedAt        time.Time `json:"created_at"`
	UpdatedAt        time.Time `json:"updated_at"`
}

// RenewalPolicyRequest creates (POST) or replaces (PUT) a renewal policy.
// JitterFraction defaults to 0.05 and UseIssuerWindow to true.
type RenewalPolicyRequest struct {
	Name             string   `json:"name"`
	Mode             string   `json:"mode"`
	RenewFraction    float64  `json:"renew_fraction"`
	DaysBeforeExpiry int      `json:"days_before_expiry"`
	JitterFraction   *float64 `json:"jitter_fraction"`
	ReuseKey         bool     `json:"reuse_key"`
	UseIssuerWindow  *bool    `json:"use_issuer_window"`
	IsDefault        bool     `json:"is_default"`
}

// NotificationRule routes lifecycle events to a notifier.
type NotificationRule struct {
	ID                string            `json:"id"`
	Name              string            `json:"name"`
	NotifierID        string            `json:"notifier_id"`
	Events            []string          `json:"events"`
	ExpiryDays        []int             `json:"expiry_days"`
	CertificateLabels map[string]string `json:"certificate_labels"`
	Enabled           bool              `json:"enabled"`
	CreatedAt         time.Time         `json:"created_at"`
	UpdatedAt         time.Time         `json:"updated_at"`
}

// NotificationRuleRequest creates (POST) or replaces (PUT) a notification
// rule. ExpiryDays defaults to [30, 14, 7, 1]; Enabled to true on creation
// and to its current value on update.
type NotificationRuleRequest struct {
	Name              string            `json:"name"`
	NotifierID        string            `json:"notifier_id"`
	Events            []string          `json:"events"`
	ExpiryDays        []int             `json:"expiry_days"`
	CertificateLabels map[string]string `json:"certificate_labels"`
	Enabled           *bool             `json:"enabled"`
}

// Notification is one event for one notifier, and its delivery state.
type Notification struct {
	ID            string         `json:"id"`
	Event         string         `json:"event"`
	NotifierID    *string        `json:"notifier_id"`
	RuleID        *string        `json:"rule_id"`
	CertificateID *string        `json:"certificate_id"`
	AgentID       *string        `json:"agent_id"`
	Status        string         `json:"status"` // pending, sent, retrying, dead, no_notifier
	Attempts      int            `json:"attempts"`
	NextAttemptAt *time.Time     `json:"next_attempt_at"`
	LastError     string         `json:"last_error"`
	Payload       map[string]any `json:"payload"`
	CreatedAt     time.Time      `json:"created_at"`
	UpdatedAt     time.Time      `json:"updated_at"`
	SentAt        *time.Time     `json:"sent_at"`
}

// Agent is a certctl-agent with the facts it last reported.
type Agent struct {
	ID              string            `json:"id"`
	Name            string            `json:"name"`
	Status          string            `json:"status"`
	Labels          map[string]string `json:"labels"`
	OS              string            `json:"os"`
	Arch            string            `json:"arch"`
	IPAddress       *string           `json:"ip_address"`
	Hostname        string            `json:"hostname"`
	AgentVersion    string            `json:"agent_version"`
	UptimeSeconds   int64             `json:"uptime_seconds"`
	Plugins         []AgentPlugin     `json:"plugins"`
	LastHeartbeatAt *time.Time        `json:"last_heartbeat_at"`
	EnrolledAt      time.Time         `json:"enrolled_at"`
	RetiredAt       *time.Time        `json:"retired_at"`
	CreatedAt       time.Time         `json:"created_at"`
	UpdatedAt       time.Time         `json:"updated_at"`
}

// AgentPlugin is a plugin an agent has.
type AgentPlugin struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// EnrollmentToken lets one agent enroll once. Token is present only in the
// reply to its creation.
type EnrollmentToken struct {
	ID            string            `json:"id"`
	Token         string            `json:"token,omitempty"`
	Prefix        string            `json:"prefix"`
	AgentName     string            `json:"agent_name,omitempty"`
	Labels        map[string]string `json:"labels"`
	ExpiresAt     time.Time         `json:"expires_at"`
	UsedAt        *time.Time        `json:"used_at"`
	UsedByAgentID *string           `json:"used_by_agent_id"`
	RevokedAt     *time.Time        `json:"revoked_at"`
	CreatedBy     string            `json:"created_by"`
	CreatedAt     time.Time         `json:"created_at"`
}

// EnrollmentTokenRequest creates an enrollment token. TTL is a Go duration
// ("24h", "30m"); the default is 24h and the maximum 30 days.
type EnrollmentTokenRequest struct {
	AgentName string            `json:"agent_name"`
	Labels    map[string]string `json:"labels"`
	TTL       string            `json:"ttl"`
}

// APIKey is an API credential. Key is present only in the reply to its
// creation.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Key        string     `json:"key,omitempty"`
	Prefix     string     `json:"prefix"`
	Role       string     `json:"role"`
	ExpiresAt  *time.Time `json:"expires_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
}

// APIKeyRequest creates an API key.
type APIKeyRequest struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// AuditEvent is one entry of the audit trail.
type AuditEvent struct {
	ID           string         `json:"id"`
	OccurredAt   time.Time      `json:"occurred_at"`
	Actor        string         `json:"actor"`
	ActorType    string         `json:"actor_type"`
	ActorName    string         `json:"actor_name"`
	Action       string         `json:"action"`
	ResourceType string         `json:"resource_type"`
	ResourceID   string         `json:"resource_id"`
	Outcome      string         `json:"outcome"`
	RequestID    string         `json:"request_id"`
	Details      map[string]any `json:"details"`
}

// Health is the body of /healthz and /readyz.
type Health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks,omitempty"`
}

// AgentFacts are what an agent reports about its host, at enrollment and
// in every heartbeat.
type AgentFacts struct {
	OS            string        `json:"os"`
	Arch          string        `json:"arch"`
	IPAddress     string        `json:"ip_address"`
	Hostname      string        `json:"hostname"`
	AgentVersion  string        `json:"agent_version"`
	UptimeSeconds int64         `json:"uptime_seconds"`
	Plugins       []AgentPlugin `json:"plugins"`
}

// AgentEnrollRequest exchanges a single-use enrollment token for an agent
// identity. Name is used when the token does not name the agent.
type AgentEnrollRequest struct {
	Token string     `json:"token"`
	Name  string     `json:"name"`
	Facts AgentFacts `json:"facts"`
}

// AgentEnrollResponse carries the agent's own credential, shown once.
type AgentEnrollResponse struct {
	Agent      Agent  `json:"agent"`
	Credential string `json:"credential"`
}

// AgentHeartbeatResponse tells an agent how the server sees it.
type AgentHeartbeatResponse struct {
	Agent                    Agent     `json:"agent"`
	ServerTime               time.Time `json:"server_time"`
	HeartbeatIntervalSeconds int       `json:"heartbeat_interval_seconds"`
}

// AgentCredentialResponse carries a rotated credential, shown once.
type AgentCredentialResponse struct {
	Credential string `json:"credential"`
}

// AgentWork is the answer to an agent's long poll.
type AgentWork struct {
	Items []AgentWorkItem `json:"items"`
}

// Kinds of agent work.
const (
	AgentWorkCSR    = "csr"    // make a key and send a CSR for the certificate
	AgentWorkDeploy = "deploy" // deploy a version to a target, verify, report
	// AgentWorkHTTP01 asks the agent to serve (Present) or stop serving
	// HTTP-01 challenge responses for an issuance job's names on its host,
	// then to answer POST /api/v1/agent/jobs/{job_id}/challenges with an
	// AgentChallengeReport.
	AgentWorkHTTP01 = "http-01"
)

// AgentChallenge is an ACME HTTP-01 challenge response an agent serves at
// http://<Identifier>/.well-known/acme-challenge/<Token> with
// KeyAuthorization as the body.
type AgentChallenge struct {
	Identifier       string `json:"identifier"`
	Token            string `json:"token"`
	KeyAuthorization string `json:"key_authorization"`
}

// AgentChallengeReport is an agent's answer to http-01 work: the tokens it
// now serves (Present) or no longer serves (cleanup), or why it cannot.
type AgentChallengeReport struct {
	Present bool     `json:"present"` // the work item's Present
	Tokens  []string `json:"tokens"`  // the tokens done
	Error   string   `json:"error,omitempty"`
}

// AgentWorkItem is one thing an agent must do.
type AgentWorkItem struct {
	JobID       string               `json:"job_id"`
	Kind        string               `json:"kind"`
	Certificate AgentWorkCertificate `json:"certificate"`
	ReuseKey    bool                 `json:"reuse_key,omitempty"`
	Version     *CertificateVersion  `json:"version,omitempty"`
	Target      *AgentWorkTarget     `json:"target,omitempty"`
	// http-01 work: the challenges, and whether to start (true) or stop
	// (false) serving them.
	Challenges []AgentChallenge `json:"challenges,omitempty"`
	Present    bool             `json:"present,omitempty"`
}

// AgentWorkCertificate is what an agent needs to know of a certificate.
type AgentWorkCertificate struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	CommonName string   `json:"common_name"`
	SANs       []string `json:"sans"`
	KeyType    string   `json:"key_type"`
}

// AgentWorkTarget is a target with its whole configuration (secrets
// included: the agent's target plugin needs them).
type AgentWorkTarget struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Type   string         `json:"type"`
	Config map[string]any `json:"config"`
}

// AgentDeployResult reports a deployment.
type AgentDeployResult struct {
	Succeeded    bool           `json:"succeeded"`
	Message      string         `json:"message"`
	Metadata     map[string]any `json:"metadata"`
	ServedSerial string         `json:"served_serial"`
	Verified     bool           `json:"verified"`
}
