package console

// API keys and enrollment tokens (admins only, as in the API). A new
// key's or token's secret is shown once, in the answer to the form that
// created it, and never again.

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

type accessData struct {
	Now     time.Time
	Keys    []core.APIKey
	Tokens  []core.EnrollmentToken
	Roles   []string
	Created string // "API key" or "enrollment token" when one was just made
	Name    string
	Secret  string // the new secret, this once
	Error   string
}

func (accessData) title() (string, string) { return "API keys and enrollment tokens", "access" }

func (c *Console) access(w http.ResponseWriter, r *http.Request) {
	c.showAccess(w, r, http.StatusOK, accessData{})
}

func (c *Console) showAccess(w http.ResponseWriter, r *http.Request, status int, d accessData) {
	ctx := r.Context()
	d.Now, d.Roles = c.svc.Now(), core.Roles
	var err error
	if d.Keys, _, err = c.svc.ListAPIKeys(ctx, core.Page{Limit: core.MaxPageLimit}); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Tokens, _, err = c.svc.ListEnrollmentTokens(ctx, core.Page{Limit: core.MaxPageLimit}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, status, "access", d)
}

// accessFailed shows the page again with what went wrong, or an error
// page when the failure is not about the form.
func (c *Console) accessFailed(w http.ResponseWriter, r *http.Request, err error) {
	if core.ErrorCode(err) != core.EINVALID {
		c.fail(w, r, err)
		return
	}
	c.showAccess(w, r, http.StatusUnprocessableEntity, accessData{Error: core.ErrorMessage(err)})
}

func (c *Console) createAPIKey(w http.ResponseWriter, r *http.Request) {
	in := service.APIKeyInput{Name: strings.TrimSpace(r.PostFormValue("name")), Role: r.PostFormValue("role")}
	if v := strings.TrimSpace(r.PostFormValue("expires_days")); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 {
			c.accessFailed(w, r, core.Invalid("expires_days", "expiry must be a whole number of days"))
			return
		}
		t := c.svc.Now().AddDate(0, 0, days)
		in.ExpiresAt = &t
	}
	k, err := c.svc.CreateAPIKey(r.Context(), in)
	if err != nil {
		c.accessFailed(w, r, err)
		return
	}
	c.showAccess(w, r, http.StatusCreated, accessData{Created: "API key", Name: k.Name, Secret: k.Secret})
}

func (c *Console) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	k, err := c.svc.RevokeAPIKey(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/access", "API key "+k.Name+" is revoked; its console sessions have ended.")
}

func (c *Console) createToken(w http.ResponseWriter, r *http.Request) {
	in := service.EnrollmentTokenInput{AgentName: strings.TrimSpace(r.PostFormValue("agent_name"))}
	if v := strings.TrimSpace(r.PostFormValue("ttl_hours")); v != "" {
		h, err := strconv.Atoi(v)
		if err != nil || h < 1 {
			c.accessFailed(w, r, core.Invalid("ttl_hours", "validity must be a whole number of hours"))
			return
		}
		ttl := time.Duration(h) * time.Hour
		in.TTL = &ttl
	}
	tok, err := c.svc.CreateEnrollmentToken(r.Context(), in)
	if err != nil {
		c.accessFailed(w, r, err)
		return
	}
	c.showAccess(w, r, http.StatusCreated, accessData{Created: "enrollment token", Name: tok.AgentName, Secret: tok.Secret})
}

func (c *Console) revokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if _, err := c.svc.RevokeEnrollmentToken(r.Context(), id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/access", "Enrollment token revoked.")
}
