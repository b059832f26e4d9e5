package agent

import (
	"encoding/json"
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

// newPresenter starts a presenter as the agent does, with the default age
// bound and the real clock.
func newPresenter(t *testing.T, webroot, listen, stateDir string) *http01Presenter {
	t.Helper()
	return newHTTP01Presenter(t.Context(), webroot, listen, stateDir, 0, slog.New(slog.DiscardHandler))
}

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
	p := newPresenter(t, webroot, "", t.TempDir())
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
	p := newPresenter(t, "", "127.0.0.1:0", t.TempDir())
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
	p := newPresenter(t, webroot, "127.0.0.1:0", t.TempDir())
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
	p := newPresenter(t, webroot, "", t.TempDir())
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
	p := newPresenter(t, "", "", t.TempDir())
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
	p := newPresenter(t, webroot, busy.Addr().String(), t.TempDir())
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

// loopbackAddr returns a loopback address free now, for a listener that
// must open at the same address again after a restart.
func loopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startWithClock starts a presenter whose clock is *clock.
func startWithClock(t *testing.T, webroot, listen, stateDir string, clock *time.Time) *http01Presenter {
	t.Helper()
	p := makeHTTP01Presenter(webroot, listen, stateDir, 0, slog.New(slog.DiscardHandler))
	p.now = func() time.Time { return *clock }
	p.resume(t.Context())
	return p
}

// record reads the presenter's record of challenges in stateDir.
func record(t *testing.T, stateDir string) []servedChallenge {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(stateDir, "http01-challenges.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec challengeRecord
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatalf("record %s: %v", b, err)
	}
	return rec.Challenges
}

// checkServes checks that every challenge is served from the webroot (by
// a web server over it) and by the listener at addr.
func checkServes(t *testing.T, site, addr string, chs ...api.AgentChallenge) {
	t.Helper()
	for _, c := range chs {
		for _, base := range []string{site, "http://" + addr} {
			if status, body := get(t, base+challengePathPrefix+c.Token); status != 200 || body != c.KeyAuthorization {
				t.Errorf("GET %s from %s = %d %q, want the key authorization", c.Token, base, status, body)
			}
		}
	}
}

// The server may have the CA fetch a challenge any time after the agent
// reported it: a stopped agent leaves its files in place (the web server
// goes on serving them) and a restarted one serves every recorded
// challenge again, a missing file rewritten and the listener reopened,
// until the server's cleanup removes them.
func TestHTTP01ServesAgainAfterRestart(t *testing.T) {
	for _, stop := range []string{"stopped", "crashed"} {
		t.Run(stop, func(t *testing.T) {
			webroot, stateDir, addr := t.TempDir(), t.TempDir(), loopbackAddr(t)
			dir := filepath.Join(webroot, ".well-known", "acme-challenge")
			site := webServer(t, webroot)
			a, b := challenge("first"), challenge("second")
			p := newPresenter(t, webroot, addr, stateDir)
			if _, err := p.Present(t.Context(), "job-1", []api.AgentChallenge{a, b}); err != nil {
				t.Fatal(err)
			}
			if stop == "stopped" {
				p.Close()
				if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
					c.Close()
					t.Fatal("the listener accepts connections after Close")
				}
				checkServes(t, site, addr) // nothing: the listener is closed
				for _, c := range []api.AgentChallenge{a, b} {
					if status, _ := get(t, site+challengePathPrefix+c.Token); status != 200 {
						t.Errorf("a stopped agent's file for %s is not served by the web server: %d", c.Token, status)
					}
				}
			} else {
				// A crash: no Close. The listener dies with the process.
				p.mu.Lock()
				p.stopListenerLocked()
				p.mu.Unlock()
			}
			if got := record(t, stateDir); len(got) != 2 || got[0].Token != "first" || got[0].JobID != "job-1" ||
				got[0].Identifier != "www.example.com" || got[0].KeyAuthorization != a.KeyAuthorization ||
				got[0].PresentedAt.IsZero() || got[0].File != filepath.Join(dir, "first") {
				t.Errorf("record after the stop: %+v", got)
			}
			// While it was down, something deleted one of its files.
			if err := os.Remove(filepath.Join(dir, "second")); err != nil {
				t.Fatal(err)
			}

			again := newPresenter(t, webroot, addr, stateDir)
			defer again.Close()
			if again.ListenerAddr() != addr {
				t.Fatalf("the restarted agent's listener is at %q, want %s", again.ListenerAddr(), addr)
			}
			checkServes(t, site, addr, a, b)
			if fi, err := os.Stat(filepath.Join(dir, "second")); err != nil || fi.Mode().Perm() != 0o644 {
				t.Errorf("the rewritten file: %v %v", fi, err)
			}

			// The server's cleanup ends them, and the next start has
			// nothing to serve.
			if _, err := again.Cleanup([]api.AgentChallenge{a, b}); err != nil {
				t.Fatal(err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("files left after the cleanup: %v", entries)
			}
			if again.ListenerAddr() != "" {
				t.Error("the listener is open after the last cleanup")
			}
			again.Close()
			third := newPresenter(t, webroot, addr, stateDir)
			defer third.Close()
			if third.ListenerAddr() != "" || len(record(t, stateDir)) != 0 {
				t.Errorf("after the cleanup a start opens %q and records %+v", third.ListenerAddr(), record(t, stateDir))
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("a start after the cleanup wrote files: %v", entries)
			}
		})
	}
}

// The safety net for jobs the server forgot (a deleted certificate takes
// its jobs' challenge rows with it, so no cleanup ever comes): a challenge
// the server last asked for more than the age bound ago is removed, at
// start and by Maintain, and the listener closes with the last one.
func TestHTTP01ExpiresForgottenChallenges(t *testing.T) {
	webroot, stateDir, addr := t.TempDir(), t.TempDir(), loopbackAddr(t)
	dir := filepath.Join(webroot, ".well-known", "acme-challenge")
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	clock := t0
	p := startWithClock(t, webroot, addr, stateDir, &clock)
	old, recent := challenge("old"), challenge("recent")
	if _, err := p.Present(t.Context(), "job-1", []api.AgentChallenge{old}); err != nil {
		t.Fatal(err)
	}
	clock = t0.Add(20 * time.Hour)
	if _, err := p.Present(t.Context(), "job-2", []api.AgentChallenge{recent}); err != nil {
		t.Fatal(err)
	}
	p.Maintain(t.Context()) // both within the bound: nothing goes
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Fatalf("Maintain within the bound removed files: %v", entries)
	}
	p.Close()

	// Restarted 25 hours after the first was presented: it goes, the
	// other is served.
	clock = t0.Add(DefaultHTTP01MaxAge + time.Hour)
	p = startWithClock(t, webroot, addr, stateDir, &clock)
	defer p.Close()
	if _, err := os.Stat(filepath.Join(dir, "old")); !os.IsNotExist(err) {
		t.Errorf("the expired challenge's file is still there: %v", err)
	}
	checkServes(t, webServer(t, webroot), addr, recent)
	if status, _ := get(t, "http://"+addr+challengePathPrefix+old.Token); status != 404 {
		t.Errorf("the expired challenge is still served by the listener: %d", status)
	}
	if got := record(t, stateDir); len(got) != 1 || got[0].Token != "recent" {
		t.Errorf("record after the start: %+v", got)
	}

	// Running on, past the bound of the other: Maintain removes it.
	clock = t0.Add(20*time.Hour + DefaultHTTP01MaxAge + time.Minute)
	p.Maintain(t.Context())
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("files left after the bound: %v", entries)
	}
	if p.ListenerAddr() != "" || len(record(t, stateDir)) != 0 {
		t.Errorf("after the bound: listener %q, record %+v", p.ListenerAddr(), record(t, stateDir))
	}

	// Asked for again, a challenge counts from then.
	if _, err := p.Present(t.Context(), "job-2", []api.AgentChallenge{recent}); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(DefaultHTTP01MaxAge - time.Minute)
	p.Maintain(t.Context())
	if _, err := os.Stat(filepath.Join(dir, "recent")); err != nil {
		t.Errorf("a challenge presented again expired from its first presentation: %v", err)
	}
}

// The agent removes only files it wrote and that still hold what it
// wrote: not another tool's files in the same directory, not a file of
// its own rewritten since (whether at cleanup, at start or on expiry),
// not a file at the path of a token it never presented.
func TestHTTP01NeverTouchesOthersFiles(t *testing.T) {
	webroot, stateDir := t.TempDir(), t.TempDir()
	dir := filepath.Join(webroot, ".well-known", "acme-challenge")
	clock := time.Now()
	p := startWithClock(t, webroot, "", stateDir, &clock)
	chs := []api.AgentChallenge{challenge("ours"), challenge("rewrittenWhileDown"), challenge("rewrittenWhileUp"),
		challenge("rewrittenExpired")}
	if _, err := p.Present(t.Context(), "job-1", chs); err != nil {
		t.Fatal(err)
	}
	write := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	theirs := write("theirs", "theirs.xyz")
	neverPresented := write("neverPresented", challenge("neverPresented").KeyAuthorization)
	other := filepath.Join(webroot, "index.html")
	if err := os.WriteFile(other, []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.Close()

	// Down: another tool rewrites one of the agent's files. The start
	// leaves it as it is (and no longer counts it as the agent's).
	rewrittenWhileDown := write("rewrittenWhileDown", "rewrittenWhileDown.by-someone-else")
	p = startWithClock(t, webroot, "", stateDir, &clock)
	defer p.Close()
	if b, _ := os.ReadFile(rewrittenWhileDown); string(b) != "rewrittenWhileDown.by-someone-else" {
		t.Errorf("the start overwrote a file another tool rewrote: %q", b)
	}
	// Up: another tool rewrites another; then the cleanup comes.
	rewrittenWhileUp := write("rewrittenWhileUp", "rewrittenWhileUp.by-someone-else")
	if _, err := p.Cleanup(chs[:3]); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Cleanup([]api.AgentChallenge{challenge("neverPresented")}); err != nil {
		t.Fatal(err)
	}
	// And one expires after being rewritten.
	rewrittenExpired := write("rewrittenExpired", "rewrittenExpired.by-someone-else")
	clock = clock.Add(DefaultHTTP01MaxAge + time.Hour)
	p.Maintain(t.Context())

	if _, err := os.Stat(filepath.Join(dir, "ours")); !os.IsNotExist(err) {
		t.Errorf("the agent's own file is still there after its cleanup: %v", err)
	}
	for _, keep := range []string{theirs, neverPresented, other, rewrittenWhileDown, rewrittenWhileUp, rewrittenExpired} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("a file the agent did not write (or no longer owns) was removed: %s: %v", keep, err)
		}
	}
	if got := record(t, stateDir); len(got) != 0 {
		t.Errorf("record at the end: %+v", got)
	}
	p.Close()

	// A record naming a file that is no challenge file of its token (a
	// damaged state directory) removes nothing.
	elsewhere := filepath.Join(webroot, "elsewhere")
	if err := os.WriteFile(elsewhere, []byte("tok.abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	rec, _ := json.Marshal(challengeRecord{Challenges: []servedChallenge{{JobID: "job-9", Token: "tok", KeyAuthorization: "tok.abc",
		PresentedAt: clock.Add(-2 * DefaultHTTP01MaxAge), File: elsewhere}}})
	if err := os.WriteFile(filepath.Join(stateDir, "http01-challenges.json"), rec, 0o600); err != nil {
		t.Fatal(err)
	}
	startWithClock(t, webroot, "", stateDir, &clock).Close()
	if _, err := os.Stat(elsewhere); err != nil {
		t.Errorf("a file the record named outside the challenge directory was removed: %v", err)
	}

	// An unreadable record: nothing is removed, and the record is kept
	// aside rather than overwritten.
	if _, err := startWithClock(t, webroot, "", stateDir, &clock).Present(t.Context(), "job-10",
		[]api.AgentChallenge{challenge("kept")}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stateDir, "http01-challenges.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(2 * DefaultHTTP01MaxAge)
	p = startWithClock(t, webroot, "", stateDir, &clock)
	p.Maintain(t.Context())
	p.Close()
	if _, err := os.Stat(filepath.Join(dir, "kept")); err != nil {
		t.Errorf("a file was removed on an unreadable record: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(stateDir, "http01-challenges.json.unreadable")); err != nil || string(b) != "{not json" {
		t.Errorf("the unreadable record was not kept aside: %q %v", b, err)
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
	if cfg.HTTP01MaxAge != DefaultHTTP01MaxAge {
		t.Errorf("default age bound %s, want %s", cfg.HTTP01MaxAge, DefaultHTTP01MaxAge)
	}
	cfg, err = ParseConfig(nil, env(map[string]string{"CERTCTL_SERVER_URL": "http://127.0.0.1:1", "CERTCTL_HTTP01_MAX_AGE": "72h"}), io.Discard)
	if err != nil || cfg.HTTP01MaxAge != 72*time.Hour {
		t.Errorf("CERTCTL_HTTP01_MAX_AGE=72h: %s, %v", cfg.HTTP01MaxAge, err)
	}
	for _, bad := range []string{"0", "-1h", "a day"} {
		_, err = ParseConfig([]string{"--http01-max-age", bad}, env(map[string]string{"CERTCTL_SERVER_URL": "http://127.0.0.1:1"}), io.Discard)
		if err == nil || !strings.Contains(err.Error(), "--http01-max-age") {
			t.Errorf("--http01-max-age %s: %v, want an error naming the flag", bad, err)
		}
	}
	_, err = ParseConfig([]string{"--http01-listen", "80"}, env(map[string]string{"CERTCTL_SERVER_URL": "http://127.0.0.1:1"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "--http01-listen") {
		t.Errorf("a port without a colon: %v, want an error naming --http01-listen", err)
	}
}
