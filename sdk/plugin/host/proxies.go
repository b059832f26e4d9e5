package host

import (
	"context"

	"github.com/certctl/certctl/sdk/plugin"
)

// The proxies implement the plugin interfaces by routing every call through
// the supervisor of their plugin.

type issuerProxy struct{ m *managed }

func (p issuerProxy) Info(ctx context.Context) (plugin.Info, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.Info, error) { return pr.Issuer().Info(ctx) })
}

func (p issuerProxy) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	return callErr(p.m, ctx, func(ctx context.Context, pr *plugin.Process) error { return pr.Issuer().ValidateConfig(ctx, req) })
}

func (p issuerProxy) Provision(ctx context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.ProvisionResult, error) {
		return pr.Issuer().Provision(ctx, req)
	})
}

func (p issuerProxy) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.IssueResult, error) {
		return pr.Issuer().IssueCertificate(ctx, req)
	})
}

func (p issuerProxy) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.IssueResult, error) {
		return pr.Issuer().RenewCertificate(ctx, req)
	})
}

func (p issuerProxy) RevokeCertificate(ctx context.Context, req plugin.RevokeRequest) error {
	return callErr(p.m, ctx, func(ctx context.Context, pr *plugin.Process) error { return pr.Issuer().RevokeCertificate(ctx, req) })
}

func (p issuerProxy) GetOrderStatus(ctx context.Context, req plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.IssueResult, error) {
		return pr.Issuer().GetOrderStatus(ctx, req)
	})
}

func (p issuerProxy) SignCRL(ctx context.Context, req plugin.CRLRequest) (plugin.CRLResult, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.CRLResult, error) {
		return pr.Issuer().SignCRL(ctx, req)
	})
}

type targetProxy struct{ m *managed }

func (p targetProxy) Info(ctx context.Context) (plugin.Info, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.Info, error) { return pr.Target().Info(ctx) })
}

func (p targetProxy) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	return callErr(p.m, ctx, func(ctx context.Context, pr *plugin.Process) error { return pr.Target().ValidateConfig(ctx, req) })
}

func (p targetProxy) DeployCertificate(ctx context.Context, req plugin.DeployRequest) (plugin.DeployResult, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.DeployResult, error) {
		return pr.Target().DeployCertificate(ctx, req)
	})
}

func (p targetProxy) ValidateDeployment(ctx context.Context, req plugin.ValidateDeploymentRequest) (plugin.ValidateDeploymentResult, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.ValidateDeploymentResult, error) {
		return pr.Target().ValidateDeployment(ctx, req)
	})
}

type notifierProxy struct{ m *managed }

func (p notifierProxy) Info(ctx context.Context) (plugin.Info, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.Info, error) { return pr.Notifier().Info(ctx) })
}

func (p notifierProxy) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	return callErr(p.m, ctx, func(ctx context.Context, pr *plugin.Process) error { return pr.Notifier().ValidateConfig(ctx, req) })
}

func (p notifierProxy) SendAlert(ctx context.Context, req plugin.SendRequest) (plugin.SendResult, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.SendResult, error) {
		return pr.Notifier().SendAlert(ctx, req)
	})
}

func (p notifierProxy) SendEvent(ctx context.Context, req plugin.SendRequest) (plugin.SendResult, error) {
	return call(p.m, ctx, func(ctx context.Context, pr *plugin.Process) (plugin.SendResult, error) {
		return pr.Notifier().SendEvent(ctx, req)
	})
}
