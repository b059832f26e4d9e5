package httpapi

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

func (s *Server) listCertificates(w http.ResponseWriter, r *http.Request) error {
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	f := core.CertificateFilter{Page: page, Status: r.URL.Query().Get("status"), NamePrefix: r.URL.Query().Get("name_prefix")}
	if f.IssuerID, err = queryID(r, "issuer_id"); err != nil {
		return err
	}
	if f.TargetID, err = queryID(r, "target_id"); err != nil {
		return err
	}
	if f.ExpiringBefore, err = queryTime(r, "expiring_before"); err != nil {
		return err
	}
	f.DeploymentHealth = r.URL.Query().Get("deployment_health")
	items, more, err := s.svc.ListCertificates(r.Context(), f)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(c core.Certificate) uuid.UUID { return c.ID }, toCertificate))
	return nil
}

func certificateInput(req api.CertificateRequest) (service.CertificateInput, error) {
	in := service.CertificateInput{Name: req.Name, CommonName: req.CommonName, SANs: req.SANs, KeyType: req.KeyType,
		KeyMode: req.KeyMode, Labels: req.Labels, Profile: req.Profile}
	if req.IssuerID == "" {
		return in, core.Invalid("issuer_id", "is required")
	}
	var err error
	if in.IssuerID, err = parseID("issuer_id", req.IssuerID); err != nil {
		return in, err
	}
	if in.RenewalPolicyID, err = optionalID("renewal_policy_id", req.RenewalPolicyID); err != nil {
		return in, err
	}
	for i, raw := range req.TargetIDs {
		id, err := parseID(fmt.Sprintf("target_ids[%d]", i), raw)
		if err != nil {
			return in, err
		}
		in.TargetIDs = append(in.TargetIDs, id)
	}
	return in, nil
}

func (s *Server) createCertificate(w http.ResponseWriter, r *http.Request) error {
	var req api.CertificateRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := certificateInput(req)
	if err != nil {
		return err
	}
	c, err := s.svc.CreateCertificate(r.Context(), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/v1/certificates/"+c.ID.String())
	encode(w, http.StatusCreated, toCertificate(c))
	return nil
}

func (s *Server) getCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	d, err := queryWait(r)
	if err != nil {
		return err
	}
	wait, changed, stop := s.prepareWait(w, id, d)
	defer stop()
	c, err := s.svc.WaitCertificate(r.Context(), id, wait, changed)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toCertificate(c))
	return nil
}

func (s *Server) updateCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.CertificateRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	in, err := certificateInput(req)
	if err != nil {
		return err
	}
	c, err := s.svc.UpdateCertificate(r.Context(), id, in)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toCertificate(c))
	return nil
}

func (s *Server) deleteCertificate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteCertificate(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listVersions(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, more, err := s.svc.ListVersions(r.Context(), id, page)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(v core.CertificateVersion) uuid.UUID { return v.ID }, toVersion))
	return nil
}

func (s *Server) getVersion(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	versionID, err := pathID(r, "version_id")
	if err != nil {
		return err
	}
	v, err := s.svc.GetVersion(r.Context(), id, versionID)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toVersion(v))
	return nil
}

func (s *Server) listDeployments(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	page, err := queryPage(r)
	if err != nil {
		return err
	}
	items, more, err := s.svc.ListDeployments(r.Context(), id, page)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, list(items, more, func(d core.Deployment) uuid.UUID { return d.ID }, toDeployment))
	return nil
}
