package httpapi

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// renewCertificate starts a renewal (or first issuance) now.
func (s *Server) renewCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	j, err := s.svc.RenewCertificate(r.Context(), id)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/jobs/"+j.ID.String())
	encode(w, http.StatusAccepted, toJob(j))
	return nil
}

func (s *Server) bulkRenew(w http.ResponseWriter, r *http.Request) error {
	var req api.BulkRenewRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	f, err := bulkFilter(req.Status, req.IssuerID, req.TargetID, req.ExpiringBefore, req.NamePrefix)
	if err != nil {
		return err
	}
	res, err := s.svc.RenewCertificates(r.Context(), f)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toBulkResult(res))
	return nil
}

func (s *Server) revokeCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.RevokeRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	in := service.RevokeInput{}
	if in.Reason, err = revocationReason("reason", req.Reason); err != nil {
		return err
	}
	if in.VersionID, err = optionalID("version_id", req.VersionID); err != nil {
		return err
	}
	j, err := s.svc.RevokeCertificate(r.Context(), id, in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/jobs/"+j.ID.String())
	encode(w, http.StatusAccepted, toJob(j))
	return nil
}

func (s *Server) bulkRevoke(w http.ResponseWriter, r *http.Request) error {
	var req api.BulkRevokeRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	f, err := bulkFilter(req.Status, req.IssuerID, req.TargetID, req.ExpiringBefore, req.NamePrefix)
	if err != nil {
		return err
	}
	reason, err := revocationReason("reason", req.Reason)
	if err != nil {
		return err
	}
	res, err := s.svc.RevokeCertificates(r.Context(), f, reason)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toBulkResult(res))
	return nil
}

// bulkFilter checks the filter of a bulk action; the service insists on
// at least one.
func bulkFilter(status string, issuerID, targetID *string, expiringBefore *time.Time, namePrefix string) (core.CertificateFilter, error) {
	f := core.CertificateFilter{Status: status, ExpiringBefore: expiringBefore, NamePrefix: namePrefix}
	if status != "" {
		if err := core.ValidateOneOf("status", status, core.CertificateStatuses); err != nil {
			return f, err
		}
	}
	var err error
	if f.IssuerID, err = optionalID("issuer_id", issuerID); err != nil {
		return f, err
	}
	if f.TargetID, err = optionalID("target_id", targetID); err != nil {
		return f, err
	}
	return f, nil
}

// revocationReasonNames lists the reason names in code order, for messages.
var revocationReasonNames = func() []string {
	names := make([]string, 0, len(api.RevocationReasons))
	for n := range api.RevocationReasons {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return api.RevocationReasons[a] - api.RevocationReasons[b] })
	return names
}()

// revocationReason reads an RFC 5280 reason given by name (any case) or
// code; empty means unspecified (0).
func revocationReason(field string, r api.RevocationReason) (int, error) {
	raw := strings.TrimSpace(string(r))
	if raw == "" {
		return 0, nil
	}
	for name, code := range api.RevocationReasons {
		if strings.EqualFold(name, raw) {
			return code, nil
		}
	}
	if n, err := strconv.Atoi(raw); err == nil {
		for _, code := range api.RevocationReasons {
			if code == n {
				return n, nil
			}
		}
	}
	return 0, core.Invalid(field, "%q is not a revocation reason: use one of %s, or its RFC 5280 code (0-6, 8-10)",
		raw, strings.Join(revocationReasonNames, ", "))
}

// decodeOptional is decode for bodies that may be left out: an empty body
// leaves v as it is.
func decodeOptional(r *http.Request, v any) error {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	br := bufio.NewReader(r.Body)
	if _, err := br.Peek(1); err == io.EOF {
		return nil
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{br, r.Body}
	return decode(r, v)
}

func (s *Server) explainRenewal(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	e, err := s.svc.ExplainRenewal(r.Context(), id)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toRenewalExplanation(e))
	return nil
}

// exportPrivateKey sends the key of a version whose key the server holds,
// to an admin: PEM, or PKCS#12 with its generated password in a header.
func (s *Server) exportPrivateKey(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	versionID, err := pathID(r, "version_id")
	if err != nil {
		return err
	}
	out, err := s.svc.ExportPrivateKey(r.Context(), id, versionID, r.URL.Query().Get("format"))
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Type", out.ContentType)
	ext := ".pem"
	if out.Format == "pkcs12" {
		ext = ".p12"
		h.Set("X-Certctl-PKCS12-Password", out.Password)
	}
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", versionID.String()+ext))
	h.Set("Content-Length", strconv.Itoa(len(out.Data)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out.Data) // the client may have gone; nothing to do about it
	return nil
}
