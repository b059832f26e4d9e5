package service_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// Upgrading a plugin under the server: install the new binary, register
// it. These tests run the real local CA plugin from a plugin directory of
// their own, since they replace its binary.

const localPluginFile = "certctl-plugin-issuer-local"

// localPluginDir copies the built local CA plugin into a fresh plugin
// directory and returns it.
func localPluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	installPlugin(t, filepath.Join(pluginDir, localPluginFile), dir, "")
	return dir
}

// installPlugin installs a copy of the binary from as the local CA's
// plugin file in dir as an operator does (write beside it, rename over
// it), with extra appended so that its checksum is another (an ELF binary
// runs the same with bytes after its end): a new version, as far as the
// host can tell.
func installPlugin(t *testing.T, from, dir, extra string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	tmp, err := os.CreateTemp(dir, ".install-*")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(tmp, src); err != nil {
		t.Fatal(err)
	}
	if _, err := tmp.WriteString(extra); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		t.Fatal(err)
	}
	if err := tmp.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, localPluginFile)); err != nil {
		t.Fatal(err)
	}
}

// pluginState is what these tests look at in a plugin's status.
type pluginState struct {
	SHA256, Status string
	Pid, Restarts  int
}

// localStatus returns the local CA plugin's status as the service lists it.
func localStatus(t *testing.T, svc *service.Service, ctx context.Context) pluginState {
	t.Helper()
	sts, err := svc.ListPlugins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if string(st.Kind) == string(plugin.KindIssuer) && st.Name == "local" {
			return pluginState{SHA256: st.SHA256, Status: st.Status, Pid: st.Pid, Restarts: st.Restarts}
		}
	}
	t.Fatalf("no issuer/local in %+v", sts)
	return pluginState{}
}

// A batch of issuances runs through the server's worker while the local
// CA's binary is replaced and registered: every job succeeds at its first
// attempt, and every certificate gets exactly one version.
func TestPluginUpgradeUnderLoadFailsNoJob(t *testing.T) {
	t.Parallel()
	dir := localPluginDir(t)
	env := apitest.Start(t, apitest.Options{PluginDir: dir})
	ctx := core.WithActor(context.Background(), core.SystemActor)
	ca, err := env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}})
	if err != nil {
		t.Fatal(err)
	}
	before := localStatus(t, env.Service, ctx)

	const batch = 40
	var certs []uuid.UUID
	for i := range batch {
		name := "load" + string(rune('a'+i/26)) + string(rune('a'+i%26))
		c, err := env.Service.CreateCertificate(ctx, service.CertificateInput{Name: name, CommonName: name + ".example.com",
			IssuerID: ca.ID})
		if err != nil {
			t.Fatal(err)
		}
		certs = append(certs, c.ID)
	}
	jobs := func() []core.Job {
		js, _, err := env.Service.ListJobs(ctx, core.JobFilter{Kind: core.JobIssue, Page: core.Page{Limit: 500}})
		if err != nil {
			t.Fatal(err)
		}
		return js
	}
	ended := func(state string) int {
		n := 0
		for _, j := range jobs() {
			if j.State == state {
				n++
			}
		}
		return n
	}

	workCtx, stop := context.WithCancel(context.Background())
	worker := env.Service.NewWorker(service.WorkerOptions{Concurrency: 8})
	done := make(chan struct{})
	go func() { worker.Run(workCtx); close(done) }()
	defer func() { stop(); <-done }()

	// Replace and register once the batch is under way.
	waitUntil(t, "the first issuances", func() bool { return ended(core.JobSucceeded) >= 3 })
	installPlugin(t, filepath.Join(pluginDir, localPluginFile), dir, "v2")
	st, err := env.Service.RegisterPlugin(ctx, plugin.KindIssuer, "local")
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if st.SHA256 == before.SHA256 || st.Status != "running" {
		t.Fatalf("after register: %+v", st)
	}
	waitUntil(t, "the batch to end", func() bool {
		return ended(core.JobSucceeded)+ended(core.JobFailed) == batch
	})
	for _, j := range jobs() {
		if j.State != core.JobSucceeded || j.Attempt != 1 {
			t.Errorf("job %s: state %s after %d attempts (%s), want succeeded at the first", j.ID, j.State, j.Attempt, j.LastError)
		}
	}
	for _, id := range certs {
		vs, _, err := env.Service.ListVersions(ctx, id, core.Page{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(vs) != 1 {
			t.Errorf("certificate %s has %d versions, want 1", id, len(vs))
		}
	}
	if st := localStatus(t, env.Service, ctx); st.SHA256 == before.SHA256 || st.Status != "running" || st.Restarts != 0 {
		t.Errorf("plugin after the batch: %+v", st)
	}
}

// A job that needs a new process of a plugin whose binary changed on disk
// and is not registered yet waits (it is retried, not failed) and succeeds
// once the binary is registered.
func TestJobWaitsForPluginRegister(t *testing.T) {
	t.Parallel()
	dir := localPluginDir(t)
	c := &clock{now: time.Now().UTC().Truncate(time.Second)}
	env := apitest.Start(t, apitest.Options{PluginDir: dir, Clock: c.Now})
	ctx := core.WithActor(context.Background(), core.SystemActor)
	ca, err := env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "ca", Type: "local",
		Config: map[string]any{"ca_key_type": "ecdsa-p256"}})
	if err != nil {
		t.Fatal(err)
	}
	// The new binary is installed, and the process that ran the old one
	// is gone (it crashed, or the server restarted): the next call needs
	// a new process.
	installPlugin(t, filepath.Join(pluginDir, localPluginFile), dir, "v2")
	if pid := localStatus(t, env.Service, ctx).Pid; pid > 0 {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}

	cert, err := env.Service.CreateCertificate(ctx, service.CertificateInput{Name: "shop", CommonName: "shop.example.com",
		IssuerID: ca.ID})
	if err != nil {
		t.Fatal(err)
	}
	job := func() core.Job {
		js, _, err := env.Service.ListJobs(ctx, core.JobFilter{CertificateID: &cert.ID, Page: core.Page{Limit: 10}})
		if err != nil || len(js) != 1 {
			t.Fatalf("jobs of the certificate: %+v %v", js, err)
		}
		return js[0]
	}
	// Attempts until one meets the unregistered binary (the first may
	// only find the killed process gone): each is retried.
	for attempt := 1; ; attempt++ {
		if n := env.RunJobs(t); n != 1 {
			t.Fatalf("attempt %d: ran %d jobs", attempt, n)
		}
		j := job()
		if j.State != core.JobRetrying {
			t.Fatalf("attempt %d: job %s (%s), want retrying", attempt, j.State, j.LastError)
		}
		if strings.Contains(j.LastError, "waiting to be registered") {
			break
		}
		if attempt == 2 {
			t.Fatalf("attempt %d failed with %q, not waiting for the register", attempt, j.LastError)
		}
		c.Add(time.Hour) // past the retry's backoff
	}
	if st := localStatus(t, env.Service, ctx); st.Status != "checksum_mismatch" {
		t.Errorf("plugin while waiting: %+v", st)
	}

	if _, err := env.Service.RegisterPlugin(ctx, plugin.KindIssuer, "local"); err != nil {
		t.Fatalf("register: %v", err)
	}
	c.Add(time.Hour)
	if n := env.RunJobs(t); n != 1 {
		t.Fatalf("after register: ran %d jobs", n)
	}
	if j := job(); j.State != core.JobSucceeded {
		t.Fatalf("job after register: %s (%s)", j.State, j.LastError)
	}
	vs, _, err := env.Service.ListVersions(ctx, cert.ID, core.Page{Limit: 10})
	if err != nil || len(vs) != 1 {
		t.Fatalf("versions after register: %d %v", len(vs), err)
	}
}
