package service_test

import (
	"context"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
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

// An issuer with nothing to provision leaves Provision to
// plugin.UnimplementedIssuer: the server stores its configuration as it
// is (normalised, the secret sealed) on create and update, instead of
// refusing the issuer. The plugin (testdata/noprovision) reads its
// configuration with plugin.DecodeConfig, so a misspelled field is refused
// naming it.
func TestIssuerWithoutProvisionIsStoredAsIs(t *testing.T) {
	t.Parallel()
	f, err := os.Open(plugintest.Build(t, "./testdata/noprovision"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	apitest.InstallPlugin(t, dir, "certctl-plugin-issuer-noprovision", f)
	env := apitest.Start(t, apitest.Options{PluginDir: dir})
	ctx := core.WithActor(context.Background(), core.SystemActor)
	iss, err := env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "ca", Type: "noprovision",
		Config: map[string]any{"endpoint": "https://ca.example", "token": "s3cret"}})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	want := plugin.Config{"endpoint": "https://ca.example", "token": "s3cret", "retries": float64(3)}
	if got, err := env.Service.IssuerConfig(iss); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("stored configuration %v, %v; want %v", got, err, want)
	}
	iss, err = env.Service.UpdateIssuer(ctx, iss.ID, service.IssuerInput{Name: "ca", Type: "noprovision",
		Config: map[string]any{"retries": 5}})
	if err != nil {
		t.Fatalf("update: %v", err)
	}
	want["retries"] = float64(5)
	if got, err := env.Service.IssuerConfig(iss); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("updated configuration %v, %v; want %v", got, err, want)
	}
	_, err = env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "typo", Type: "noprovision",
		Config: map[string]any{"endpoint": "https://ca.example", "tokne": "s3cret"}})
	if err == nil || !strings.Contains(err.Error(), "tokne") {
		t.Errorf("create with a misspelled field: %v, want it refused naming tokne", err)
	}
}
