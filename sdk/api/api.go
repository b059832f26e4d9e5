// Package api holds the JSON wire types of certctl's REST API (/api/v1):
// what the server sends and accepts, shared by the server, sdk/client,
// the CLI and the Terraform provider. It imports nothing of the project.
//
// Conventions: snake_case fields; ids are UUID strings; times are RFC 3339;
// lists are {"items": [...], "next_cursor": "..."} where next_cursor is null
// on the last page; errors are {"error": {"code": "...", "message": "..."}}.
package api

import "time"

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
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	CommonName       string            `json:"common_name"`
	SANs             []string          `json:"sans"`
	IssuerID         string            `json:"issuer_id"`
	TargetIDs        []string          `json:"target_ids"`
	KeyType          string            `json:"key_type"`
	KeyMode          string            `json:"key_mode"`
	RenewalPolicyID  *string           `json:"renewal_policy_id"`
	Status           string            `json:"status"`
	Labels           map[string]string `json:"labels"`
	CurrentVersionID *string           `json:"current_version_id"`
	NotAfter         *time.Time        `json:"not_after"`
	NextRenewalAt    *time.Time        `json:"next_renewal_at"`
	CreatedAt        time.Time         `json:"created_at"`
	UpdatedAt        time.Time         `json:"updated_at"`
}

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
	CreatedAt         time.Time  `json:"created_at"`
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
