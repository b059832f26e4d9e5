package plugin_test

import (
	"context"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/plugin"
)

// Plugins that embed an Unimplemented type and add only Info implement
// their kind's interface.
type (
	bareIssuer   struct{ plugin.UnimplementedIssuer }
	bareTarget   struct{ plugin.UnimplementedTarget }
	bareNotifier struct{ plugin.UnimplementedNotifier }
)

func (bareIssuer) Info(context.Context) (plugin.Info, error)   { return plugin.Info{}, nil }
func (bareTarget) Info(context.Context) (plugin.Info, error)   { return plugin.Info{}, nil }
func (bareNotifier) Info(context.Context) (plugin.Info, error) { return plugin.Info{}, nil }

var (
	_ plugin.Issuer   = bareIssuer{}
	_ plugin.Target   = bareTarget{}
	_ plugin.Notifier = bareNotifier{}
)

// Every method an Unimplemented type provides answers CodeUnimplemented,
// naming the method and the kind.
func TestUnimplementedAnswersNamingTheMethod(t *testing.T) {
	ctx := context.Background()
	var (
		iss plugin.Issuer   = bareIssuer{}
		tgt plugin.Target   = bareTarget{}
		ntf plugin.Notifier = bareNotifier{}
	)
	calls := map[string]func() error{
		"issuer ValidateConfig": func() error { return iss.ValidateConfig(ctx, plugin.ValidateConfigRequest{}) },
		"issuer Provision": func() error {
			_, err := iss.Provision(ctx, plugin.ProvisionRequest{})
			return err
		},
		"issuer IssueCertificate": func() error {
			_, err := iss.IssueCertificate(ctx, plugin.IssueRequest{})
			return err
		},
		"issuer RenewCertificate": func() error {
			_, err := iss.RenewCertificate(ctx, plugin.RenewRequest{})
			return err
		},
		"issuer RevokeCertificate": func() error { return iss.RevokeCertificate(ctx, plugin.RevokeRequest{}) },
		"issuer GetOrderStatus": func() error {
			_, err := iss.GetOrderStatus(ctx, plugin.OrderStatusRequest{})
			return err
		},
		"issuer SignCRL": func() error {
			_, err := iss.SignCRL(ctx, plugin.CRLRequest{})
			return err
		},
		"target ValidateConfig": func() error { return tgt.ValidateConfig(ctx, plugin.ValidateConfigRequest{}) },
		"target DeployCertificate": func() error {
			_, err := tgt.DeployCertificate(ctx, plugin.DeployRequest{})
			return err
		},
		"target ValidateDeployment": func() error {
			_, err := tgt.ValidateDeployment(ctx, plugin.ValidateDeploymentRequest{})
			return err
		},
		"notifier ValidateConfig": func() error { return ntf.ValidateConfig(ctx, plugin.ValidateConfigRequest{}) },
		"notifier SendAlert": func() error {
			_, err := ntf.SendAlert(ctx, plugin.SendRequest{})
			return err
		},
		"notifier SendEvent": func() error {
			_, err := ntf.SendEvent(ctx, plugin.SendRequest{})
			return err
		},
	}
	for name, call := range calls {
		kind, method, _ := strings.Cut(name, " ")
		err := call()
		if plugin.ErrorCode(err) != plugin.CodeUnimplemented {
			t.Errorf("%s: %v, want code %s", name, err, plugin.CodeUnimplemented)
			continue
		}
		if want := "this " + kind + " plugin does not implement " + method; !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %q, want it to say %q", name, err, want)
		}
	}
}
