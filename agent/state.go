package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/certctl/certctl/sdk/api"
)

// state is what the agent keeps between runs, in its state directory:
// its credential (0600), reports the server has not received yet, and the
// deployments in progress.
type state struct {
	dir string
}

func newState(dir string) (*state, error) {
	for _, sub := range []string{"outbox", "inflight"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, fmt.Errorf("state directory: %w", err)
		}
	}
	return &state{dir: dir}, nil
}

func (s *state) credentialPath() string { return filepath.Join(s.dir, "credential") }

// credential returns the stored credential, or "" before enrollment.
func (s *state) credential() (string, error) {
	b, err := os.ReadFile(s.credentialPath())
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read credential: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// saveCredential stores the credential atomically, mode 0600.
func (s *state) saveCredential(c string) error {
	return writeFileAtomic(s.credentialPath(), []byte(c+"\n"), 0o600)
}

// Kinds of report in the outbox.
const (
	reportDeploy     = ""        // an api.AgentDeployResult
	reportChallenges = "http-01" // an api.AgentChallengeReport
)

// pendingReport is a result not yet delivered to the server.
type pendingReport struct {
	Kind   string          `json:"kind,omitempty"` // reportDeploy or reportChallenges
	JobID  string          `json:"job_id"`
	Result json.RawMessage `json:"result"`
}

// outboxPath is where a job's report of a kind waits. A job has at most one
// of each: a later report (an HTTP-01 cleanup after its presentation)
// replaces an undelivered earlier one, which the server no longer needs.
func (s *state) outboxPath(kind, jobID string) (string, error) {
	// The id comes from the server and becomes a file name.
	if jobID == "" || strings.ContainsAny(jobID, `/\`) || strings.HasPrefix(jobID, ".") {
		return "", fmt.Errorf("job id %q cannot name a file", jobID)
	}
	name := jobID + ".json"
	if kind != reportDeploy {
		name = jobID + "." + kind + ".json"
	}
	return filepath.Join(s.dir, "outbox", name), nil
}

// queueReport keeps a result until the server has it: a report is never
// lost because the server was away.
func (s *state) queueReport(kind, jobID string, result any) error {
	path, err := s.outboxPath(kind, jobID)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(result)
	if err != nil {
		return err
	}
	b, _ := json.Marshal(pendingReport{Kind: kind, JobID: jobID, Result: raw})
	return writeFileAtomic(path, b, 0o600)
}

// reportQueued says whether a report of kind for jobID waits in the outbox.
func (s *state) reportQueued(kind, jobID string) bool {
	path, err := s.outboxPath(kind, jobID)
	if err != nil {
		return false
	}
	_, err = os.Stat(path)
	return err == nil
}

// pendingReports lists queued results.
func (s *state) pendingReports() ([]pendingReport, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "outbox"))
	if err != nil {
		return nil, err
	}
	var out []pendingReport
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(s.dir, "outbox", e.Name()))
		if err != nil {
			return nil, err
		}
		var p pendingReport
		if json.Unmarshal(b, &p) == nil && p.JobID != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

func (s *state) dropReport(p pendingReport) error {
	path, err := s.outboxPath(p.Kind, p.JobID)
	if err != nil {
		return err
	}
	err = os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// inflightPath is where a deployment the agent started and has not
// reported yet is recorded.
func (s *state) inflightPath(jobID string) (string, error) {
	p, err := s.outboxPath(reportDeploy, jobID) // the same checks of the id
	if err != nil {
		return "", err
	}
	return filepath.Join(s.dir, "inflight", filepath.Base(p)), nil
}

// startDeploy records a deployment before the agent calls its plugin, so
// that an agent that stops before it has queued the report finds the
// deployment again when it starts (see recoverInterrupted). The record is
// the work item (the target's configuration, which may hold its secrets,
// and the version; never a key), mode 0600 like the credential.
func (s *state) startDeploy(item api.AgentWorkItem) error {
	path, err := s.inflightPath(item.JobID)
	if err != nil {
		return err
	}
	b, err := json.Marshal(item)
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b, 0o600)
}

// endDeploy forgets a deployment whose report is queued.
func (s *state) endDeploy(jobID string) error {
	path, err := s.inflightPath(jobID)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// interruptedDeploys lists the deployments started by an earlier run and
// not reported; those whose report is queued already are forgotten.
func (s *state) interruptedDeploys() ([]api.AgentWorkItem, error) {
	dir := filepath.Join(s.dir, "inflight")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []api.AgentWorkItem
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		var item api.AgentWorkItem
		if json.Unmarshal(b, &item) != nil || item.JobID == "" {
			// Unreadable: it cannot be recovered or reported; the
			// server's lease on its job runs out and it is handed out again.
			_ = os.Remove(filepath.Join(dir, e.Name()))
			continue
		}
		if report, err := s.outboxPath(reportDeploy, item.JobID); err == nil {
			if _, err := os.Stat(report); err == nil {
				_ = s.endDeploy(item.JobID)
				continue
			}
		}
		out = append(out, item)
	}
	return out, nil
}

// writeFileAtomic writes data to a temporary file in the same directory,
// syncs it, and renames it into place: readers see the old file or the new
// one, never half of one, even if the agent stops in between.
func writeFileAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
