package httpapi

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// acmeChallengePath is where ACME CAs fetch HTTP-01 responses (RFC 8555 §8.3).
const acmeChallengePath = "/.well-known/acme-challenge/"

// acmeChallenge is the server's HTTP-01 responder: the key authorization
// of a challenge a live issuance job presents through the server, as
// text/plain, from the database (any replica answers); 404 otherwise. It
// needs no credential: the CA calls it.
func (s *Server) acmeChallenge(w http.ResponseWriter, r *http.Request) error {
	token := mux.Vars(r)["token"] // the main router
	if token == "" {
		token = r.PathValue("token") // HTTP01Handler
	}
	ka, ok, err := s.svc.ChallengeResponse(r.Context(), token)
	if err != nil {
		return err
	}
	if !ok {
		return core.Errorf(core.ENOTFOUND, "no challenge with this token")
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Length", strconv.Itoa(len(ka)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(ka)) // the CA may have gone; nothing to do about it
	return nil
}

// HTTP01Handler serves only the HTTP-01 responder, for a listener of its
// own (--http01-listen, e.g. ":80", where CAs connect): everything else
// is 404 there.
func (s *Server) HTTP01Handler() http.Handler {
	m := http.NewServeMux()
	m.Handle("GET "+acmeChallengePath+"{token}", s.h(s.acmeChallenge))
	m.Handle("/", s.notFound())
	return m
}

// maxChallengeTokens bounds the tokens of one challenge report.
const maxChallengeTokens = 100

func (s *Server) agentReportChallenges(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	var req api.AgentChallengeReport
	if err := decode(r, &req); err != nil {
		return err
	}
	if len(req.Tokens) > maxChallengeTokens {
		return core.Invalid("tokens", "holds more than %d tokens", maxChallengeTokens)
	}
	rep := service.ChallengeReport{Present: req.Present, Tokens: req.Tokens, Error: cutText(req.Error, maxReportMessage)}
	if err := s.svc.ReportChallenges(r.Context(), id, rep); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// agentChallenges converts a work item's challenges.
func agentChallenges(cs []core.Challenge) []api.AgentChallenge {
	out := make([]api.AgentChallenge, 0, len(cs))
	for _, c := range cs {
		out = append(out, api.AgentChallenge{Identifier: c.Identifier, Token: c.Token, KeyAuthorization: c.KeyAuthorization})
	}
	return out
}
