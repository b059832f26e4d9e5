package httpapi

import (
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// The agent API: enrollment (with a token), then calls authenticated with
// the agent's own credential. API keys are not accepted here, and agent
// credentials are not accepted anywhere else.

// maxAgentWait bounds a long poll.
const maxAgentWait = 50 * time.Second // under the server's 60 s write timeout

func agentFacts(f api.AgentFacts) (service.AgentFacts, error) {
	out := service.AgentFacts{OS: f.OS, Arch: f.Arch, Hostname: f.Hostname, AgentVersion: f.AgentVersion,
		UptimeSeconds: f.UptimeSeconds}
	if f.IPAddress != "" {
		ip, err := netip.ParseAddr(f.IPAddress)
		if err != nil {
			return out, core.Invalid("ip_address", "%q is not an IP address", f.IPAddress)
		}
		out.IPAddress = &ip
	}
	for _, p := range f.Plugins {
		out.Plugins = append(out.Plugins, core.AgentPlugin(p))
	}
	for field, v := range map[string]string{"os": f.OS, "arch": f.Arch, "hostname": f.Hostname, "agent_version": f.AgentVersion} {
		if len(v) > 255 {
			return out, core.Invalid(field, "is longer than 255 characters")
		}
	}
	return out, nil
}

func (s *Server) agentEnroll(w http.ResponseWriter, r *http.Request) error {
	var req api.AgentEnrollRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.Token == "" {
		return core.Invalid("token", "is required")
	}
	facts, err := agentFacts(req.Facts)
	if err != nil {
		return err
	}
	a, credential, err := s.svc.Enroll(r.Context(), req.Token, req.Name, facts)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusCreated, api.AgentEnrollResponse{Agent: toAgent(a), Credential: credential})
	return nil
}

// authenticateAgent resolves an agent credential into the agent's actor.
func (s *Server) authenticateAgent(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret := apiKeyOf(r)
		if !service.IsAgentCredential(secret) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="certctl-agent"`)
			writeError(w, r, s.logger, core.Errorf(core.EUNAUTHORIZED, "an agent credential is required (Authorization: Bearer cca_...)"))
			return
		}
		actor, err := s.svc.AuthenticateAgent(r.Context(), secret)
		if err != nil {
			writeError(w, r, s.logger, err)
			return
		}
		infoFrom(r.Context()).actor = actor.Type + ":" + actor.Name
		next.ServeHTTP(w, r.WithContext(core.WithActor(r.Context(), actor)))
	})
}

func (s *Server) agentHeartbeat(w http.ResponseWriter, r *http.Request) error {
	var req api.AgentFacts
	if err := decode(r, &req); err != nil {
		return err
	}
	facts, err := agentFacts(req)
	if err != nil {
		return err
	}
	a, err := s.svc.Heartbeat(r.Context(), facts)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, api.AgentHeartbeatResponse{Agent: toAgent(a), ServerTime: time.Now().UTC(),
		HeartbeatIntervalSeconds: int(service.HeartbeatInterval / time.Second)})
	return nil
}

func (s *Server) agentRotateCredential(w http.ResponseWriter, r *http.Request) error {
	secret, err := s.svc.RotateAgentCredential(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusOK, api.AgentCredentialResponse{Credential: secret})
	return nil
}

func (s *Server) agentWork(w http.ResponseWriter, r *http.Request) error {
	wait := time.Duration(0)
	if raw := r.URL.Query().Get("wait"); raw != "" {
		d, err := time.ParseDuration(raw)
		if err != nil || d < 0 || d > maxAgentWait {
			return core.Invalid("wait", "must be a duration from 0s to %s", maxAgentWait)
		}
		wait = d
	}
	resend := false
	if raw := r.URL.Query().Get("resend"); raw != "" {
		b, err := strconv.ParseBool(raw)
		if err != nil {
			return core.Invalid("resend", "must be true or false")
		}
		resend = b
	}
	items, ww, err := s.svc.PollAgentWork(r.Context(), wait, resend, s.hub)
	if err != nil {
		return err
	}
	if ww != nil {
		if s.parkPoll(w, r, ww) {
			return nil // answered later, off this goroutine (park.go)
		}
		if items, err = ww.Wait(r.Context()); err != nil {
			return err
		}
	}
	writeAgentWork(w, items)
	return nil
}

// writeAgentWork writes an agent's work as the API shows it.
func writeAgentWork(w http.ResponseWriter, items []service.WorkItem) {
	out := api.AgentWork{Items: []api.AgentWorkItem{}}
	for _, it := range items {
		wi := api.AgentWorkItem{JobID: it.Job.ID.String(), Kind: api.AgentWorkCSR, ReuseKey: it.ReuseKey,
			Certificate: api.AgentWorkCertificate{ID: it.Certificate.ID.String(), Name: it.Certificate.Name,
				CommonName: it.Certificate.CommonName, SANs: emptyIfNil(it.Certificate.SANs), KeyType: it.Certificate.KeyType}}
		if it.HTTP01 {
			wi.Kind, wi.Present, wi.Challenges = api.AgentWorkHTTP01, it.Present, agentChallenges(it.Challenges)
			wi.ReuseKey = false
		} else if it.Job.Kind == core.JobDeploy {
			wi.Kind = api.AgentWorkDeploy
			v := toVersion(*it.Version)
			wi.Version = &v
			wi.Target = &api.AgentWorkTarget{ID: it.Target.ID.String(), Name: it.Target.Name, Type: it.Target.Type, Config: it.Config}
		}
		out.Items = append(out.Items, wi)
	}
	w.Header().Set("Cache-Control", "no-store")
	encode(w, http.StatusOK, out)
}

func (s *Server) agentSubmitCSR(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.CSRRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	j, err := s.svc.SubmitCSR(r.Context(), id, req.CSRPEM)
	if err != nil {
		return err
	}
	encode(w, http.StatusOK, toJob(j))
	return nil
}

// maxReportMessage bounds the message kept from an agent's deployment report.
const maxReportMessage = 64 << 10

// deployReport is what the server keeps of an agent's deployment report.
func deployReport(req api.AgentDeployResult) service.DeployReport {
	msg := cutText(req.Message, maxReportMessage)
	return service.DeployReport{Succeeded: req.Succeeded, Message: msg, Metadata: req.Metadata,
		ServedSerial: strings.ToLower(req.ServedSerial), Verified: req.Verified}
}

// cutText returns the longest prefix of s of at most n bytes that does not
// cut a character in two: half a character is not UTF-8, which the
// database refuses.
func cutText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func (s *Server) agentReportDeployment(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.AgentDeployResult
	if err := decode(r, &req); err != nil {
		return err
	}
	if err := s.svc.ReportDeployment(r.Context(), id, deployReport(req)); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
