package client

// validate.go: checking a connector declaration without creating it
// (POST /api/v1/{issuers,targets,notifiers}/validate), so that tools such as
// the Terraform provider can refuse a typo before they change anything.

import (
	"context"
	"net/http"
	"net/url"

	"github.com/certctl/certctl/sdk/api"
)

// ValidateIssuer runs every check CreateIssuer would run on req (name,
// type, configuration against the plugin's schema and by the plugin) and
// creates nothing; the issuer is not provisioned. The reply is the
// configuration the server would store, without its sensitive fields. A
// bad field is IsInvalid with Field "config.<name>" (or "type", "name"); a
// name already taken is not reported. Operators and admins only.
func (c *Client) ValidateIssuer(ctx context.Context, req api.IssuerRequest) (*api.ConnectorValidation, error) {
	return c.validateConnector(ctx, "issuers", "", req)
}

// ValidateIssuerUpdate runs the checks UpdateIssuer(ctx, id, req) would run
// (req.Config merged into the stored configuration) and changes nothing.
func (c *Client) ValidateIssuerUpdate(ctx context.Context, id string, req api.IssuerRequest) (*api.ConnectorValidation, error) {
	return c.validateConnector(ctx, "issuers", id, req)
}

// ValidateTarget runs every check CreateTarget would run on req (name,
// agent, configuration against the plugin's schema) and creates nothing.
// See ValidateIssuer.
func (c *Client) ValidateTarget(ctx context.Context, req api.TargetRequest) (*api.ConnectorValidation, error) {
	return c.validateConnector(ctx, "targets", "", req)
}

// ValidateTargetUpdate runs the checks UpdateTarget(ctx, id, req) would
// run and changes nothing.
func (c *Client) ValidateTargetUpdate(ctx context.Context, id string, req api.TargetRequest) (*api.ConnectorValidation, error) {
	return c.validateConnector(ctx, "targets", id, req)
}

// ValidateNotifier runs every check CreateNotifier would run on req and
// creates nothing; nothing is sent. See ValidateIssuer.
func (c *Client) ValidateNotifier(ctx context.Context, req api.NotifierRequest) (*api.ConnectorValidation, error) {
	return c.validateConnector(ctx, "notifiers", "", req)
}

// ValidateNotifierUpdate runs the checks UpdateNotifier(ctx, id, req) would
// run and changes nothing.
func (c *Client) ValidateNotifierUpdate(ctx context.Context, id string, req api.NotifierRequest) (*api.ConnectorValidation, error) {
	return c.validateConnector(ctx, "notifiers", id, req)
}

// validateConnector posts body to /<plural>/validate, as an update of id
// when id is not empty.
func (c *Client) validateConnector(ctx context.Context, plural, id string, body any) (*api.ConnectorValidation, error) {
	q := url.Values{}
	if id != "" {
		// Checked like a path id, so that "" cannot silently mean "create".
		if _, err := seg(plural[:len(plural)-1]+" id", id); err != nil {
			return nil, err
		}
		q.Set("id", id)
	}
	out := new(api.ConnectorValidation)
	if err := c.do(ctx, request{method: http.MethodPost, path: "/api/v1/" + plural + "/validate", query: q, body: body}, out); err != nil {
		return nil, err
	}
	return out, nil
}
