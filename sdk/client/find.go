package client

// find.go: finding a resource by its name, which is what people and
// configuration files use, where the API addresses resources by id.

import (
	"context"
	"fmt"
	"iter"

	"github.com/certctl/certctl/sdk/api"
)

// FindCertificate returns the certificate named name. No such certificate
// is IsNotFound.
func (c *Client) FindCertificate(ctx context.Context, name string) (*api.Certificate, error) {
	// The name_prefix filter narrows the walk to the names that start
	// with name; the exact one is among them.
	return findByName(name, "certificate", c.AllCertificates(ctx, CertificateListOptions{NamePrefix: name, Limit: 500}),
		func(v api.Certificate) string { return v.Name })
}

// FindIssuer returns the issuer named name. No such issuer is IsNotFound.
func (c *Client) FindIssuer(ctx context.Context, name string) (*api.Issuer, error) {
	return findByName(name, "issuer", c.AllIssuers(ctx, IssuerListOptions{Limit: 500}), func(v api.Issuer) string { return v.Name })
}

// FindTarget returns the target named name. No such target is IsNotFound.
func (c *Client) FindTarget(ctx context.Context, name string) (*api.Target, error) {
	return findByName(name, "target", c.AllTargets(ctx, TargetListOptions{Limit: 500}), func(v api.Target) string { return v.Name })
}

// FindNotifier returns the notifier named name. No such notifier is
// IsNotFound.
func (c *Client) FindNotifier(ctx context.Context, name string) (*api.Notifier, error) {
	return findByName(name, "notifier", c.AllNotifiers(ctx, NotifierListOptions{Limit: 500}), func(v api.Notifier) string { return v.Name })
}

// FindRenewalPolicy returns the renewal policy named name ("default" is
// the built-in one). No such policy is IsNotFound.
func (c *Client) FindRenewalPolicy(ctx context.Context, name string) (*api.RenewalPolicy, error) {
	return findByName(name, "renewal policy", c.AllRenewalPolicies(ctx, ListOptions{Limit: 500}), func(v api.RenewalPolicy) string { return v.Name })
}

// FindAgent returns the agent named name. No such agent is IsNotFound.
func (c *Client) FindAgent(ctx context.Context, name string) (*api.Agent, error) {
	return findByName(name, "agent", c.AllAgents(ctx, AgentListOptions{Limit: 500}), func(v api.Agent) string { return v.Name })
}

// findByName walks seq for the item called name. The error for none is an
// *Error with the API's not_found code, so that IsNotFound holds as it
// does for a missing id.
func findByName[T any](name, what string, seq iter.Seq2[T, error], nameOf func(T) string) (*T, error) {
	if name == "" {
		return nil, fmt.Errorf("certctl client: find %s: empty name", what)
	}
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		if nameOf(v) == name {
			return &v, nil
		}
	}
	return nil, &Error{StatusCode: 404, Code: api.CodeNotFound, Message: fmt.Sprintf("no %s named %q", what, name), Field: "name"}
}
