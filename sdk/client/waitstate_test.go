package client

import (
	"testing"

	"github.com/certctl/certctl/sdk/api"
)

// TestWaitStateUnderWayByStatus: a certificate whose status says an
// issuance is under way is not settled even when no job was listed (a job
// that moved between states while the live jobs were read), so a wait
// does not end on its previous version or that version's deployments.
func TestWaitStateUnderWayByStatus(t *testing.T) {
	old := "v1"
	failedDeploy := api.DeploymentHealth{Total: 1, Failed: 1, LastError: "reload failed"}
	for _, status := range []string{"issuing", "renewing"} {
		for _, until := range []WaitCondition{WaitIssued, WaitDeployed} {
			cert := &api.Certificate{Status: status, CurrentVersionID: &old, DeploymentHealth: failedDeploy}
			// Without AfterVersionID, v1 counts as a new version: the wait
			// would end as issued, or fail on v1's failed deployment.
			done, reason := waitState(cert, nil, until, "")
			if done || reason != "" {
				t.Errorf("status %s, until %s: done=%v reason=%q, want to keep waiting", status, until, done, reason)
			}
		}
	}
	// Settled: active with the version waited past is done for issued.
	cert := &api.Certificate{Status: "active", CurrentVersionID: &old}
	if done, reason := waitState(cert, nil, WaitIssued, ""); !done || reason != "" {
		t.Errorf("active: done=%v reason=%q, want done", done, reason)
	}
	// Active on the old version with nothing under way cannot get there.
	if done, reason := waitState(cert, nil, WaitIssued, old); done || reason == "" {
		t.Errorf("active on the version waited past: done=%v reason=%q, want a reason", done, reason)
	}
}
