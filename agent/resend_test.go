package agent

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// A deployment the server hands out again (resend) after the agent has
// done it, its report still queued, is not deployed a second time: the
// queued report is what the server gets.
func TestResentDeploymentIsNotDoneTwice(t *testing.T) {
	var mu sync.Mutex
	var reports []api.AgentDeployResult
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/api/v1/agent/jobs/job-1/result" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var res api.AgentDeployResult
		if err := json.Unmarshal(b, &res); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		reports = append(reports, res)
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	st, err := newState(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(srv.URL, client.WithAPIKey("agent-credential"))
	if err != nil {
		t.Fatal(err)
	}
	// No plugins: a deployment done again would fail and replace the report.
	a := &Agent{logger: slog.New(slog.DiscardHandler), state: st, client: c}
	if err := st.queueReport(reportDeploy, "job-1", api.AgentDeployResult{Succeeded: true, Message: "deployed"}); err != nil {
		t.Fatal(err)
	}
	a.do(context.Background(), api.AgentWorkItem{JobID: "job-1", Kind: api.AgentWorkDeploy,
		Target:  &api.AgentWorkTarget{Type: "nginx"},
		Version: &api.CertificateVersion{SerialNumber: "0a"}})
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 1 || !reports[0].Succeeded || reports[0].Message != "deployed" {
		t.Fatalf("reports the server got: %+v, want the queued success once", reports)
	}
	if st.reportQueued(reportDeploy, "job-1") {
		t.Error("the delivered report is still queued")
	}
}
