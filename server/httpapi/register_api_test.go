package httpapi_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

// A register whose new binary dies at start answers 400 without a field
// (the request has no body) and says why, with the exit status and what
// the plugin wrote on its standard error; the version registered before
// goes on serving, its status unchanged, and issuance works through it.
func TestFailedRegisterSaysWhyAndKeepsThePluginServing(t *testing.T) {
	t.Parallel()
	const file = "certctl-plugin-issuer-local"
	dir := t.TempDir()
	local, err := os.Open(filepath.Join(pluginDir, file))
	if err != nil {
		t.Fatal(err)
	}
	apitest.InstallPlugin(t, dir, file, local)
	local.Close()
	env := apitest.Start(t, apitest.Options{PluginDir: dir})
	var iss api.Issuer
	env.MustDo(t, "POST", "/api/v1/issuers", env.AdminKey, api.IssuerRequest{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}}, 201).Decode(t, &iss)
	status := func() api.Plugin {
		t.Helper()
		var list api.List[api.Plugin]
		env.MustDo(t, "GET", "/api/v1/plugins", env.AdminKey, nil, 200).Decode(t, &list)
		for _, p := range list.Items {
			if p.Kind == "issuer" && p.Name == "local" {
				return p
			}
		}
		t.Fatalf("no issuer/local in %+v", list.Items)
		return api.Plugin{}
	}
	before := status()

	// A "new version" that cannot start: a script that says why and exits.
	const complaint = "local: cannot read /etc/certctl/ca.pem: permission denied"
	apitest.InstallPlugin(t, dir, file, strings.NewReader("#!/bin/sh\necho '"+complaint+"' >&2\nexit 3\n"))
	r := env.MustDo(t, "POST", "/api/v1/plugins/issuer/local/register", env.AdminKey, nil, 400)
	var raw struct {
		Error map[string]any `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &raw); err != nil {
		t.Fatal(err)
	}
	if _, ok := raw.Error["field"]; ok || raw.Error["code"] != "invalid" {
		t.Errorf("failed register answered %s, want code invalid and no field", r.Body)
	}
	msg, _ := raw.Error["message"].(string)
	for _, want := range []string{"exit status 3", complaint, "goes on serving"} {
		if !strings.Contains(msg, want) {
			t.Errorf("failed register's message %q does not say %q", msg, want)
		}
	}

	after := status()
	if after.Status != before.Status || after.SHA256 != before.SHA256 || after.Version != before.Version ||
		after.LastError != "" || after.Restarts != before.Restarts {
		t.Errorf("plugin after the failed register: %+v, want as before: %+v", after, before)
	}
	// It still issues.
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		IssuerID: iss.ID}, 201).Decode(t, &cert)
	env.RunJobs(t)
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID, env.AdminKey, nil, 200).Decode(t, &cert)
	if cert.Status != "active" {
		t.Errorf("certificate issued after the failed register: status %s", cert.Status)
	}
}
