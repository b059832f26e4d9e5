package provider

// issuer_resource.go: certctl_issuer, a certificate authority connector.

import (
	"context"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/resource"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

func newIssuerResource() resource.Resource {
	return &connectorResource[connectorModel]{spec: connectorSpec[connectorModel]{
		kind: "issuer",
		description: "An issuer: a certificate authority certctl requests certificates from, implemented by an " +
			"issuer plugin. The `local` plugin is a CA of certctl's own; it generates its CA key and certificate " +
			"at creation unless `ca_private_key_pem` (sensitive) and `ca_certificate_pem` are given. An issuer " +
			"cannot be deleted while certificates use it.",
		base: func(m *connectorModel) *connectorModel { return m },
		create: func(ctx context.Context, c *client.Client, m *connectorModel, cfg map[string]any) (connector, error) {
			return issuerConnector(c.CreateIssuer(ctx, api.IssuerRequest{Name: m.Name.ValueString(), Type: m.Type.ValueString(), Config: cfg}))
		},
		update: func(ctx context.Context, c *client.Client, id string, m *connectorModel, cfg map[string]any) (connector, error) {
			return issuerConnector(c.UpdateIssuer(ctx, id, api.IssuerRequest{Name: m.Name.ValueString(), Type: m.Type.ValueString(), Config: cfg}))
		},
		validate: func(ctx context.Context, c *client.Client, id string, m *connectorModel, cfg map[string]any) (*api.ConnectorValidation, error) {
			req := api.IssuerRequest{Name: m.Name.ValueString(), Type: m.Type.ValueString(), Config: cfg}
			if id != "" {
				return c.ValidateIssuerUpdate(ctx, id, req)
			}
			return c.ValidateIssuer(ctx, req)
		},
		get: func(ctx context.Context, c *client.Client, id string) (connector, error) {
			return issuerConnector(c.GetIssuer(ctx, id))
		},
		del:     func(ctx context.Context, c *client.Client, id string) error { return c.DeleteIssuer(ctx, id) },
		fromAPI: func(*connectorModel, connector) {},
	}}
}

func issuerConnector(i *api.Issuer, err error) (connector, error) {
	if err != nil {
		return connector{}, err
	}
	return connector{ID: i.ID, Name: i.Name, Type: i.Type, Config: i.Config, SecretFields: i.SecretFields,
		CreatedAt: i.CreatedAt.UTC().Format(time.RFC3339)}, nil
}
