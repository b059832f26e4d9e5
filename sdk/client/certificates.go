package client

// certificates.go: managed certificates, their versions and deployments,
// renewal and revocation, and private key export (/api/v1/certificates).

import (
	"context"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

// CertificateListOptions filter and page ListCertificates. Filters combine
// with AND; zero values are ignored.
type CertificateListOptions struct {
	Status         string    // pending, issuing, active, renewing, failed, expired, revoked
	IssuerID       string    // issued by this issuer
	TargetID       string    // deployed to this target
	ExpiringBefore time.Time // whose current version expires before this time
	NamePrefix     string    // whose name starts with this
	// DeploymentHealth: api.DeploymentHealthFailed, DeploymentHealthPending
	// or DeploymentHealthSucceeded (see api.DeploymentHealth).
	DeploymentHealth string
	Limit            int
	Cursor           string
}

// ListCertificates returns a page of certificates, oldest first.
func (c *Client) ListCertificates(ctx context.Context, opts CertificateListOptions) (api.List[api.Certificate], error) {
	q := ListOptions{Limit: opts.Limit, Cursor: opts.Cursor}.values()
	setString(q, "status", opts.Status)
	setString(q, "issuer_id", opts.IssuerID)
	setString(q, "target_id", opts.TargetID)
	setTime(q, "expiring_before", opts.ExpiringBefore)
	setString(q, "name_prefix", opts.NamePrefix)
	setString(q, "deployment_health", opts.DeploymentHealth)
	return listPage[api.Certificate](ctx, c, "/api/v1/certificates", q)
}

// AllCertificates iterates over every certificate that opts select, page by
// page.
func (c *Client) AllCertificates(ctx context.Context, opts CertificateListOptions) iter.Seq2[api.Certificate, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.Certificate], error) {
		opts.Cursor = cursor
		return c.ListCertificates(ctx, opts)
	})
}

// CreateCertificate declares a managed certificate; its first issuance
// starts at once (the reply's Status is "issuing").
func (c *Client) CreateCertificate(ctx context.Context, req api.CertificateRequest) (*api.Certificate, error) {
	return call[api.Certificate](ctx, c, http.MethodPost, "/api/v1/certificates", req)
}

// GetCertificate returns the certificate with id.
func (c *Client) GetCertificate(ctx context.Context, id string) (*api.Certificate, error) {
	p, err := apiPath("/certificates/%s", "certificate id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Certificate](ctx, c, http.MethodGet, p, nil)
}

// WaitCertificate returns the certificate with id once it is settled (no
// issuance, renewal, revocation or deployment of it under way that can
// progress), or when d is over, whichever comes first: the server answers
// with the current state either way. d is at most MaxWait; 0 answers at
// once, like GetCertificate.
func (c *Client) WaitCertificate(ctx context.Context, id string, d time.Duration) (*api.Certificate, error) {
	p, err := apiPath("/certificates/%s", "certificate id", id)
	if err != nil {
		return nil, err
	}
	q, err := waitQuery(d)
	if err != nil {
		return nil, err
	}
	out := new(api.Certificate)
	if err := c.do(ctx, request{method: http.MethodGet, path: p, query: q, wait: d}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// UpdateCertificate replaces a certificate's declaration: fields left out
// take their defaults, not their current values. To change some fields
// and keep the rest (the profile included), start from
// CertificateRequestFrom of the current certificate.
func (c *Client) UpdateCertificate(ctx context.Context, id string, req api.CertificateRequest) (*api.Certificate, error) {
	p, err := apiPath("/certificates/%s", "certificate id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Certificate](ctx, c, http.MethodPut, p, req)
}

// CertificateRequestFrom is the declaration of c as it stands, for a
// read-modify-write UpdateCertificate that changes only what the caller
// sets afterwards. Slices and maps are copies, so changing them leaves c
// alone.
func CertificateRequestFrom(c api.Certificate) api.CertificateRequest {
	var policy *string
	if c.RenewalPolicyID != nil {
		p := *c.RenewalPolicyID
		policy = &p
	}
	return api.CertificateRequest{
		Name: c.Name, CommonName: c.CommonName, SANs: slices.Clone(c.SANs), IssuerID: c.IssuerID,
		TargetIDs: slices.Clone(c.TargetIDs), KeyType: c.KeyType, KeyMode: c.KeyMode, RenewalPolicyID: policy,
		Labels: maps.Clone(c.Labels), Profile: c.Profile,
	}
}

// DeleteCertificate deletes a certificate with its versions and deployment
// records. Files already deployed stay where they are.
func (c *Client) DeleteCertificate(ctx context.Context, id string) error {
	p, err := apiPath("/certificates/%s", "certificate id", id)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodDelete, path: p}, nil)
}

// ListCertificateVersions returns a page of a certificate's issued
// versions, newest first.
func (c *Client) ListCertificateVersions(ctx context.Context, certificateID string, opts ListOptions) (api.List[api.CertificateVersion], error) {
	p, err := apiPath("/certificates/%s/versions", "certificate id", certificateID)
	if err != nil {
		return api.List[api.CertificateVersion]{}, err
	}
	return listPage[api.CertificateVersion](ctx, c, p, opts.values())
}

// AllCertificateVersions iterates over every version of a certificate,
// newest first.
func (c *Client) AllCertificateVersions(ctx context.Context, certificateID string, opts ListOptions) iter.Seq2[api.CertificateVersion, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.CertificateVersion], error) {
		opts.Cursor = cursor
		return c.ListCertificateVersions(ctx, certificateID, opts)
	})
}

// GetCertificateVersion returns one version of a certificate.
func (c *Client) GetCertificateVersion(ctx context.Context, certificateID, versionID string) (*api.CertificateVersion, error) {
	p, err := apiPath("/certificates/%s/versions/%s", "certificate id", certificateID, "version id", versionID)
	if err != nil {
		return nil, err
	}
	return call[api.CertificateVersion](ctx, c, http.MethodGet, p, nil)
}

// ListDeployments returns a page of a certificate's deployments, newest
// first.
func (c *Client) ListDeployments(ctx context.Context, certificateID string, opts ListOptions) (api.List[api.Deployment], error) {
	p, err := apiPath("/certificates/%s/deployments", "certificate id", certificateID)
	if err != nil {
		return api.List[api.Deployment]{}, err
	}
	return listPage[api.Deployment](ctx, c, p, opts.values())
}

// AllDeployments iterates over every deployment of a certificate, newest
// first.
func (c *Client) AllDeployments(ctx context.Context, certificateID string, opts ListOptions) iter.Seq2[api.Deployment, error] {
	return pager(ctx, opts.Cursor, func(cursor string) (api.List[api.Deployment], error) {
		opts.Cursor = cursor
		return c.ListDeployments(ctx, certificateID, opts)
	})
}

// ExplainRenewal says when and why a certificate renews next.
func (c *Client) ExplainRenewal(ctx context.Context, certificateID string) (*api.RenewalExplanation, error) {
	p, err := apiPath("/certificates/%s/renewal", "certificate id", certificateID)
	if err != nil {
		return nil, err
	}
	return call[api.RenewalExplanation](ctx, c, http.MethodGet, p, nil)
}

// RenewCertificate starts a renewal now (or the first issuance of a
// certificate never issued) and returns its job. An issuance already under
// way, or a revoked certificate, is a conflict.
func (c *Client) RenewCertificate(ctx context.Context, id string) (*api.Job, error) {
	p, err := apiPath("/certificates/%s/renew", "certificate id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Job](ctx, c, http.MethodPost, p, nil)
}

// RevokeCertificate revokes a version of a certificate (the current one
// unless req.VersionID says otherwise) and returns the revoke job.
func (c *Client) RevokeCertificate(ctx context.Context, id string, req api.RevokeRequest) (*api.Job, error) {
	p, err := apiPath("/certificates/%s/revoke", "certificate id", id)
	if err != nil {
		return nil, err
	}
	return call[api.Job](ctx, c, http.MethodPost, p, req)
}

// BulkRenewCertificates renews every certificate the filter in req selects
// (at least one filter is required).
func (c *Client) BulkRenewCertificates(ctx context.Context, req api.BulkRenewRequest) (*api.BulkResult, error) {
	return call[api.BulkResult](ctx, c, http.MethodPost, "/api/v1/certificates/renew", req)
}

// BulkRevokeCertificates revokes the current version of every certificate
// the filter in req selects (at least one filter is required).
func (c *Client) BulkRevokeCertificates(ctx context.Context, req api.BulkRevokeRequest) (*api.BulkResult, error) {
	return call[api.BulkResult](ctx, c, http.MethodPost, "/api/v1/certificates/revoke", req)
}

// Formats of ExportPrivateKey.
const (
	// KeyFormatPEM is the key (a PKCS#8 "PRIVATE KEY" block), then the
	// certificate and its chain.
	KeyFormatPEM = "pem"
	// KeyFormatPKCS12 is a PKCS#12 file with key, certificate and chain,
	// protected by a password generated for this export.
	KeyFormatPKCS12 = "pkcs12"
)

// maxExport bounds the size of an exported key file.
const maxExport = 16 << 20

// PrivateKeyExport is a private key the server handed out. It formats
// itself without its secrets, so that printing or logging it by mistake
// does not leak the key.
type PrivateKeyExport struct {
	// Format is KeyFormatPEM or KeyFormatPKCS12.
	Format string
	// ContentType is the reply's media type (application/x-pem-file,
	// application/x-pkcs12).
	ContentType string
	// Data is the file: PEM text or PKCS#12 bytes.
	Data []byte
	// Password opens a PKCS#12 file (from the X-Certctl-PKCS12-Password
	// header); empty for PEM.
	Password string
}

// String describes the export without its secrets.
func (k PrivateKeyExport) String() string {
	return fmt.Sprintf("PrivateKeyExport{Format: %q, ContentType: %q, Data: <%d bytes redacted>, Password: <redacted>}",
		k.Format, k.ContentType, len(k.Data))
}

// GoString is String, for %#v.
func (k PrivateKeyExport) GoString() string { return k.String() }

// LogValue keeps the secrets out of slog records.
func (k PrivateKeyExport) LogValue() slog.Value {
	return slog.GroupValue(slog.String("format", k.Format), slog.String("content_type", k.ContentType),
		slog.Int("bytes", len(k.Data)))
}

// ExportPrivateKey returns the private key of a version whose key the
// server holds (server key mode), with its certificate and chain, in format
// (KeyFormatPEM, KeyFormatPKCS12, or "" for PEM). Admin only; every export
// is recorded in the audit trail. A version whose key the server does not
// hold (agent key mode) is IsNotFound.
func (c *Client) ExportPrivateKey(ctx context.Context, certificateID, versionID, format string) (*PrivateKeyExport, error) {
	p, err := apiPath("/certificates/%s/versions/%s/private-key", "certificate id", certificateID, "version id", versionID)
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	setString(q, "format", format)
	data, h, err := c.doRaw(ctx, request{method: http.MethodGet, path: p, query: q,
		accept: "application/x-pem-file, application/x-pkcs12, application/json"}, maxExport)
	if err != nil {
		return nil, err
	}
	out := &PrivateKeyExport{Format: KeyFormatPEM, ContentType: h.Get("Content-Type"), Data: data}
	if pw := h.Get("X-Certctl-PKCS12-Password"); pw != "" || format == KeyFormatPKCS12 || out.ContentType == "application/x-pkcs12" {
		out.Format, out.Password = KeyFormatPKCS12, pw
	}
	return out, nil
}
