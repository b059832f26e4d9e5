package core

import (
	"net/netip"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/keys"
)

// Issuer is a configured certificate authority connector: an instance of an
// issuer plugin (its Type) with its configuration.
type Issuer struct {
	ID        uuid.UUID
	Name      string
	Type      string
	Config    map[string]any // the fields its plugin does not mark sensitive
	Secret    Sealed         // the sensitive fields, encrypted
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Sealed holds a connector's sensitive configuration fields: their names,
// and their values encrypted as one JSON object (nil when there are none).
type Sealed struct {
	Fields     []string
	Ciphertext []byte
}

// Target is a place a certificate is deployed to, reached by an agent
// through a target plugin (its Type).
type Target struct {
	ID        uuid.UUID
	Name      string
	Type      string
	AgentID   *uuid.UUID
	Config    map[string]any
	Secret    Sealed
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Notifier is a configured notification connector: an instance of a
// notifier plugin (its Type) with its configuration.
type Notifier struct {
	ID        uuid.UUID
	Name      string
	Type      string
	Config    map[string]any
	Secret    Sealed
	Enabled   bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Agent statuses.
const (
	AgentPending = "pending" // enrolled, no heartbeat yet
	AgentOnline  = "online"
	AgentOffline = "offline"
	AgentRetired = "retired" // refused from now on
)

// Agent is a certctl-agent process on a host, with the facts it reports.
type Agent struct {
	ID              uuid.UUID
	Name            string
	Status          string
	Labels          map[string]string
	OS              string
	Arch            string
	IPAddress       *netip.Addr
	Hostname        string
	AgentVersion    string
	UptimeSeconds   int64
	Plugins         []AgentPlugin
	LastHeartbeatAt *time.Time
	EnrolledAt      time.Time
	RetiredAt       *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// AgentPlugin is a target plugin an agent reports having.
type AgentPlugin struct {
	Name    string `json:"name"`
	Kind    string `json:"kind"`
	Version string `json:"version"`
}

// Key types and modes of managed certificates.
var (
	KeyTypes = keys.Types
	KeyModes = []string{KeyModeAgent, KeyModeServer}
)

const (
	KeyModeAgent  = "agent"  // the key is generated on the agent and never leaves it
	KeyModeServer = "server" // the server generates and keeps the key, encrypted
)

// Certificate statuses.
const (
	CertPending  = "pending"  // declared, never issued yet
	CertIssuing  = "issuing"  // an issuance is in progress
	CertActive   = "active"   // a valid version is current
	CertRenewing = "renewing" // a renewal is in progress
	CertFailed   = "failed"   // the last issuance or renewal failed
	CertExpired  = "expired"  // the current version is past not_after
	CertRevoked  = "revoked"  // the current version was revoked
)

// CertificateStatuses lists every status, for validating filters.
var CertificateStatuses = []string{CertPending, CertIssuing, CertActive, CertRenewing, CertFailed, CertExpired, CertRevoked}

// Certificate is a managed certificate: what the user declared, plus the
// state certctl keeps about it.
type Certificate struct {
	ID              uuid.UUID
	Name            string
	CommonName      string
	SANs            []string
	IssuerID        uuid.UUID
	TargetIDs       []uuid.UUID
	KeyType         string
	KeyMode         string
	RenewalPolicyID *uuid.UUID
	// Profile is the CA's certificate profile to issue with ("" for the
	// issuer's default), sent as IssueRequest.Profile.
	Profile          string
	Status           string
	LastError        string
	Labels           map[string]string
	CurrentVersionID *uuid.UUID
	NotAfter         *time.Time
	NextRenewalAt    *time.Time
	SpecRevision     int64
	// DeploymentHealth sums up the deployments of the current version.
	DeploymentHealth DeploymentHealth
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// DeploymentHealth counts the deployments of a certificate's current
// version to the targets bound to it, by status, with the latest failure.
// The database keeps it up to date with every deployment (see migration
// 00005), so that lists show and filter on it without reading deployments.
type DeploymentHealth struct {
	Total      int
	Pending    int
	InProgress int
	Succeeded  int
	Failed     int
	// LastError is "deploy to target <name>: <message>" of the latest
	// failed deployment, "" when none failed.
	LastError   string
	LastErrorAt *time.Time
}

// ShownLastError is the error a certificate shows: its own (the last
// issuance or renewal error, which is always about a version newer than
// the current one's deployments, since a new current version clears it),
// else the latest failed deployment of its current version.
func (c Certificate) ShownLastError() string {
	if c.LastError != "" {
		return c.LastError
	}
	return c.DeploymentHealth.LastError
}

// Deployment health filters of certificate lists.
const (
	HealthFailed    = "failed"    // at least one deployment failed
	HealthPending   = "pending"   // at least one deployment is pending or in progress
	HealthSucceeded = "succeeded" // every deployment succeeded (and there is at least one)
)

// DeploymentHealthFilters lists the valid deployment_health filters.
var DeploymentHealthFilters = []string{HealthFailed, HealthPending, HealthSucceeded}

// CertificateVersion is one issued certificate of a managed certificate.
type CertificateVersion struct {
	ID                uuid.UUID
	CertificateID     uuid.UUID
	SpecRevision      int64
	SerialNumber      string
	FingerprintSHA256 string
	Subject           string
	SANs              []string
	NotBefore         time.Time
	NotAfter          time.Time
	CertificatePEM    string
	ChainPEM          string
	IssuerID          *uuid.UUID
	JobID             *uuid.UUID
	Status            string
	RevokedAt         *time.Time
	RevocationReason  string
	CreatedAt         time.Time
	// The CA's suggested renewal window (ACME ARI), when it gave one.
	RenewalWindowStart *time.Time
	RenewalWindowEnd   *time.Time
	// HasPrivateKey says the server holds this version's key (server key
	// mode), sealed; it is exported only on an admin's request.
	HasPrivateKey bool
}

// Version statuses.
const (
	VersionActive     = "active"
	VersionSuperseded = "superseded"
	VersionRevoked    = "revoked"
)

// Deployment is the delivery of one certificate version to one target.
type Deployment struct {
	ID            uuid.UUID
	CertificateID uuid.UUID
	VersionID     uuid.UUID
	TargetID      uuid.UUID
	AgentID       *uuid.UUID
	JobID         *uuid.UUID
	Status        string
	Message       string
	Metadata      map[string]any
	VerifiedAt    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	CompletedAt   *time.Time
}

// EnrollmentToken lets one agent enroll, once, before it expires. Only its
// hash is stored; Secret is set only in the answer to its creation.
type EnrollmentToken struct {
	ID            uuid.UUID
	Prefix        string
	Secret        string
	AgentName     string
	Labels        map[string]string
	ExpiresAt     time.Time
	UsedAt        *time.Time
	UsedByAgentID *uuid.UUID
	RevokedAt     *time.Time
	CreatedBy     string
	CreatedAt     time.Time
}

// Roles of API keys, from most to least powerful.
const (
	RoleAdmin    = "admin"    // everything, including API keys and enrollment tokens
	RoleOperator = "operator" // manages issuers, targets, certificates, agents
	RoleViewer   = "viewer"   // reads only
)

// Roles lists the valid roles.
var Roles = []string{RoleAdmin, RoleOperator, RoleViewer}

// APIKey is a credential for the API. Only its hash is stored; Secret is set
// only in the answer to its creation.
type APIKey struct {
	ID         uuid.UUID
	Name       string
	Prefix     string
	Secret     string
	Role       string
	ExpiresAt  *time.Time
	RevokedAt  *time.Time
	LastUsedAt *time.Time
	CreatedBy  string
	CreatedAt  time.Time
}

// Audit outcomes.
const (
	OutcomeSuccess = "success"
	OutcomeFailure = "failure"
	OutcomeDenied  = "denied"
)

// AuditEvent is one entry of the append-only audit trail.
type AuditEvent struct {
	ID           uuid.UUID
	OccurredAt   time.Time
	Actor        string
	ActorType    string
	ActorName    string
	Action       string
	ResourceType string
	ResourceID   string
	Outcome      string
	RequestID    string
	Details      map[string]any
}
