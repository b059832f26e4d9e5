package agent

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/certctl/certctl/sdk/api"
)

// The record of a deployment in progress lasts until its report is
// queued: a restart finds only the deployments it must end.
func TestInterruptedDeploysRecord(t *testing.T) {
	st, err := newState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	item := func(job string) api.AgentWorkItem {
		return api.AgentWorkItem{JobID: job, Kind: api.AgentWorkDeploy,
			Target:  &api.AgentWorkTarget{Type: "nginx", Config: map[string]any{"certificate_path": "/etc/ssl/a.crt"}},
			Version: &api.CertificateVersion{SerialNumber: "0a"}}
	}
	for _, job := range []string{"interrupted", "reported", "ended"} {
		if err := st.startDeploy(item(job)); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(filepath.Join(st.dir, "inflight", "interrupted.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("record: %v, %v; want mode 0600 (it holds the target's configuration)", fi, err)
	}
	// Stopped after queueing the report, before forgetting the deployment.
	if err := st.queueReport(reportDeploy, "reported", api.AgentDeployResult{Succeeded: true}); err != nil {
		t.Fatal(err)
	}
	if err := st.endDeploy("ended"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(st.dir, "inflight", "torn.json"), []byte(`{"job_id":`), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := st.interruptedDeploys()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].JobID != "interrupted" || got[0].Target.Config["certificate_path"] != "/etc/ssl/a.crt" ||
		got[0].Version.SerialNumber != "0a" {
		t.Fatalf("interrupted deployments = %+v; want the one without a report, whole", got)
	}
	entries, _ := os.ReadDir(filepath.Join(st.dir, "inflight"))
	if len(entries) != 1 {
		t.Errorf("%d records left; want only the interrupted one (the reported and the unreadable ones are forgotten)", len(entries))
	}
	if err := st.startDeploy(item("../escape")); err == nil {
		t.Error("a job id that is a path was recorded")
	}
}
