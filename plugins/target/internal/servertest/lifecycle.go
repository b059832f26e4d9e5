package servertest

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// callTimeout bounds one call to the plugin.
const callTimeout = 60 * time.Second

// WantFile is a file a deployment must leave behind.
type WantFile struct {
	Path    string
	Content string
	Mode    fs.FileMode
}

// Lifecycle is a running server and the plugin that deploys to it.
type Lifecycle struct {
	Target plugin.Target
	Server *Server
	// Config deploys to the server (verify_address set); its files hold
	// a bootstrap certificate the server started with.
	Config plugin.Config
	Addr   string
	// Files lists the files a deployment of l leaves, with their modes.
	Files func(l Leaf) []WantFile
	// ChainLen is how many certificates the server must present (the
	// leaf and its chain).
	ChainLen int
	// Break corrupts the server's configuration so that the validate
	// command fails, printing BrokenOutput; it returns what repairs it.
	Break        func(t *testing.T) (repair func())
	BrokenOutput string
	// Reloads counts the runs of the reload command so far.
	Reloads func(t *testing.T) int
	// DirField is a path field that the dry-run checks point into a
	// directory that does not exist.
	DirField string
}

// RunLifecycle deploys through the plugin to the running server: a dry
// run, a first deployment, the same again (nothing happens), a second
// certificate, a deployment the server's broken configuration refuses
// (everything put back), the dry run's errors, and ValidateDeployment's
// answers. Each step is a subtest; later steps need the earlier ones.
func RunLifecycle(t *testing.T, lc Lifecycle) {
	ca := NewCA(t, "lifecycle CA")
	a, b, c := ca.Issue(t, "localhost", "127.0.0.1"), ca.Issue(t, "localhost", "127.0.0.1"), ca.Issue(t, "localhost", "127.0.0.1")
	files := func(l Leaf) []string {
		var out []string
		for _, f := range lc.Files(l) {
			out = append(out, f.Path)
		}
		return out
	}
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	step("dry_run_changes_nothing", func(t *testing.T) {
		before := snapshot(t, files(a))
		res, err := deploy(t, lc.Target, dryRun(a.Request(lc.Config)))
		if err != nil {
			t.Fatalf("dry run: %v", err)
		}
		if res.Changed || !strings.Contains(res.Message, "would write") {
			t.Errorf("dry run = %+v, want Changed false and what it would write", res)
		}
		before.unchanged(t)
		if n := lc.Reloads(t); n != 0 {
			t.Errorf("the dry run reloaded the server (%d runs)", n)
		}
	})

	step("deploy_a", func(t *testing.T) {
		res, err := deploy(t, lc.Target, a.Request(lc.Config))
		if err != nil {
			t.Fatalf("deploy A: %v", err)
		}
		if !res.Changed || res.Metadata["files_written"] == "" || res.Metadata["duration_ms"] == "" ||
			res.Metadata["address"] != lc.Addr {
			t.Errorf("deploy A = %+v, want Changed true with files_written, duration_ms and address metadata", res)
		}
		checkFiles(t, lc.Files(a))
		if n := lc.Reloads(t); n != 1 {
			t.Errorf("reload ran %d times, want 1", n)
		}
		served := WaitServes(t, lc.Server, lc.Addr, a.Serial)
		if len(served) != lc.ChainLen {
			t.Errorf("the server presents %d certificates, want %d (leaf and chain)", len(served), lc.ChainLen)
		}
		wantValid(t, lc.Target, lc.Config, a)
	})

	step("validate_deployment_other_serial", func(t *testing.T) {
		cfg := with(lc.Config, "verify_timeout", "0s")
		res, err := validate(t, lc.Target, cfg, strings.ToUpper(b.Serial.Text(16)))
		if err != nil {
			t.Fatalf("ValidateDeployment: %v", err)
		}
		if res.Valid || !sameHex(res.ServedSerial, a.Serial.Text(16)) || !strings.Contains(res.Message, "not the expected") {
			t.Errorf("ValidateDeployment of B while A is served = %+v, want Valid false, served %x", res, a.Serial)
		}
	})

	step("deploy_a_again_is_a_no_op", func(t *testing.T) {
		before := snapshot(t, files(a))
		res, err := deploy(t, lc.Target, a.Request(lc.Config))
		if err != nil {
			t.Fatalf("deploy A again: %v", err)
		}
		if res.Changed {
			t.Errorf("deploying A again = %+v, want Changed false", res)
		}
		before.unchanged(t)
		if n := lc.Reloads(t); n != 1 {
			t.Errorf("reload ran %d times, want still 1: nothing changed, nothing to reload", n)
		}
	})

	step("deploy_b", func(t *testing.T) {
		res, err := deploy(t, lc.Target, b.Request(lc.Config))
		if err != nil || !res.Changed {
			t.Fatalf("deploy B = %+v, %v", res, err)
		}
		checkFiles(t, lc.Files(b))
		WaitServes(t, lc.Server, lc.Addr, b.Serial)
		wantValid(t, lc.Target, lc.Config, b)
		if n := lc.Reloads(t); n != 2 {
			t.Errorf("reload ran %d times, want 2", n)
		}
	})

	step("broken_server_config_rolls_back", func(t *testing.T) {
		repair := lc.Break(t)
		defer repair()
		_, err := deploy(t, lc.Target, c.Request(lc.Config))
		var pe *plugin.Error
		if !errors.As(err, &pe) || pe.Code != plugin.CodePermanent {
			t.Fatalf("deploy C with a broken server configuration: %v, want a %s error", err, plugin.CodePermanent)
		}
		t.Logf("the error, as the host sees it: %v", err)
		for _, want := range []string{"validate_command failed", lc.BrokenOutput, "previous files were restored"} {
			if !strings.Contains(pe.Message, want) {
				t.Errorf("error %q does not say %q", pe.Message, want)
			}
		}
		if strings.Contains(pe.Message, "PRIVATE KEY") || strings.Contains(pe.Message, keyBody(c.KeyPEM)) {
			t.Error("the error quotes the private key")
		}
		checkFiles(t, lc.Files(b))
		if n := lc.Reloads(t); n != 2 {
			t.Errorf("reload ran %d times, want still 2: validation failed first", n)
		}
		if certs, err := Served(lc.Addr); err != nil || certs[0].SerialNumber.Cmp(b.Serial) != 0 {
			t.Errorf("after the failed deployment the server serves %v (%v), want B %x (A is %x)", serialOf(certs), err, b.Serial, a.Serial)
		}
		wantValid(t, lc.Target, lc.Config, b)
	})

	step("dry_run_after_failure", func(t *testing.T) {
		before := snapshot(t, files(c))
		res, err := deploy(t, lc.Target, dryRun(c.Request(lc.Config)))
		if err != nil || res.Changed {
			t.Fatalf("dry run of C = %+v, %v; want success, Changed false", res, err)
		}
		before.unchanged(t)
		res, err = deploy(t, lc.Target, dryRun(b.Request(lc.Config)))
		if err != nil || res.Changed || !strings.Contains(res.Message, "nothing would be done") {
			t.Errorf("dry run of the deployed B = %+v, %v; want nothing to do", res, err)
		}
	})

	step("dry_run_missing_directory", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "no-such-dir", "file.pem")
		_, err := deploy(t, lc.Target, dryRun(c.Request(with(lc.Config, lc.DirField, missing))))
		wantInvalid(t, err, lc.DirField)
		_, err = deploy(t, lc.Target, c.Request(with(lc.Config, lc.DirField, missing)))
		wantInvalid(t, err, lc.DirField)
		checkFiles(t, lc.Files(b))
	})

	step("dry_run_missing_command", func(t *testing.T) {
		_, err := deploy(t, lc.Target, dryRun(c.Request(with(lc.Config, "validate_command", []any{"certctl-no-such-command"}))))
		wantInvalid(t, err, "validate_command")
	})

	step("bad_input", func(t *testing.T) {
		mixed := c
		mixed.KeyPEM = a.KeyPEM
		_, err := deploy(t, lc.Target, mixed.Request(lc.Config))
		var pe *plugin.Error
		if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidInput || !strings.Contains(pe.Message, "does not match") {
			t.Errorf("deploying C with A's key: %v, want %s about the key", err, plugin.CodeInvalidInput)
		} else if strings.Contains(pe.Message, keyBody(a.KeyPEM)) {
			t.Error("the error quotes the private key")
		}
		_, err = validate(t, lc.Target, lc.Config, "not-hex")
		if plugin.ErrorCode(err) != plugin.CodeInvalidInput {
			t.Errorf("ValidateDeployment of serial \"not-hex\": %v, want %s", err, plugin.CodeInvalidInput)
		}
		checkFiles(t, lc.Files(b))
	})

	step("validate_deployment_unreachable", func(t *testing.T) {
		cfg := with(with(lc.Config, "verify_address", FreeAddr(t)), "verify_timeout", "0s")
		_, err := validate(t, lc.Target, cfg, b.Serial.Text(16))
		if plugin.ErrorCode(err) != plugin.CodeTransient {
			t.Errorf("ValidateDeployment against a closed port: %v, want %s", err, plugin.CodeTransient)
		}
	})

	step("validate_deployment_file_only", func(t *testing.T) {
		cfg := with(lc.Config, "verify_address", nil)
		res, err := validate(t, lc.Target, cfg, b.Serial.Text(16))
		if err != nil || !res.Valid || !strings.Contains(res.Message, "verify_address is not set") {
			t.Errorf("ValidateDeployment without verify_address = %+v, %v; want Valid from the file, saying so", res, err)
		}
	})

	step("validate_config", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
		defer cancel()
		if err := lc.Target.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: lc.Config}); err != nil {
			t.Fatalf("ValidateConfig of the working configuration: %v", err)
		}
		info, err := lc.Target.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			field string
			value any
		}{
			{lc.DirField, "relative/path.pem"},
			{lc.DirField, "/etc/ssl/"},
			{"reload_command", []any{}},
			{"reload_command", []any{""}},
			{"verify_address", "localhost"},
			{"verify_address", "127.0.0.1:99999"},
			{"verify_server_name", "bad name"},
			{"command_timeout", "1h"},
			{"command_timeout", "0s"},
			{"verify_timeout", "6m"},
			{"owner", "bad owner"},
			{"group", "a:b"},
			{"validate_command", "nginx -t"},
			{"no_such_field", "x"},
		}
		for _, f := range info.Schema.Fields {
			if f.Required {
				cases = append(cases, struct {
					field string
					value any
				}{f.Name, nil})
			}
		}
		for _, tc := range cases {
			field := tc.field
			cfg := with(lc.Config, tc.field, tc.value)
			if tc.value == nil {
				delete(cfg, tc.field)
			}
			err := lc.Target.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: cfg})
			var pe *plugin.Error
			if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidConfig || pe.Field != field {
				t.Errorf("ValidateConfig with %s = %#v: %v, want %s naming %s", tc.field, tc.value, err, plugin.CodeInvalidConfig, field)
			}
		}
	})
}

// FileChecks deploy through the plugin to files no server reads, with
// commands the test controls.
type FileChecks struct {
	Target plugin.Target
	// Config returns a configuration whose files are in dir, with the
	// given commands.
	Config func(dir string, validate, reload []any) plugin.Config
	// Files lists the files a deployment of l to dir leaves; modes are
	// those of new files.
	Files func(dir string, l Leaf) []WantFile
}

// RunFileChecks checks what does not need a server: the modes and owner
// of new files, the rollback after a failed reload (which is run again),
// and a deployment interrupted by its deadline.
func RunFileChecks(t *testing.T, fc FileChecks) {
	ca := NewCA(t, "files CA")
	a, b := ca.Issue(t, "files.example.com"), ca.Issue(t, "files.example.com")

	t.Run("new_files", func(t *testing.T) {
		dir := t.TempDir()
		cfg := fc.Config(dir, []any{"true"}, []any{"true"})
		asRoot := os.Geteuid() == 0
		if asRoot { // only root may give files away
			cfg["owner"], cfg["group"] = "nobody", "65534"
		}
		res, err := deploy(t, fc.Target, a.Request(cfg))
		if err != nil || !res.Changed {
			t.Fatalf("deploy to new files = %+v, %v", res, err)
		}
		checkFiles(t, fc.Files(dir, a))
		for _, f := range fc.Files(dir, a) {
			fi, err := os.Stat(f.Path)
			if err != nil {
				t.Fatal(err)
			}
			if st := fi.Sys().(*syscall.Stat_t); asRoot && (st.Uid != 65534 || st.Gid != 65534) {
				t.Errorf("%s is owned by %d:%d, want nobody (65534:65534)", f.Path, st.Uid, st.Gid)
			}
		}
		entries, _ := os.ReadDir(dir)
		if len(entries) != len(fc.Files(dir, a)) {
			t.Errorf("%s holds %d entries, want only the deployed files (no temporary files left)", dir, len(entries))
		}
		cfg["owner"] = "certctl-no-such-user"
		_, err = deploy(t, fc.Target, dryRun(b.Request(cfg)))
		wantInvalid(t, err, "owner")
	})

	t.Run("failed_reload_rolls_back_and_reloads_again", func(t *testing.T) {
		dir := t.TempDir()
		count := filepath.Join(dir, "reloads")
		cfg := fc.Config(dir, []any{"true"}, []any{"true"})
		if _, err := deploy(t, fc.Target, a.Request(cfg)); err != nil {
			t.Fatal(err)
		}
		cfg = fc.Config(dir, []any{"true"}, Counting(count, "sh", "-c", "echo reload refused >&2; exit 3"))
		_, err := deploy(t, fc.Target, b.Request(cfg))
		var pe *plugin.Error
		if !errors.As(err, &pe) || pe.Code != plugin.CodePermanent || !strings.Contains(pe.Message, "reload refused") ||
			!strings.Contains(pe.Message, "exit status 3") || !strings.Contains(pe.Message, "again") {
			t.Errorf("deploy with a failing reload: %v, want %s with the command's output", err, plugin.CodePermanent)
		}
		checkFiles(t, fc.Files(dir, a))
		if n := Count(t, count); n != 2 {
			t.Errorf("reload ran %d times, want 2 (the failed run, then again after restoring)", n)
		}

		// Files that did not exist before are removed again.
		fresh := t.TempDir()
		_, err = deploy(t, fc.Target, a.Request(fc.Config(fresh, []any{"false"}, []any{"true"})))
		if plugin.ErrorCode(err) != plugin.CodePermanent {
			t.Errorf("deploy with a failing validate: %v, want %s", err, plugin.CodePermanent)
		}
		if entries, _ := os.ReadDir(fresh); len(entries) != 0 {
			t.Errorf("after the failed first deployment %s holds %d entries, want none", fresh, len(entries))
		}
	})

	t.Run("deadline_during_validate_rolls_back", func(t *testing.T) {
		dir := t.TempDir()
		cfg := fc.Config(dir, []any{"true"}, []any{"true"})
		if _, err := deploy(t, fc.Target, a.Request(cfg)); err != nil {
			t.Fatal(err)
		}
		count := filepath.Join(dir, "reloads")
		cfg = fc.Config(dir, []any{"sleep", "30"}, Counting(count, "true"))
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := fc.Target.DeployCertificate(ctx, b.Request(cfg))
		if code := plugin.ErrorCode(err); code != plugin.CodeDeadline && code != plugin.CodeCanceled {
			t.Errorf("deploy past its deadline: %v, want %s", err, plugin.CodeDeadline)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("deploy past its deadline took %s", took)
		}
		// The plugin restores the files once the killed command is gone;
		// the caller does not wait for that.
		waitFiles(t, fc.Files(dir, a))
		if n := Count(t, count); n != 0 {
			t.Errorf("reload ran %d times after the deadline, want 0", n)
		}
	})
}

func deploy(t *testing.T, target plugin.Target, req plugin.DeployRequest) (plugin.DeployResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return target.DeployCertificate(ctx, req)
}

func validate(t *testing.T, target plugin.Target, cfg plugin.Config, serial string) (plugin.ValidateDeploymentResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	return target.ValidateDeployment(ctx, plugin.ValidateDeploymentRequest{Config: cfg, SerialNumber: serial})
}

func wantValid(t *testing.T, target plugin.Target, cfg plugin.Config, l Leaf) {
	t.Helper()
	res, err := validate(t, target, cfg, l.Serial.Text(16))
	if err != nil || !res.Valid || !sameHex(res.ServedSerial, l.Serial.Text(16)) {
		t.Errorf("ValidateDeployment(%x) = %+v, %v; want Valid", l.Serial, res, err)
	}
}

func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var pe *plugin.Error
	if !errors.As(err, &pe) || pe.Code != plugin.CodeInvalidConfig || pe.Field != field {
		t.Errorf("error %v, want %s naming %s", err, plugin.CodeInvalidConfig, field)
	}
}

func dryRun(req plugin.DeployRequest) plugin.DeployRequest {
	req.DryRun = true
	return req
}

// with returns a copy of cfg with field set to v (removed for nil).
func with(cfg plugin.Config, field string, v any) plugin.Config {
	out := cfg.Clone()
	if v == nil {
		delete(out, field)
	} else {
		out[field] = v
	}
	return out
}

func sameHex(a, b string) bool {
	return strings.TrimLeft(strings.ToLower(a), "0") == strings.TrimLeft(strings.ToLower(b), "0")
}

func serialOf(certs []*x509.Certificate) string {
	if len(certs) == 0 {
		return "nothing"
	}
	return "serial " + certs[0].SerialNumber.Text(16)
}

// keyBody is a piece of a PEM key's base64 body, to look for in errors.
func keyBody(keyPEM string) string {
	lines := strings.Split(strings.TrimSpace(keyPEM), "\n")
	return lines[1][:32]
}

// checkFiles fails the test unless every file holds its content with its
// mode.
func checkFiles(t *testing.T, files []WantFile) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(f.Path)
		if err != nil {
			t.Errorf("read %s: %v", f.Path, err)
			continue
		}
		if string(data) != f.Content {
			t.Errorf("%s does not hold what was deployed last:\n%s\nwant:\n%s", f.Path, data, redact(f.Content))
		}
		fi, err := os.Stat(f.Path)
		if err == nil && fi.Mode().Perm() != f.Mode {
			t.Errorf("%s has mode %v, want %v", f.Path, fi.Mode().Perm(), f.Mode)
		}
	}
}

// waitFiles waits until the files hold what they should (boundedly).
func waitFiles(t *testing.T, files []WantFile) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok := true
		for _, f := range files {
			if data, err := os.ReadFile(f.Path); err != nil || string(data) != f.Content {
				ok = false
			}
		}
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	checkFiles(t, files)
}

func redact(s string) string {
	if i := strings.Index(s, "-----BEGIN PRIVATE KEY"); i >= 0 {
		return s[:i] + "[key]"
	}
	return s
}

// fileState is what a set of files held at one moment.
type fileState struct {
	paths []string
	data  [][]byte
	mtime []time.Time
}

func snapshot(t *testing.T, paths []string) fileState {
	t.Helper()
	s := fileState{paths: paths}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		s.data, s.mtime = append(s.data, data), append(s.mtime, fi.ModTime())
	}
	return s
}

// unchanged fails the test if a file was written since the snapshot.
func (s fileState) unchanged(t *testing.T) {
	t.Helper()
	for i, p := range s.paths {
		data, err := os.ReadFile(p)
		fi, serr := os.Stat(p)
		if err != nil || serr != nil || !bytes.Equal(data, s.data[i]) || !fi.ModTime().Equal(s.mtime[i]) {
			t.Errorf("%s was changed (or touched)", p)
		}
	}
	entries, _ := os.ReadDir(filepath.Dir(s.paths[0]))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".certctl-") {
			t.Errorf("a temporary file was left behind: %s", e.Name())
		}
	}
}
