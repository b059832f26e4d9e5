// Package plugin is certctl's connector SDK: what an issuer, target or
// notifier plugin implements (the Issuer, Target and Notifier interfaces),
// the one call its main makes (Serve), and what a host uses to run a plugin
// binary and call it through the same interfaces (Open).
//
// Plugins are separate executables that speak gRPC with their host through
// hashicorp/go-plugin, over a Unix socket secured with automatic mutual
// TLS. A crashing or hanging plugin cannot take its host down, and anyone
// can write one in Go with this package (or in another language from the
// protocol in proto/).
//
// A plugin embeds the Unimplemented type of its kind (UnimplementedIssuer,
// UnimplementedTarget, UnimplementedNotifier) and implements Info and the
// methods it supports, so that a method added to an interface later does
// not break its build. Every method takes one request struct and returns
// a result struct, so that fields can be added the same way.
//
// Configuration travels as JSON objects (Config). Each plugin describes its
// configuration with a Schema; hosts validate and redact configuration with
// it before the plugin sees it, and plugins check it further in
// ValidateConfig. A plugin declares its configuration as a Go struct with
// tags, from which SchemaFrom makes the Schema and DecodeConfig reads the
// values. Errors cross the process boundary with a Code so that the host
// can tell a bad configuration from a failure worth retrying.
//
// The SDK is a Go module of its own, github.com/certctl/certctl/sdk (the
// sdk directory of certctl's repository), versioned apart from certctl with
// tags sdk/vX.Y.Z. It requires nothing of certctl's server: a plugin that
// depends on it with
//
//	go get github.com/certctl/certctl/sdk@<version>
//
// gets go-plugin, gRPC, protobuf and a few golang.org/x modules, and needs
// Go 1.26 or later. docs/plugins.md in the repository says more, and how
// to write, test and build a plugin.
package plugin

import (
	"context"
	"time"
)

// Kind is the kind of connector a plugin provides.
type Kind string

// The three kinds of connector.
const (
	KindIssuer   Kind = "issuer"
	KindTarget   Kind = "target"
	KindNotifier Kind = "notifier"
)

// Kinds lists every kind.
var Kinds = []Kind{KindIssuer, KindTarget, KindNotifier}

// ProtocolVersion is the version of the plugin protocol this SDK speaks.
// A host and a plugin agree on the highest version both support.
const ProtocolVersion = 1

// Info describes a plugin.
type Info struct {
	Name             string // the connector type users write, e.g. "local", "nginx", "webhook"
	Kind             Kind
	Version          string // the plugin's own version, e.g. "1.2.0"
	Description      string
	ProtocolVersions []int // filled by Serve
	Schema           Schema
}

// Plugin is what every plugin implements.
type Plugin interface {
	// Info describes the plugin. It must not depend on configuration.
	Info(ctx context.Context) (Info, error)
	// ValidateConfig checks a configuration that already satisfies the
	// plugin's schema (types, required fields and defaults applied). It
	// returns an *Error with CodeInvalidConfig, naming the field, when the
	// configuration cannot work. It may reach out (e.g. to check that a CA
	// answers) but must honour ctx.
	ValidateConfig(ctx context.Context, req ValidateConfigRequest) error
}

// Every method that takes more than a context takes one request struct,
// and every result but an error is a struct, so that a later SDK can add
// a field without breaking the source of a plugin or a host.

// ValidateConfigRequest asks a plugin to check a configuration.
type ValidateConfigRequest struct {
	Config Config
}

// Issuer is a certificate authority connector. Every Config a host passes
// to an issuer (Provision, IssueCertificate, ...) has been normalised with
// the plugin's Schema: defaults applied, types as declared.
type Issuer interface {
	Plugin
	// Provision prepares an issuer's configuration and returns the one to
	// store, e.g. with a generated CA certificate and key. The host calls it
	// when the issuer is created and again on every update, so it must be
	// idempotent: a configuration that is already provisioned comes back
	// unchanged. Most issuers have nothing to prepare and leave it to
	// UnimplementedIssuer: certctl's server stores the configuration as it
	// is when Provision answers CodeUnimplemented. The host stores fields
	// marked sensitive encrypted.
	Provision(ctx context.Context, req ProvisionRequest) (ProvisionResult, error)
	// IssueCertificate issues a certificate for a CSR. A CA that issues
	// asynchronously returns Status Pending; the host then calls
	// IssueCertificate again later with the same IdempotencyKey, which the
	// issuer uses to find its order rather than start another.
	IssueCertificate(ctx context.Context, req IssueRequest) (IssueResult, error)
	// RenewCertificate issues the next certificate of a series. A CA
	// without a renewal operation of its own leaves it to
	// UnimplementedIssuer: certctl's server then renews with
	// IssueCertificate, as it does whenever RenewCertificate answers
	// CodeUnimplemented.
	RenewCertificate(ctx context.Context, req RenewRequest) (IssueResult, error)
	// RevokeCertificate revokes a certificate by serial number. certctl's
	// server calls it from a revoke job, and on success or CodeUnimplemented
	// records the revocation itself and lists it in every later CRLRequest.
	// So a CA that keeps no state of its own checks the request and returns
	// nil; one with a revocation operation (ACME, Vault) calls it. The job
	// may repeat a call that succeeded: revoking a revoked serial succeeds.
	RevokeCertificate(ctx context.Context, req RevokeRequest) error
	// GetOrderStatus reports on an order IssueCertificate left pending:
	// certctl's server asks it before continuing an order, and takes the
	// certificate of an order already issued. An issuer that never answers
	// StatusPending leaves it to UnimplementedIssuer.
	GetOrderStatus(ctx context.Context, req OrderStatusRequest) (IssueResult, error)
	// SignCRL produces a DER-encoded CRL listing the revoked certificates,
	// for issuers whose CA certctl holds (the local CA). Others return an
	// error with CodeUnimplemented, and the server then publishes no CRL
	// for the issuer. certctl's server calls it when its CRL endpoint is
	// fetched and the stored CRL is missing, past half its life, or older
	// than a revocation (and at least 10 seconds old); req is complete:
	// every unexpired revoked certificate of the issuer.
	SignCRL(ctx context.Context, req CRLRequest) (CRLResult, error)
}

// ProvisionRequest asks an issuer to prepare a configuration.
type ProvisionRequest struct {
	Config Config
}

// ProvisionResult is the configuration to store.
type ProvisionResult struct {
	Config Config
}

// OrderStatusRequest asks about an order IssueCertificate left pending.
type OrderStatusRequest struct {
	Config  Config
	OrderID string // IssueResult.OrderID of the pending answer
}

// IssueRequest asks for a certificate.
type IssueRequest struct {
	Config     Config
	CSR        []byte   // DER-encoded PKCS#10 request; its signature is checked by the host
	CommonName string   // as declared; the CSR carries the same
	SANs       []string // DNS names, IP addresses, e-mail addresses and URIs, as declared
	// Profile is an issuer-specific certificate profile: certctl's server
	// sends the certificate's "profile" field, "" when it names none (then
	// use the configuration's, or the CA's default).
	//
	// There is no lifetime: certctl's renewal policies say when to renew,
	// not how long a certificate lives, so an issuer takes the lifetime
	// from its configuration (a "validity" field, or the CA's default).
	// The protocol's IssueRequest.validity field is unused.
	Profile string
	// IdempotencyKey is the same for retries of one logical request, so an
	// issuer that can (ACME orders, ...) never issues twice.
	IdempotencyKey string
	// Now is the host's current time. An issuer that signs certificates
	// itself (the local CA) dates them from it when set, so that validity
	// follows the control plane's clock.
	Now time.Time
	// OrderID is the order an earlier call with this IdempotencyKey left
	// pending (IssueResult.OrderID): continue it rather than start
	// another. The host keeps it durably, so an order survives a restart
	// of the plugin or the server. Before such a call the host asks
	// GetOrderStatus, and uses the certificate if the order is issued.
	OrderID string
	// PresentedChallenges are the tokens of challenges, from an earlier
	// IssueResult.Challenges, that the host now presents (serves where the
	// names point): the issuer may ask the CA to validate them.
	PresentedChallenges []string
}

// RenewRequest asks for the next certificate of a series.
type RenewRequest struct {
	IssueRequest
	PreviousSerial         string // hexadecimal serial of the certificate being replaced
	PreviousCertificatePEM string
}

// Order statuses of an IssueResult.
const (
	StatusIssued  = "issued"
	StatusPending = "pending"
)

// IssueResult is an issued certificate, or a pending order.
type IssueResult struct {
	Status         string // StatusIssued or StatusPending
	CertificatePEM string // the leaf certificate
	ChainPEM       string // intermediates up to (not including) the root, then the root if the CA wants it served
	OrderID        string // for StatusPending: sent back as IssueRequest.OrderID
	// RetryAfter, for StatusPending, is when to call again; the host
	// waits at least a second and at most an hour, and a pending result
	// does not count as a failed attempt.
	RetryAfter time.Duration
	// Challenges, for StatusPending, are proofs of control the host must
	// present before it calls again with their tokens in
	// IssueRequest.PresentedChallenges. An issuer that solves its
	// challenges itself (DNS-01 through a DNS provider) returns none.
	Challenges []Challenge
	// RenewalWindow is the CA's suggested renewal window (ACME ARI), if any.
	RenewalWindowStart, RenewalWindowEnd time.Time
}

// Challenge types a host presents.
const (
	// ChallengeHTTP01 is ACME's HTTP-01 (RFC 8555 §8.3): the host serves
	// KeyAuthorization as the body of
	// http://<Identifier>/.well-known/acme-challenge/<Token>.
	ChallengeHTTP01 = "http-01"
)

// Challenge solvers: who presents an HTTP-01 challenge.
const (
	SolverAuto   = ""       // the host decides: the agent of the certificate's targets, else the server
	SolverAgent  = "agent"  // the agent that owns the certificate's targets, on that host
	SolverServer = "server" // certctl's server, for names that point at it
)

// Challenge is a proof of control that the CA asks for and the issuer
// cannot give itself.
type Challenge struct {
	Type             string // ChallengeHTTP01
	Identifier       string // the DNS name being validated
	Token            string
	KeyAuthorization string
	Solver           string // SolverAuto, SolverAgent or SolverServer
}

// RFC 5280 CRLReason codes for RevokeRequest.Reason (7 is not used).
const (
	ReasonUnspecified          = 0
	ReasonKeyCompromise        = 1
	ReasonCACompromise         = 2
	ReasonAffiliationChanged   = 3
	ReasonSuperseded           = 4
	ReasonCessationOfOperation = 5
	ReasonCertificateHold      = 6
	ReasonRemoveFromCRL        = 8
	ReasonPrivilegeWithdrawn   = 9
	ReasonAACompromise         = 10
)

// ValidReason reports whether code is an RFC 5280 CRLReason.
func ValidReason(code int) bool { return code >= 0 && code <= 10 && code != 7 }

// RevokeRequest revokes a certificate.
type RevokeRequest struct {
	Config         Config
	SerialNumber   string // hexadecimal
	Reason         int    // RFC 5280 CRLReason code
	CertificatePEM string
}

// RevokedCertificate is one entry of a CRL.
type RevokedCertificate struct {
	SerialNumber string // hexadecimal
	RevokedAt    time.Time
	Reason       int
}

// CRLRequest asks an issuer to sign a CRL.
type CRLRequest struct {
	Config     Config
	Number     int64 // the CRL number, increasing
	ThisUpdate time.Time
	NextUpdate time.Time
	Revoked    []RevokedCertificate
}

// CRLResult is a signed CRL.
type CRLResult struct {
	DER []byte // the CRL, DER-encoded
}

// Target is a deployment connector: it puts a certificate where it is
// served and checks that it is.
type Target interface {
	Plugin
	// DeployCertificate installs a certificate, its chain and key. It must
	// be idempotent (deploying what is already there succeeds and reports
	// Changed false), leave the previous certificate in place when it
	// fails, honour ctx, and never log the key. With DryRun it checks
	// configuration, paths, permissions and reachability and changes nothing.
	DeployCertificate(ctx context.Context, req DeployRequest) (DeployResult, error)
	// ValidateDeployment checks that what is live is the certificate with
	// the given serial, e.g. with a TLS handshake.
	ValidateDeployment(ctx context.Context, req ValidateDeploymentRequest) (ValidateDeploymentResult, error)
}

// DeployRequest installs a certificate.
type DeployRequest struct {
	Config         Config
	CertificatePEM string
	ChainPEM       string
	PrivateKeyPEM  string
	Metadata       map[string]string // certificate name, version id, ...
	DryRun         bool
}

// DeployResult says what a deployment did.
type DeployResult struct {
	Changed  bool
	Message  string
	Metadata map[string]string // target address, duration, files written, ...
}

// ValidateDeploymentRequest asks what is live.
type ValidateDeploymentRequest struct {
	Config       Config
	SerialNumber string // hexadecimal, the serial expected live
}

// ValidateDeploymentResult is what was found live.
type ValidateDeploymentResult struct {
	Valid        bool
	ServedSerial string
	Message      string
}

// Notifier is a notification connector.
type Notifier interface {
	Plugin
	// SendAlert delivers something that needs attention (a certificate
	// about to expire, a failed renewal or deployment, an agent offline).
	SendAlert(ctx context.Context, req SendRequest) (SendResult, error)
	// SendEvent delivers an informational event (issued, renewed, revoked).
	SendEvent(ctx context.Context, req SendRequest) (SendResult, error)
}

// SendRequest asks a notifier to deliver one notification.
type SendRequest struct {
	Config       Config
	Notification Notification
}

// Severities of a Notification.
const (
	SeverityInfo     = "info"
	SeverityWarning  = "warning"
	SeverityCritical = "critical"
)

// Notification is one alert or event.
type Notification struct {
	ID         string    `json:"id"`    // stable across retries: receivers use it to drop duplicates
	Event      string    `json:"event"` // e.g. "certificate.expiring", "certificate.renewed"
	Severity   string    `json:"severity"`
	Title      string    `json:"title"`
	Message    string    `json:"message"`
	OccurredAt time.Time `json:"occurred_at"`
	URL        string    `json:"url,omitempty"` // a link to the resource in certctl, if known
	// Certificate fields, when the notification is about one.
	CertificateID   string    `json:"certificate_id,omitempty"`
	CertificateName string    `json:"certificate_name,omitempty"`
	CommonName      string    `json:"common_name,omitempty"`
	SANs            []string  `json:"sans,omitempty"`
	SerialNumber    string    `json:"serial_number,omitempty"`
	NotAfter        time.Time `json:"not_after,omitzero"`
	// Other context (agent, target, days left, error, ...).
	Details map[string]string `json:"details,omitempty"`
}

// SendResult is what a notifier reports after delivery.
type SendResult struct {
	MessageID string // the receiving service's id, if it gives one
}
