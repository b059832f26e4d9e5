package service_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin/plugintest"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// The SDK's example issuer, written from docs/plugins.md, works through
// the server: created (Provision makes its CA), it issues, and it renews
// although it leaves RenewCertificate to plugin.UnimplementedIssuer: the
// server answers the unimplemented renewal by issuing anew, for the
// lifetime the issuer's configuration sets (requests carry none).
func TestExampleIssuerRenewsThroughIssueCertificate(t *testing.T) {
	t.Parallel()
	f, err := os.Open(plugintest.Build(t, "github.com/certctl/certctl/sdk/plugin/example"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	apitest.InstallPlugin(t, dir, "certctl-plugin-issuer-example", f)
	env := apitest.Start(t, apitest.Options{PluginDir: dir})
	ctx := core.WithActor(context.Background(), core.SystemActor)
	iss, err := env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "example", Type: "example",
		Config: map[string]any{"validity": "7d"}})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := env.Service.CreateCertificate(ctx, service.CertificateInput{Name: "shop", CommonName: "shop.example.com",
		IssuerID: iss.ID})
	if err != nil {
		t.Fatal(err)
	}
	runOneJob := func(what string) {
		t.Helper()
		if n := env.RunJobs(t); n != 1 {
			t.Fatalf("%s: ran %d jobs, want 1", what, n)
		}
		js, _, err := env.Service.ListJobs(ctx, core.JobFilter{CertificateID: &cert.ID, Page: core.Page{Limit: 1}})
		if err != nil || len(js) != 1 || js[0].State != core.JobSucceeded {
			t.Fatalf("%s: jobs %+v, %v; want the newest succeeded", what, js, err)
		}
	}
	runOneJob("issuance")
	if _, err := env.Service.RenewCertificate(ctx, cert.ID); err != nil {
		t.Fatal(err)
	}
	runOneJob("renewal")

	vs, _, err := env.Service.ListVersions(ctx, cert.ID, core.Page{Limit: 10})
	if err != nil || len(vs) != 2 {
		t.Fatalf("versions: %d, %v; want 2", len(vs), err)
	}
	if vs[0].SerialNumber == vs[1].SerialNumber {
		t.Errorf("the renewal has the first version's serial %s", vs[0].SerialNumber)
	}
	for _, v := range vs {
		// The example dates certificates a minute back.
		if got := v.NotAfter.Sub(v.NotBefore); got != 7*24*time.Hour+time.Minute {
			t.Errorf("version %s lives %s, want the configured 7 days and a minute", v.SerialNumber, got)
		}
	}
}
