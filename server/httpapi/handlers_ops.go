package httpapi

import (
	"context"
	"encoding/asn1"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
)

// healthz says the process is up; it checks nothing else.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	encode(w, http.StatusOK, api.Health{Status: "ok"})
	return nil
}

// DegradedPrefix starts a readiness check's value that reports a problem
// without making the server unready (a plugin whose circuit is open).
const DegradedPrefix = "degraded: "

// readyz says whether the server can serve: the database answers and its
// schema is migrated, and the plugins it needs can serve. Each check is
// named in the answer, "ok" or why not, so that whoever reads a 503 sees
// which one failed.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok"}
	var failed []string
	if err := s.ready(ctx); err != nil {
		// The plugins needed are read from the database: not checked.
		checks["database"] = core.ErrorMessage(err)
		failed = append(failed, "database")
	} else if s.plugins != nil {
		plugins, err := s.plugins(ctx)
		if err != nil {
			checks["plugins"] = core.ErrorMessage(err)
			failed = append(failed, "plugins")
		}
		for name, st := range plugins {
			checks[name] = st
			if st != "ok" && !strings.HasPrefix(st, DegradedPrefix) {
				failed = append(failed, name)
			}
		}
	}
	if len(failed) > 0 {
		slices.Sort(failed)
		s.logger.WarnContext(ctx, "not ready", "failed", failed, "checks", checks)
		encode(w, http.StatusServiceUnavailable, api.Health{Status: "unavailable", Checks: checks})
		return nil
	}
	encode(w, http.StatusOK, api.Health{Status: "ok", Checks: checks})
	return nil
}

func (s *Server) openAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDocument)
	return err
}

// crlMaxAge bounds how long caches may keep a CRL, so that a revocation
// shows within minutes even though a CRL is valid for longer.
const crlMaxAge = 300

// crl serves an issuer's CRL (DER), named by the issuer's id or name. No
// authentication: CRLs are public, and relying parties fetch them.
func (s *Server) crl(w http.ResponseWriter, r *http.Request) error {
	der, nextUpdate, err := s.svc.CRL(r.Context(), mux.Vars(r)["issuer"])
	if err != nil {
		return err
	}
	maxAge := min(crlMaxAge, int(time.Until(nextUpdate).Seconds()))
	h := w.Header()
	h.Set("Content-Type", "application/pkix-crl")
	h.Set("Cache-Control", fmt.Sprintf("public, max-age=%d", max(0, maxAge)))
	h.Set("X-Content-Type-Options", "nosniff")
	if thisUpdate, ok := crlThisUpdate(der); ok {
		h.Set("Last-Modified", thisUpdate.UTC().Format(http.TimeFormat))
		if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !thisUpdate.Truncate(time.Second).After(ims) {
			w.WriteHeader(http.StatusNotModified)
			return nil
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(der)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(der) // the client may have gone; nothing to do about it
	}
	return nil
}

// crlThisUpdate reads the thisUpdate time of a DER CRL without parsing its
// entries (RFC 5280 5.1: CertificateList → TBSCertList → version?,
// signature, issuer, thisUpdate). Trailing fields are left unread.
func crlThisUpdate(der []byte) (time.Time, bool) {
	var crl struct {
		TBS struct {
			Version    int `asn1:"optional"`
			Signature  asn1.RawValue
			Issuer     asn1.RawValue
			ThisUpdate time.Time
		}
	}
	if _, err := asn1.Unmarshal(der, &crl); err != nil {
		return time.Time{}, false
	}
	return crl.TBS.ThisUpdate, true
}

func (s *Server) rotateEncryptionKey(w http.ResponseWriter, r *http.Request) error {
	if err := decodeOptional(r, &struct{}{}); err != nil {
		return err
	}
	res, err := s.svc.RotateEncryptionKey(r.Context())
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, api.KeyRotation{KeyID: res.KeyID, PreviousKeyIDs: res.PreviousKeyIDs,
		Resealed: res.Resealed, AlreadyCurrent: res.AlreadyCurrent, Failed: res.Failed, Complete: res.Complete})
	return nil
}
