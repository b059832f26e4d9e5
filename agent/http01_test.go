package agent

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

// challenge makes a well-formed HTTP-01 challenge.
func challenge(token string) api.AgentChallenge {
	return api.AgentChallenge{Identifier: "www.example.com", Token: token,
		KeyAuthorization: token + ".Nkh3vGb2fAL0rBK6FEyBsyjN8Cr1hOlg5qF5sAd3pXs"}
}

// get fetches url and returns the status and body; status 0 when nothing
// answers.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// webServer serves dir over HTTP on loopback as a web server serving the
// webroot would.
func webServer(t *testing.T, dir string) string {
	t.Helper()
	srv := httptest.NewServer(http.FileServer(http.Dir(dir)))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestHTTP01Webroot(t *testing.T) {
	webroot := filepath.Join(t.TempDir(), "www")
	if err := os.Mkdir(webroot, 0o700); err != nil { // the parent is the server's; the agent makes the rest
		t.Fatal(err)
	}
	p := newHTTP01Presenter(webroot, "", t.TempDir(), slog.New(slog.DiscardHandler))
	defer p.Close()
	site := webServer(t, webroot)
	a, b := challenge("tok-A_1"), challenge("tokB")
	for range 2 { // the same work twice: idempotent
		tokens, err := p.Present(t.Context(), "job-1", []api.AgentChallenge{a, b})
		if err != nil || strings.Join(tokens, ",") != "tok-A_1,tokB" {
			t.Fatalf("Present = %v, %v", tokens, err)
		}
	}
	for _, c := range []api.AgentChallenge{a, b} {
		if status, body := get(t, site+challengePathPrefix+c.Token); status != 200 || body != c.KeyAuthorization {
			t.Errorf("GET %s = %d %q, want the key authorization", c.Token, status, body)
		}
		fi, err := os.Stat(filepath.Join(webroot, ".well-known", "acme-challenge", c.Token))
		if err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("challenge file: %v %v, want mode 0644", fi, err)
		}
	}
	for _, d := range []string{".well-known", ".well-known/acme-challenge"} {
		if fi, err := os.Stat(filepath.Join(webroot, d)); err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("directory %s: %v %v, want mode 0755", d, fi, err)
		}
	}
	if p.ListenerAddr() != "" {
		t.Errorf("a listener opened without CERTCTL_HTTP01_LISTEN")
	}

	// Cleanup of one leaves the other; cleanup twice is harmless.
	for range 2 {
		tokens, err := p.Cleanup([]api.AgentChallenge{a})
		if err != nil || strings.Join(tokens, ",") != "tok-A_1" {
			t.Fatalf("Cleanup = %v, %v", tokens, err)
		}
	}
	if status, _ := get(t, site+challengePathPrefix+a.Token); status != 404 {
		t.Errorf("after cleanup GET %s = %d, want 404", a.Token, status)
	}
	if status, _ := get(t, site+challengePathPrefix+b.Token); status != 200 {
		t.Errorf("the other challenge went with the first: %d", status)
	}
	if _, err := p.Cleanup([]api.AgentChallenge{b}); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(filepath.Join(webroot, ".well-known", "acme-challenge"))
	if len(entries) != 0 {
		t.Errorf("files left in the webroot: %v", entries)
	}
}

func TestHTTP01Listener(t *testing.T) {
	p := newHTTP01Presenter("", "127.0.0.1:0", t.TempDir(), slog.New(slog.DiscardHandler))
	defer p.Close()
	if p.ListenerAddr() != "" {
		t.Fatal("the listener is open before any challenge")
	}
	a, b := challenge("first"), challenge("second")
	if _, err := p.Present(t.Context(), "job-1", []api.AgentChallenge{a}); err != nil {
		t.Fatal(err)
	}
	addr := p.ListenerAddr()
	if addr == "" {
		t.Fatal("no listener after a challenge was presented")
	}
	if _, err := p.Present(t.Context(), "job-2", []api.AgentChallenge{b}); err != nil {
		t.Fatal(err)
	}
	if p.ListenerAddr() != addr {
		t.Fatalf("a second challenge moved the listener: %s, then %s", addr, p.ListenerAddr())
	}
	base := "http://" + addr
	for _, c := range []api.AgentChallenge{a, b} {
		if status, body := get(t, base+challengePathPrefix+c.Token); status != 200 || body != c.KeyAuthorization {
			t.Errorf("GET %s = %d %q", c.Token, status, body)
		}
	}
	// Only the challenges: anything else is not found.
	for _, path := range []string{"/", "/.well-known/acme-challenge/", "/.well-known/acme-challenge/unknown",
		"/first", "/.well-known/acme-challenge/first/x"} {
		if status, _ := get(t, base+path); status != 404 {
			t.Errorf("GET %s = %d, want 404", path, status)
		}
	}
	resp, err := http.Post(base+challengePathPrefix+a.Token, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("POST to a challenge = %d, want 404", resp.StatusCode)
	}

	// The listener stays while a challenge is left, and closes after the last.
	if _, err := p.Cleanup([]api.AgentChallenge{a}); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, base+challengePathPrefix+a.Token); status != 404 {
		t.Errorf("a removed challenge is served: %d", status)
	}
	if status, _ := get(t, base+challengePathPrefix+b.Token); status != 200 {
		t.Errorf("the remaining challenge is not served: %d", status)
	}
	if _, err := p.Cleanup([]api.AgentChallenge{b}); err != nil {
		t.Fatal(err)
	}
	if p.ListenerAddr() != "" {
		t.Error("the listener is still open with no challenge left")
	}
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Errorf("%s still accepts connections after the last cleanup", addr)
	}

	// Presented again, it opens again.
	if _, err := p.Present(t.Context(), "job-3", []api.AgentChallenge{a}); err != nil {
		t.Fatal(err)
	}
	if status, _ := get(t, "http://"+p.ListenerAddr()+challengePathPrefix+a.Token); status != 200 {
		t.Errorf("reopened listener: %d", status)
	}
	p.Close()
	if p.ListenerAddr() != "" {
		t.Error("Close left the listener open")
	}
}

func TestHTTP01WebrootAndListener(t *testing.T) {
	webroot := t.TempDir()
	p := newHTTP01Presenter(webroot, "127.0.0.1:0", t.TempDir(), slog.New(slog.DiscardHandler))
	defer p.Close()
	c := challenge("both")
	if _, err := p.Present(t.Context(), "job-1", []api.AgentChallenge{c}); err != nil {
		t.Fatal(err)
	}
	for _, base := range []string{webServer(t, webroot), "http://" + p.ListenerAddr()} {
		if status, body := get(t, base+challengePathPrefix+c.Token); status != 200 || body != c.KeyAuthorization {
			t.Errorf("GET from %s = %d %q", base, status, body)
		}
	}
	if _, err := p.Cleanup([]api.AgentChallenge{c}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(webroot, ".well-known", "acme-challenge", c.Token)); !os.IsNotExist(err) {
		t.Errorf("challenge file after cleanup: %v", err)
	}
	if p.ListenerAddr() != "" {
		t.Error("listener open after cleanup")
	}
}

// Tokens become file names: nothing but base64url may pass, so no
// challenge can write outside the webroot's acme-challenge directory.
func TestHTTP01RefusesBadChallenges(t *testing.T) {
	outer := t.TempDir()
	webroot := filepath.Join(outer, "www")
	p := newHTTP01Presenter(webroot, "", t.TempDir(), slog.New(slog.DiscardHandler))
	defer p.Close()
	good := challenge("good")
	for _, c := range []api.AgentChallenge{
		{Token: "../../escape", KeyAuthorization: "../../escape.abc"},
		{Token: "a/b", KeyAuthorization: "a/b.abc"},
		{Token: "..", KeyAuthorization: "...abc"},
		{Token: ".hidden", KeyAuthorization: ".hidden.abc"},
		{Token: "", KeyAuthorization: ".abc"},
		{Token: "tok\n", KeyAuthorization: "tok\n.abc"},
		{Token: strings.Repeat("a", 257), KeyAuthorization: strings.Repeat("a", 257) + ".abc"},
		{Token: "tok", KeyAuthorization: "other.abc"},         // not this token's
		{Token: "tok", KeyAuthorization: "tok."},              // no thumbprint
		{Token: "tok", KeyAuthorization: "tok.abc\n<script>"}, // not base64url
	} {
		// A bad challenge fails the whole item, the good one with it.
		tokens, err := p.Present(t.Context(), "job-1", []api.AgentChallenge{good, c})
		if err == nil || len(tokens) != 0 {
			t.Errorf("Present(%q, %q) = %v, %v; want an error and no tokens", c.Token, c.KeyAuthorization, tokens, err)
		}
	}
	var files []string
	_ = filepath.WalkDir(outer, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, path)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("files written for refused challenges: %v", files)
	}
}

func TestHTTP01NotConfigured(t *testing.T) {
	p := newHTTP01Presenter("", "", t.TempDir(), slog.New(slog.DiscardHandler))
	defer p.Close()
	_, err := p.Present(t.Context(), "job-1", []api.AgentChallenge{challenge("tok")})
	if !errors.Is(err, ErrHTTP01NotConfigured) {
		t.Fatalf("Present = %v, want ErrHTTP01NotConfigured", err)
	}
	for _, want := range []string{"CERTCTL_HTTP01_WEBROOT", "--http01-webroot", "CERTCTL_HTTP01_LISTEN", "--http01-listen",
		"/.well-known/acme-challenge/"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	// Nothing to remove is not a failure: the server may clean up after a
	// failed presentation.
	if tokens, err := p.Cleanup([]api.AgentChallenge{challenge("tok")}); err != nil || len(tokens) != 1 {
		t.Errorf("Cleanup = %v, %v", tokens, err)
	}
}

// A listener that cannot open fails the item with what to do, and the
// item's webroot files go too: the order cannot succeed without all of it.
func TestHTTP01ListenerAddressTaken(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	webroot := t.TempDir()
	p := newHTTP01Presenter(webroot, busy.Addr().String(), t.TempDir(), slog.New(slog.DiscardHandler))
	defer p.Close()
	tokens, err := p.Present(t.Context(), "job-1", []api.AgentChallenge{challenge("tok")})
	if err == nil || len(tokens) != 0 {
		t.Fatalf("Present = %v, %v; want an error", tokens, err)
	}
	for _, want := range []string{busy.Addr().String(), "CERTCTL_HTTP01_WEBROOT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	if _, err := os.Stat(filepath.Join(webroot, ".well-known", "acme-challenge", "tok")); !os.IsNotExist(err) {
		t.Errorf("the failed item's file is left: %v", err)
	}
}

// A restart after a crash removes the challenge files the agent wrote, and
// only those: not files of other tools, not a file rewritten since.
func TestHTTP01RemovesStaleFilesAtStart(t *testing.T) {
	webroot, stateDir := t.TempDir(), t.TempDir()
	dir := filepath.Join(webroot, ".well-known", "acme-challenge")
	crashed := newHTTP01Presenter(webroot, "", stateDir, slog.New(slog.DiscardHandler))
	if _, err := crashed.Present(t.Context(), "job-1", []api.AgentChallenge{challenge("ours"), challenge("rewritten")}); err != nil {
		t.Fatal(err)
	}
	// No Close: the agent died. Since then another tool wrote a file of its
	// own and rewrote one of the agent's.
	if err := os.WriteFile(filepath.Join(dir, "theirs"), []byte("theirs.xyz"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rewritten"), []byte("rewritten.by-someone-else"), 0o644); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(webroot, "index.html")
	if err := os.WriteFile(other, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}

	p := newHTTP01Presenter(webroot, "", stateDir, slog.New(slog.DiscardHandler))
	defer p.Close()
	if _, err := os.Stat(filepath.Join(dir, "ours")); !os.IsNotExist(err) {
		t.Errorf("the agent's stale file is still there: %v", err)
	}
	for _, keep := range []string{filepath.Join(dir, "theirs"), filepath.Join(dir, "rewritten"), other} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("a file the agent did not write (or no longer owns) was removed: %s: %v", keep, err)
		}
	}
	// The record is empty now: a second restart touches nothing.
	if err := os.WriteFile(filepath.Join(dir, "ours"), []byte(challenge("ours").KeyAuthorization), 0o644); err != nil {
		t.Fatal(err)
	}
	again := newHTTP01Presenter(webroot, "", stateDir, slog.New(slog.DiscardHandler))
	defer again.Close()
	if _, err := os.Stat(filepath.Join(dir, "ours")); err != nil {
		t.Errorf("a file written after the cleanup was removed by the next start: %v", err)
	}
}

// Close stops serving: the files go and the listener closes.
func TestHTTP01Close(t *testing.T) {
	webroot := t.TempDir()
	p := newHTTP01Presenter(webroot, "127.0.0.1:0", t.TempDir(), slog.New(slog.DiscardHandler))
	if _, err := p.Present(t.Context(), "job-1", []api.AgentChallenge{challenge("tok")}); err != nil {
		t.Fatal(err)
	}
	addr := p.ListenerAddr()
	p.Close()
	if _, err := os.Stat(filepath.Join(webroot, ".well-known", "acme-challenge", "tok")); !os.IsNotExist(err) {
		t.Errorf("challenge file after Close: %v", err)
	}
	if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
		c.Close()
		t.Error("the listener accepts connections after Close")
	}
}

func TestHTTP01Settings(t *testing.T) {
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	cfg, err := ParseConfig(nil, env(map[string]string{"CERTCTL_SERVER_URL": "http://127.0.0.1:1",
		"CERTCTL_HTTP01_WEBROOT": "www", "CERTCTL_HTTP01_LISTEN": ":80"}), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if cfg.HTTP01Webroot != filepath.Join(wd, "www") || cfg.HTTP01Listen != ":80" {
		t.Errorf("from the environment: webroot %q, listen %q", cfg.HTTP01Webroot, cfg.HTTP01Listen)
	}
	cfg, err = ParseConfig([]string{"--http01-webroot", "/srv/www", "--http01-listen", "127.0.0.1:8080"},
		env(map[string]string{"CERTCTL_SERVER_URL": "http://127.0.0.1:1", "CERTCTL_HTTP01_WEBROOT": "/other"}), io.Discard)
	if err != nil || cfg.HTTP01Webroot != "/srv/www" || cfg.HTTP01Listen != "127.0.0.1:8080" {
		t.Errorf("flags: %+v, %v", cfg, err)
	}
	_, err = ParseConfig([]string{"--http01-listen", "80"}, env(map[string]string{"CERTCTL_SERVER_URL": "http://127.0.0.1:1"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--http01-listen") {
		t.Errorf("a port without a colon: %v, want an error naming --http01-listen", err)
	}
}
