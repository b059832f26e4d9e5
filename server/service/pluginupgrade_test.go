package service_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/plugintest"
	"github.com/certctl/certctl/server/apitest"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

// Upgrading a plugin under the server: install the new binary, register
// it. These tests run real plugin binaries from plugin directories of
// their own, since they replace them.

const localPluginFile = "certctl-plugin-issuer-local"

// localPluginDir copies the built local CA plugin into a fresh plugin
// directory and returns it.
func localPluginDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	installPlugin(t, filepath.Join(pluginDir, localPluginFile), dir, localPluginFile, "")
	return dir
}

// installPlugin installs a copy of the binary from as the plugin file
// name in dir as an operator does (write beside it, rename over it), with
// extra appended so that its checksum is another (an ELF binary runs the
// same with bytes after its end): a new version, as far as the host can
// tell.
func installPlugin(t *testing.T, from, dir, name, extra string) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	apitest.InstallPlugin(t, dir, name, io.MultiReader(src, strings.NewReader(extra)))
}

// pluginState is what these tests look at in a plugin's status.
type pluginState struct {
	SHA256, Status string
	Pid, Restarts  int
}

// issuerPlugin returns the status of the issuer plugin name as the
// service lists it.
func issuerPlugin(t *testing.T, svc *service.Service, ctx context.Context, name string) pluginState {
	t.Helper()
	sts, err := svc.ListPlugins(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range sts {
		if string(st.Kind) == string(plugin.KindIssuer) && st.Name == name {
			return pluginState{SHA256: st.SHA256, Status: st.Status, Pid: st.Pid, Restarts: st.Restarts}
		}
	}
	t.Fatalf("no issuer/%s in %+v", name, sts)
	return pluginState{}
}

// A batch of issuances runs through the server's worker while the
// issuer's binary is replaced and registered: every job succeeds at its
// first attempt, and every certificate gets exactly one version. The
// issuer is gatedissuer (sdk/plugin/host/testdata), which holds calls in
// flight until the test opens its gate: the register happens with a
// worker's worth of calls inside the old process.
func TestPluginUpgradeUnderLoadFailsNoJob(t *testing.T) {
	t.Parallel()
	const file = "certctl-plugin-issuer-gated"
	bin := plugintest.Build(t, "github.com/certctl/certctl/sdk/plugin/host/testdata/gatedissuer")
	dir := t.TempDir()
	installPlugin(t, bin, dir, file, "")
	env := apitest.Start(t, apitest.Options{PluginDir: dir})
	ctx := core.WithActor(context.Background(), core.SystemActor)
	gate := t.TempDir()
	iss, err := env.Service.CreateIssuer(ctx, service.IssuerInput{Name: "gated", Type: "gated",
		Config: map[string]any{"gate": gate}})
	if err != nil {
		t.Fatal(err)
	}
	before := issuerPlugin(t, env.Service, ctx, "gated")
	if before.Pid == 0 { // creating the issuer had it check its configuration
		t.Fatalf("no process after the issuer's creation: %+v", before)
	}

	const batch, concurrency = 24, 8
	var certs []uuid.UUID
	for i := range batch {
		name := fmt.Sprintf("load%02d", i)
		c, err := env.Service.CreateCertificate(ctx, service.CertificateInput{Name: name, CommonName: name + ".example.com",
			IssuerID: iss.ID})
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
	arrived := func(pid int) int {
		files, err := filepath.Glob(filepath.Join(gate, fmt.Sprintf("arrived-%d-*", pid)))
		if err != nil {
			t.Fatal(err)
		}
		return len(files)
	}

	workCtx, stop := context.WithCancel(context.Background())
	worker := env.Service.NewWorker(service.WorkerOptions{Concurrency: concurrency})
	done := make(chan struct{})
	go func() { worker.Run(workCtx); close(done) }()
	defer func() { stop(); <-done }()

	// A worker's worth of issuances are inside the old process ...
	waitUntil(t, "the first issuances to reach the plugin", func() bool { return arrived(before.Pid) == concurrency })
	// ... when the new binary is installed and registered.
	installPlugin(t, bin, dir, file, "v2")
	st, err := env.Service.RegisterPlugin(ctx, plugin.KindIssuer, "gated")
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if st.SHA256 == before.SHA256 || st.Status != "running" || st.Pid == before.Pid {
		t.Fatalf("after register: %+v (before: %+v)", st, before)
	}
	if err := os.WriteFile(filepath.Join(gate, "open"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "the batch to end", func() bool {
		n := 0
		for _, j := range jobs() {
			if j.State == core.JobSucceeded || j.State == core.JobFailed {
				n++
			}
		}
		return n == batch
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
	// The calls in flight ended on the old process, the others went to the new one.
	if old, cur := arrived(before.Pid), arrived(st.Pid); old != concurrency || cur != batch-concurrency {
		t.Errorf("issuances served: %d by the old process, %d by the new, want %d and %d", old, cur, concurrency, batch-concurrency)
	}
	if now := issuerPlugin(t, env.Service, ctx, "gated"); now.Pid != st.Pid || now.Status != "running" || now.Restarts != 0 {
		t.Errorf("plugin after the batch: %+v", now)
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
	installPlugin(t, filepath.Join(pluginDir, localPluginFile), dir, localPluginFile, "v2")
	if pid := issuerPlugin(t, env.Service, ctx, "local").Pid; pid > 0 {
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
	if st := issuerPlugin(t, env.Service, ctx, "local"); st.Status != "checksum_mismatch" {
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
