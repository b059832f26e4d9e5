package httpapi_test

import (
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/apitest"
)

// TestNewVersionSupersedesUndeliveredDeployments: a deployment of an
// earlier version that has not started when a new version is issued is
// superseded and its job cancelled, so that an agent arriving later never
// delivers the older certificate after the newer one.
func TestNewVersionSupersedesUndeliveredDeployments(t *testing.T) {
	t.Parallel()
	env := apitest.Start(t, apitest.Options{PluginDir: pluginDir})
	iss, _ := localCA(t, env, "ca")
	var tgt api.Target
	env.MustDo(t, "POST", "/api/v1/targets", env.AdminKey, api.TargetRequest{Name: "later", Type: "nginx",
		Config: map[string]any{"certificate_path": "/etc/ssl/l.pem", "key_path": "/etc/ssl/l.key"}}, 201).Decode(t, &tgt)
	var cert api.Certificate
	env.MustDo(t, "POST", "/api/v1/certificates", env.AdminKey, api.CertificateRequest{Name: "app", CommonName: "app.example.com",
		IssuerID: iss.ID, TargetIDs: []string{tgt.ID}}, 201).Decode(t, &cert)
	env.RunJobs(t)
	first := listJobs(t, env, env.AdminKey, "kind=deploy&certificate_id="+cert.ID)
	if len(first) != 1 || first[0].State != "waiting" {
		t.Fatalf("deploy jobs after the first issuance = %+v", first)
	}

	env.MustDo(t, "POST", "/api/v1/certificates/"+cert.ID+"/renew", env.AdminKey, nil, 202)
	env.RunJobs(t)
	c := getCertificate(t, env, cert.ID)
	if j := getJob(t, env, first[0].ID); j.State != "cancelled" || j.LastError != "superseded by a newer version" {
		t.Errorf("the first version's deploy job is %s (%q); want cancelled as superseded", j.State, j.LastError)
	}
	var deps api.List[api.Deployment]
	env.MustDo(t, "GET", "/api/v1/certificates/"+cert.ID+"/deployments", env.AdminKey, nil, 200).Decode(t, &deps)
	byVersion := map[bool]string{}
	for _, d := range deps.Items {
		byVersion[c.CurrentVersionID != nil && d.VersionID == *c.CurrentVersionID] = d.Status
	}
	if len(deps.Items) != 2 || byVersion[false] != "superseded" || byVersion[true] != "pending" {
		t.Errorf("deployments = %+v; want the old one superseded and the current one pending", deps.Items)
	}
	if h := c.DeploymentHealth; h.Total != 1 || h.Pending != 1 || h.Failed != 0 || h.LastError != "" {
		t.Errorf("deployment health = %+v; want one pending, nothing failed", h)
	}
	live := listJobs(t, env, env.AdminKey, "kind=deploy&state=waiting&certificate_id="+cert.ID)
	if len(live) != 1 || live[0].ID == first[0].ID {
		t.Errorf("waiting deploy jobs = %+v; want only the current version's", live)
	}
}
