package servertest

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/journal"
	"github.com/certctl/certctl/sdk/plugin"
)

// Crashing wraps a reload command so that the test decides what its next
// run does, through files in ctl (a directory):
//
//   - "kill": the run SIGKILLs the plugin process (the command's parent)
//     and reloads nothing: the plugin dies after writing the new files and
//     before the server loaded them, as a plugin killed by the OOM killer
//     or a reboot would.
//   - "fail": the run fails without reloading, as a reload refused after
//     the restart would.
//
// Each file is used once (removed by the run it affects); without either,
// argv runs.
func Crashing(ctl string, argv ...any) []any {
	script := `if [ -e "$0/kill" ]; then rm -f "$0/kill"; kill -KILL "$PPID"; exit 1; fi
if [ -e "$0/fail" ]; then rm -f "$0/fail"; echo "reload refused by the test" >&2; exit 1; fi
exec "$@"`
	return append([]any{"sh", "-c", script, ctl}, argv...)
}

// CrashRecovery describes a target for RunCrashRecovery.
type CrashRecovery struct {
	Binary string // the plugin
	Server *Server
	Addr   string
	// Config returns the target's configuration with reload as its
	// reload_command (wrap the server's own with Crashing) and
	// verify_address set to Addr.
	Config func(reload []any) plugin.Config
	// Reload is the server's real reload command, run through Crashing.
	Reload []any
	// LeafPath is the file that starts with the certificate.
	LeafPath string
}

// RunCrashRecovery kills the plugin's process between writing a new
// certificate's files and reloading the server, starts a new process, and
// checks both ways the next call can end, against the real server: the
// deployment completed (the new serial served) or, when the reload fails
// after the restart, rolled back (the previous serial served and its
// files back); each time the answer says which, and nothing of the
// journal is left. Then the same with a new deployment as the call that
// finds the journal.
func RunCrashRecovery(t *testing.T, cr CrashRecovery) {
	ctl := t.TempDir()
	cfg := cr.Config(Crashing(ctl, cr.Reload...))
	ca := NewCA(t, "crash CA")
	ctx := context.Background()
	touch := func(name string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(ctl, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	first := openProcess(t, cr.Binary)
	current := ca.Issue(t, "localhost")
	if _, err := first.Target().DeployCertificate(ctx, current.Request(cfg)); err != nil {
		t.Fatalf("first deployment: %v", err)
	}
	WaitServes(t, cr.Server, cr.Addr, current.Serial)

	// interrupt deploys next with the reload set to kill the plugin, and
	// checks what the dead plugin left: the new files written, a journal,
	// the server still on the current certificate.
	interrupt := func(t *testing.T, next Leaf) {
		t.Helper()
		p := openProcess(t, cr.Binary)
		touch("kill")
		_, err := p.Target().DeployCertificate(ctx, next.Request(cfg))
		if err == nil {
			t.Fatal("the deployment whose reload kills the plugin succeeded")
		}
		waitExited(t, p)
		if got := leafSerial(t, cr.LeafPath); got.Cmp(next.Serial) != 0 {
			t.Fatalf("after the kill %s holds serial %s, want the new %s", cr.LeafPath, got.Text(16), next.Serial.Text(16))
		}
		if !journal.Exists(journal.PathFor(cr.LeafPath)) {
			t.Fatal("the killed deployment left no journal")
		}
		WaitServes(t, cr.Server, cr.Addr, current.Serial)
	}
	validate := func(t *testing.T, serial *big.Int) plugin.ValidateDeploymentResult {
		t.Helper()
		res, err := openProcess(t, cr.Binary).Target().ValidateDeployment(ctx,
			plugin.ValidateDeploymentRequest{Config: cfg, SerialNumber: serial.Text(16)})
		if err != nil {
			t.Fatalf("ValidateDeployment after the restart: %v", err)
		}
		return res
	}

	t.Run("completed", func(t *testing.T) {
		next := ca.Issue(t, "localhost")
		interrupt(t, next)
		res := validate(t, next.Serial)
		if !res.Valid || res.ServedSerial != next.Serial.Text(16) || !strings.Contains(res.Message, "was completed after restart") {
			t.Fatalf("after the restart: %+v; want the new serial %s served and the message to say the deployment was completed",
				res, next.Serial.Text(16))
		}
		WaitServes(t, cr.Server, cr.Addr, next.Serial)
		checkNoJournal(t, cr.LeafPath)
		current = next
	})
	t.Run("rolled back", func(t *testing.T) {
		next := ca.Issue(t, "localhost")
		interrupt(t, next)
		touch("fail")
		res := validate(t, next.Serial)
		if res.Valid || res.ServedSerial != current.Serial.Text(16) || !strings.Contains(res.Message, "was rolled back") ||
			!strings.Contains(res.Message, "reload_command failed") {
			t.Fatalf("after the restart: %+v; want the previous serial %s served and the message to say the deployment was rolled back and why",
				res, current.Serial.Text(16))
		}
		WaitServes(t, cr.Server, cr.Addr, current.Serial)
		if got := leafSerial(t, cr.LeafPath); got.Cmp(current.Serial) != 0 {
			t.Errorf("after the rollback %s holds serial %s, want the previous %s", cr.LeafPath, got.Text(16), current.Serial.Text(16))
		}
		checkNoJournal(t, cr.LeafPath)
	})
	t.Run("next deployment", func(t *testing.T) {
		// No ValidateDeployment after the restart: the next deployment to
		// the same files finds the journal, completes the interrupted
		// one, then deploys its own certificate.
		next, after := ca.Issue(t, "localhost"), ca.Issue(t, "localhost")
		interrupt(t, next)
		res, err := openProcess(t, cr.Binary).Target().DeployCertificate(ctx, after.Request(cfg))
		if err != nil {
			t.Fatalf("the deployment after the restart: %v", err)
		}
		if res.Metadata["recovered"] != "completed after restart" || !strings.Contains(res.Message, "was completed after restart") {
			t.Errorf("the deployment after the restart says %q (metadata %v); want it to report the completed interrupted one", res.Message, res.Metadata)
		}
		WaitServes(t, cr.Server, cr.Addr, after.Serial)
		checkNoJournal(t, cr.LeafPath)
		current = after
	})
}

// openProcess starts the plugin binary bin as an agent does.
func openProcess(t testing.TB, bin string) *plugin.Process {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "cpt")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := plugin.Open(ctx, plugin.OpenOptions{Path: bin, Kind: plugin.KindTarget, SocketDir: sockDir})
	if err != nil {
		t.Fatalf("open plugin %s: %v", bin, err)
	}
	t.Cleanup(p.Kill)
	return p
}

func waitExited(t *testing.T, p *plugin.Process) {
	t.Helper()
	deadline := time.Now().Add(stopTimeout)
	for !p.Exited() {
		if time.Now().After(deadline) {
			t.Fatal("the plugin process is still running after its reload command killed it")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func leafSerial(t *testing.T, path string) *big.Int {
	t.Helper()
	// Not pemfile.ReadLeaf: pemfile's tests import this package.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatalf("%s holds no PEM block", path)
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return leaf.SerialNumber
}

// checkNoJournal checks that neither the journal nor a backup is left in
// the certificate's directory.
func checkNoJournal(t *testing.T, leafPath string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(leafPath))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.Contains(e.Name(), ".certctl-") {
			t.Errorf("%s is left in %s", e.Name(), filepath.Dir(leafPath))
		}
	}
}
