package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// TestContexts: contexts are saved 0600 without the key ever printed, the
// current one is used with no flag or environment, --context and the
// environment take precedence as docs/cli.md says, and a key in a file
// others can read is refused.
func TestContexts(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	none := []string{} // no CERTCTL_URL or CERTCTL_API_KEY
	cfgPath := filepath.Join(s.home, ".config", "certctl", "config.yaml")

	// Without any configuration: no server.
	if r := s.runWith(t, none, "", "certs", "list"); r.code != 2 {
		t.Fatalf("no configuration: %s", r)
	}

	r := s.runWith(t, none, s.env.AdminKey+"\n", "config", "set-context", "local", "--url", s.env.URL, "--api-key-stdin")
	if r.code != 0 || !strings.Contains(r.stdout, "context local saved in "+cfgPath) {
		t.Fatalf("set-context: %s", r)
	}
	fi, err := os.Stat(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("configuration file mode %04o, want 0600", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(cfgPath)); di.Mode().Perm() != 0o700 {
		t.Errorf("configuration directory mode %04o, want 0700", di.Mode().Perm())
	}
	data, _ := os.ReadFile(cfgPath)
	if !strings.Contains(string(data), "current-context: local") || !strings.Contains(string(data), "api-key: "+s.env.AdminKey) {
		t.Errorf("configuration file:\n%s", data)
	}

	// The first context became the current one: it serves alone.
	if r := s.runWith(t, none, "", "certs", "list"); r.code != 0 || !strings.HasPrefix(r.stdout, "NAME") {
		t.Fatalf("certs list through the current context: %s", r)
	}

	// A second context, pointing nowhere, with a key given as a flag.
	s.ok(t, "config", "set-context", "broken", "--url", "http://127.0.0.1:1", "--api-key", "cck_nothing")
	g := s.runWith(t, none, "", "config", "get-contexts")
	if g.code != 0 {
		t.Fatal(g)
	}
	if strings.Contains(g.stdout, s.env.AdminKey) || strings.Contains(g.stdout, "cck_nothing") {
		t.Errorf("get-contexts printed a key:\n%s", g.stdout)
	}
	want := regexp.MustCompile(`(?s)^CURRENT +NAME +URL +API KEY +CA FILE\n- +broken +http://127\.0\.0\.1:1 +set +-\n\* +local +http://127\.0\.0\.1:\d+ +set +-\n$`)
	if !want.MatchString(g.stdout) {
		t.Errorf("get-contexts:\n%s", g.stdout)
	}
	var rows []map[string]any
	s.jsonOf(t, &rows, "config", "get-contexts")
	if len(rows) != 2 || rows[1]["name"] != "local" || rows[1]["current"] != true || rows[1]["api_key_set"] != true {
		t.Errorf("get-contexts -o json = %v", rows)
	}

	// --context picks a context over the environment; without it the
	// environment wins over the current context.
	if r := s.run(t, "--context", "broken", "certs", "list"); r.code != 1 || !strings.Contains(r.stderr, "127.0.0.1:1") {
		t.Errorf("--context broken with the environment set: %s", r)
	}
	if r := s.runWith(t, []string{"CERTCTL_CONTEXT=broken"}, "", "certs", "list"); r.code != 1 {
		t.Errorf("CERTCTL_CONTEXT=broken: %s", r)
	}
	s.ok(t, "config", "use-context", "broken")
	if r := s.runWith(t, none, "", "config", "current-context"); strings.TrimSpace(r.stdout) != "broken" {
		t.Errorf("current-context: %s", r)
	}
	s.ok(t, "certs", "list") // the environment's URL and key
	if r := s.runWith(t, none, "", "--context", "local", "certs", "list"); r.code != 0 {
		t.Errorf("--context local: %s", r)
	}
	if r := s.runWith(t, none, "", "--context", "nope", "certs", "list"); r.code != 2 || !strings.Contains(r.stderr, `context "nope" is not in`) {
		t.Errorf("--context nope: %s", r)
	}
	s.code(t, 3, "config", "use-context", "nope")

	// A URL from the environment or a flag goes without the current
	// context's key: the key is only ever sent to its own server.
	s.ok(t, "config", "use-context", "local")
	var mu sync.Mutex
	var auth []string
	otherServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		http.Error(w, `{"error":{"code":"unauthorized","message":"no"}}`, http.StatusUnauthorized)
	}))
	t.Cleanup(otherServer.Close)
	s.runWith(t, []string{"CERTCTL_URL=" + otherServer.URL}, "", "certs", "list")
	s.runWith(t, none, "", "--url", otherServer.URL, "certs", "list")
	mu.Lock()
	if len(auth) != 2 || auth[0] != "" || auth[1] != "" {
		t.Errorf("the other server got Authorization %q", auth)
	}
	mu.Unlock()

	// A file others can read: its keys are not used.
	s.ok(t, "config", "use-context", "local")
	if err := os.Chmod(cfgPath, 0o644); err != nil {
		t.Fatal(err)
	}
	r = s.runWith(t, none, "", "certs", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "readable by others (mode 0644): run chmod 600") {
		t.Errorf("world-readable configuration: %s", r)
	}
	// Saving it again (any change) puts the mode back.
	s.ok(t, "config", "delete-context", "broken")
	if fi, _ := os.Stat(cfgPath); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after a save: %04o", fi.Mode().Perm())
	}
	if r := s.runWith(t, none, "", "certs", "list"); r.code != 0 {
		t.Errorf("after the save: %s", r)
	}
	s.code(t, 3, "config", "delete-context", "broken")

	// --config names another file; an unknown field in it is an error.
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte("current-context: x\ncontexts:\n- name: x\n  url: "+s.env.URL+"\n  colour: blue\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if r := s.runWith(t, none, "", "--config", other, "certs", "list"); r.code != 1 || !strings.Contains(r.stderr, "field colour not found") {
		t.Errorf("unknown field: %s", r)
	}
}
