package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

// The agent's side of the API. A Client for an agent is made with its
// credential in place of an API key: client.New(url, client.WithAPIKey(credential)).

// EnrollAgent exchanges a single-use enrollment token for an agent identity
// and its credential (shown once). It needs no key.
func (c *Client) EnrollAgent(ctx context.Context, req api.AgentEnrollRequest) (*api.AgentEnrollResponse, error) {
	return call[api.AgentEnrollResponse](ctx, c, http.MethodPost, "/api/v1/agent/enroll", req)
}

// Heartbeat reports the agent's facts.
func (c *Client) Heartbeat(ctx context.Context, facts api.AgentFacts) (*api.AgentHeartbeatResponse, error) {
	return call[api.AgentHeartbeatResponse](ctx, c, http.MethodPost, "/api/v1/agent/heartbeat", facts)
}

// AgentWork long-polls for the agent's work, waiting up to wait (at most
// 50 s) for some to arrive.
func (c *Client) AgentWork(ctx context.Context, wait time.Duration) (*api.AgentWork, error) {
	out := new(api.AgentWork)
	q := url.Values{}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/agent/work", query: q}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// AgentWorkResending long-polls as AgentWork does, and also asks the
// server to hand out again the deployments it leased to this agent that
// the agent has not reported: the answer that handed one out may never
// have arrived (the server died after it, the connection broke). For an
// agent that does one item at a time and recognises, by its job id, a
// deployment it has done already (report it again rather than deploy
// twice); certctl-agent polls this way.
func (c *Client) AgentWorkResending(ctx context.Context, wait time.Duration) (*api.AgentWork, error) {
	out := new(api.AgentWork)
	q := url.Values{"resend": {"true"}}
	if wait > 0 {
		q.Set("wait", wait.String())
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/agent/work", query: q}, out); err != nil {
		return nil, err
	}
	return out, nil
}

// SubmitAgentCSR sends the CSR the agent made for one of its jobs.
func (c *Client) SubmitAgentCSR(ctx context.Context, jobID string, csrPEM []byte) (*api.Job, error) {
	p, err := apiPath("/agent/jobs/%s/csr", "job id", jobID)
	if err != nil {
		return nil, err
	}
	return call[api.Job](ctx, c, http.MethodPost, p, api.CSRRequest{CSRPEM: string(csrPEM)})
}

// ReportDeployment reports the outcome of a deploy job the agent took.
func (c *Client) ReportDeployment(ctx context.Context, jobID string, result api.AgentDeployResult) error {
	p, err := apiPath("/agent/jobs/%s/result", "job id", jobID)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodPost, path: p, body: result}, nil)
}

// ReportChallenges answers http-01 work: the HTTP-01 challenge tokens the
// agent now serves (report.Present) or no longer serves, or why it cannot.
func (c *Client) ReportChallenges(ctx context.Context, jobID string, report api.AgentChallengeReport) error {
	p, err := apiPath("/agent/jobs/%s/challenges", "job id", jobID)
	if err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodPost, path: p, body: report}, nil)
}

// RotateAgentCredential gets a new credential; the old one stops working.
func (c *Client) RotateAgentCredential(ctx context.Context) (*api.AgentCredentialResponse, error) {
	return call[api.AgentCredentialResponse](ctx, c, http.MethodPost, "/api/v1/agent/credential", nil)
}
