package console_test

// Browser tests: Debian's headless chromium, driven from Go with chromedp,
// against the real console and API on real PostgreSQL with data. Each page
// visited is checked for accessibility (labels, names, headings, focus
// order, text contrast) and for fitting a phone's width, and screenshotted
// at desktop and phone widths.

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/certctl/certctl/server/core"
)

// screenshotDir is where the screenshots of this run go: the directory
// CERTCTL_SCREENSHOT_DIR names (make screenshots), else a new temporary one,
// kept after the run and named in the test log.
func screenshotDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("CERTCTL_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	d, err := os.MkdirTemp("", "certctl-console-screenshots-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshots in %s", d)
	return d
}

// newBrowser starts headless chromium with a fresh profile. It fails the
// test, naming the package, when chromium is not installed.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("the console's browser tests need Debian's chromium package (apt-get install chromium; .ci/run installs it): %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.WindowSize(desktopWidth, desktopHeight),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	// A generous bound that only stops a hung browser; no step is timed.
	ctx, cancelTimeout := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

const (
	desktopWidth, desktopHeight = 1280, 900
	phoneWidth, phoneHeight     = 390, 844
)

// do runs steps in the browser, failing the test with the page's address
// and text when one fails.
func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
		t.Fatalf("%s: %v (at %s)\n%s", what, err, loc, body)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, what, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// a11yScript lists the accessibility problems of the page: controls
// without a label or name, images without alt text, headings out of
// order, positive tabindex, and text whose contrast with its background
// is below WCAG AA (4.5:1, 3:1 for large text), computed from the
// stylesheet's colours as the browser applied them.
const a11yScript = `(() => {
  const problems = [];
  const visible = el => el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true});
  const short = el => el.outerHTML.slice(0, 100);
  document.querySelectorAll("input:not([type=hidden]), select, textarea").forEach(el => {
    const label = (el.labels && el.labels.length && el.labels[0].textContent.trim()) ||
      el.getAttribute("aria-label") || el.getAttribute("aria-labelledby");
    if (!label) problems.push("control without a label: " + short(el));
  });
  document.querySelectorAll("button, a[href], summary").forEach(el => {
    const t = el.querySelector && el.querySelector("title");
    const name = (el.textContent || "").trim() || el.getAttribute("aria-label") || (t && t.textContent.trim());
    if (!name) problems.push("control without a name: " + short(el));
  });
  document.querySelectorAll("img").forEach(el => { if (!el.hasAttribute("alt")) problems.push("image without alt: " + short(el)); });
  document.querySelectorAll("svg").forEach(el => {
    if (el.getAttribute("aria-hidden") !== "true" && !el.getAttribute("aria-label") && !el.getAttribute("aria-labelledby"))
      problems.push("svg without a name: " + short(el));
  });
  const levels = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map(h => +h.tagName[1]);
  if (levels.filter(l => l === 1).length !== 1) problems.push("want one h1, have " + levels.filter(l => l === 1).length);
  let prev = 0;
  levels.forEach(l => { if (l > prev + 1) problems.push("h" + l + " follows h" + prev); prev = l; });
  document.querySelectorAll("[tabindex]").forEach(el => { if (el.tabIndex > 0) problems.push("positive tabindex: " + short(el)); });
  if (!document.documentElement.lang) problems.push("no lang on html");
  if (!document.title) problems.push("no title");
  const rgb = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null; const p = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const background = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c && c[3] > 0) return c; } return [255, 255, 255, 1]; };
  const seen = new Set();
  document.querySelectorAll("body *").forEach(el => {
    if (el.closest("svg") || !visible(el)) return;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) return;
    const s = getComputedStyle(el);
    const fg = rgb(s.color), bg = background(el);
    if (!fg) return;
    const a = lum(fg), b = lum(bg);
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = parseFloat(s.fontSize), bold = parseInt(s.fontWeight, 10) >= 700;
    const need = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const pair = s.color + " on " + bg.join(",");
    if (ratio < need && !seen.has(pair)) { seen.add(pair); problems.push("contrast " + ratio.toFixed(2) + " < " + need + ": " + pair + " in " + short(el)); }
  });
  return problems;
})()`

// focusablesScript stores the page's focusable elements, in document
// order, for the focus order check, and returns how many there are.
// Chromium lets the keyboard focus a scrolling box (a wide table on a
// narrow screen) so that it can be scrolled: those count too.
const focusablesScript = `(() => {
  const scrolls = el => { const s = getComputedStyle(el); return /(auto|scroll)/.test(s.overflowX + s.overflowY) &&
    (el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight) && !el.querySelector("a[href], button, input, select, textarea"); };
  window.__focusables = [...document.querySelectorAll("body *")].filter(el =>
    (el.matches("a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex='-1'])") || scrolls(el)) &&
    !el.disabled && el.checkVisibility({contentVisibilityAuto: true, visibilityProperty: true}));
  return window.__focusables.length;
})()`

// checkPage runs the accessibility checks, checks the keyboard focus
// order (Tab moves through the controls in document order), checks that
// the page fits a phone's width, and takes screenshots at both widths.
func checkPage(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	for _, p := range eval[[]string](t, ctx, name+": accessibility", a11yScript) {
		t.Errorf("%s: %s", name, p)
	}
	// Screenshots first, so that they show no focus ring.
	write(t, filepath.Join(dir, name+"-desktop.png"), screenshot(t, ctx, name))
	do(t, ctx, name+": phone", chromedp.EmulateViewport(phoneWidth, phoneHeight, chromedp.EmulateMobile))
	if eval[bool](t, ctx, name+": overflow", `document.documentElement.scrollWidth > window.innerWidth + 1`) {
		t.Errorf("%s: wider than a phone's screen (%d px): the page scrolls sideways", name, phoneWidth)
	}
	write(t, filepath.Join(dir, name+"-phone.png"), screenshot(t, ctx, name))
	do(t, ctx, name+": back to desktop", chromedp.EmulateViewport(desktopWidth, desktopHeight))
	n := eval[int](t, ctx, name+": focusables", focusablesScript)
	prev := -1
	for i := range min(n, 12) {
		if prev == n-1 {
			break // the last control: Tab leaves the page
		}
		do(t, ctx, name+": tab", chromedp.KeyEvent(kb.Tab))
		idx := eval[int](t, ctx, name+": focused", `window.__focusables.indexOf(document.activeElement)`)
		if idx < 0 {
			t.Errorf("%s: Tab %d moved focus outside the page's controls, to %s; the next control is %s", name, i+1,
				eval[string](t, ctx, name+": focused element", `document.activeElement ? document.activeElement.outerHTML.slice(0, 120) : "nothing"`),
				eval[string](t, ctx, name+": next control", fmt.Sprintf(`window.__focusables[%d].outerHTML.slice(0, 200)`, prev+1)))
			break
		}
		if prev >= 0 && idx != prev+1 && !(idx == 0 && prev == n-1) {
			t.Errorf("%s: Tab %d moved focus from control %d to %d, not the next in document order", name, i+1, prev, idx)
		}
		prev = idx
	}
}

func screenshot(t *testing.T, ctx context.Context, name string) []byte {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("%s: screenshot: %v", name, err)
	}
	return b
}

func write(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// waitText waits, without reloading, until sel's text contains want.
func waitText(t *testing.T, ctx context.Context, sel, want string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.textContent.includes(%q); })()`, sel, want)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("wait for %s to say %q: %v", sel, want, err)
	}
}

// waitJS waits until a JavaScript condition holds, across navigations
// (an evaluation that a navigation interrupts is tried again), until the
// browser's context ends.
func waitJS(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v (last: %v)", what, ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestBrowserJourney(t *testing.T) {
	s := startSite(t)
	ctx := newBrowser(t)
	dir := screenshotDir(t)

	// Signed out, the console shows the sign-in page.
	do(t, ctx, "open the console", chromedp.Navigate(s.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#api_key")))
	checkPage(t, ctx, dir, "signin")
	// A wrong key says what went wrong.
	do(t, ctx, "sign in with a wrong key", chromedp.SendKeys(chromedp.CSS("#api_key"), "cck_not-a-key"),
		chromedp.Submit(chromedp.CSS("#api_key")), chromedp.WaitVisible(chromedp.CSS("#signin-error")))
	if got := text(t, ctx, "#signin-error"); !strings.Contains(got, "invalid API key") {
		t.Errorf("sign-in error %q", got)
	}
	do(t, ctx, "sign in", chromedp.SendKeys(chromedp.CSS("#api_key"), s.AdminKey),
		chromedp.Submit(chromedp.CSS("#api_key")), chromedp.WaitVisible(chromedp.CSS("#h-status")))
	if got := text(t, ctx, "h1"); got != "Dashboard" {
		t.Fatalf("after sign-in: %q", got)
	}
	checkPage(t, ctx, dir, "dashboard")

	// Find a certificate by search.
	do(t, ctx, "certificates", chromedp.Click(chromedp.CSS(`a[href="/certificates"]`)),
		chromedp.WaitVisible(chromedp.CSS("#f-q")))
	checkPage(t, ctx, dir, "certificates")
	do(t, ctx, "search", chromedp.SendKeys(chromedp.CSS("#f-q"), "api"), chromedp.Submit(chromedp.CSS("#f-q")))
	// Wait for the results page itself: the list before it shows the same link.
	waitJS(t, ctx, "search results", `location.search.includes("q=api") && document.readyState === "complete"`)
	do(t, ctx, "search results", chromedp.WaitVisible(chromedp.Search(`//a[text()="api-example-com"]`)))
	if rows := eval[int](t, ctx, "count results", `document.querySelectorAll("table.list tbody tr").length`); rows != 1 {
		t.Errorf("search for api: %d rows", rows)
	}

	// Open it, renew it, and see the renewal finish without a reload.
	do(t, ctx, "open the certificate", chromedp.Click(chromedp.Search(`//a[text()="api-example-com"]`)),
		chromedp.WaitVisible(chromedp.CSS("#cert-serial")))
	checkPage(t, ctx, dir, "certificate")
	oldSerial := text(t, ctx, "#cert-serial")
	do(t, ctx, "renew", chromedp.Click(chromedp.CSS("#renew")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	waitText(t, ctx, "#cert-job", "renew job")
	eval[string](t, ctx, "mark the page", `window.__sameDocument = "yes"`)
	if n := s.RunJobs(t); n == 0 {
		t.Fatal("no job ran after the renew button")
	}
	waitText(t, ctx, "#cert-status", core.CertActive)
	do(t, ctx, "wait for the job line to go", chromedp.WaitNotPresent(chromedp.CSS("#cert-job")))
	if marker := eval[string](t, ctx, "same document", `window.__sameDocument || "reloaded"`); marker != "yes" {
		t.Errorf("the page reloaded to show the renewal's end")
	}
	if got := text(t, ctx, "#cert-serial"); got == oldSerial || got == "" {
		t.Errorf("serial after renewal %q, before %q", got, oldSerial)
	}
	// The rest of the page follows: the version history lists both versions.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.querySelectorAll("#h-versions + .scroll tbody tr").length === 2`,
		chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Errorf("version history after the renewal: %v", err)
	}
	if marker := eval[string](t, ctx, "still the same document", `window.__sameDocument || "reloaded"`); marker != "yes" {
		t.Errorf("the page reloaded to show the renewal's end")
	}

	// Open an agent and see its system facts.
	do(t, ctx, "agents", chromedp.Click(chromedp.CSS(`a[href="/agents"]`)),
		chromedp.WaitVisible(chromedp.Search(`//a[text()="web-1"]`)))
	checkPage(t, ctx, dir, "agents")
	do(t, ctx, "open the agent", chromedp.Click(chromedp.Search(`//a[text()="web-1"]`)),
		chromedp.WaitVisible(chromedp.CSS("#agent-os")))
	for sel, want := range map[string]string{"#agent-os": "linux/arm64", "#agent-ip": "192.0.2.17",
		"#agent-version": "1.4.2", "#agent-hostname": "web-1.example.net"} {
		if got := text(t, ctx, sel); got != want {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}
	checkPage(t, ctx, dir, "agent")

	for _, p := range []string{"jobs", "audit"} {
		do(t, ctx, p, chromedp.Click(chromedp.CSS(`a[href="/`+p+`"]`)), chromedp.WaitVisible(chromedp.CSS("form.filters")))
		checkPage(t, ctx, dir, p)
	}

	// A job in progress on the jobs page is seen ending without a reload.
	var jobID string
	if err := s.Pool.QueryRow(context.Background(), `INSERT INTO jobs (id, kind, state, certificate_id, run_at, created_at,
		updated_at) VALUES (gen_random_uuid(), 'renew', 'waiting', $1, now(), now(), now()) RETURNING id`, s.Cert.ID).Scan(&jobID); err != nil {
		t.Fatal(err)
	}
	row := fmt.Sprintf(`(() => { const r = [...document.querySelectorAll("table.list tbody tr")].find(r => r.textContent.includes(%q)); return r ? r.querySelector(".badge").textContent : ""; })()`, jobID[:8])
	do(t, ctx, "jobs with one waiting", chromedp.Navigate(s.URL+"/jobs"), chromedp.WaitVisible(chromedp.CSS("form.filters")))
	if got := eval[string](t, ctx, "the waiting job", row); got != core.JobWaiting {
		t.Fatalf("the new job shows %q", got)
	}
	eval[string](t, ctx, "mark the jobs page", `window.__sameDocument = "jobs"`)
	if _, err := s.Pool.Exec(context.Background(), `UPDATE jobs SET state = 'succeeded', finished_at = now() WHERE id = $1`, jobID); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](row+` === "succeeded"`, chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("the job's end did not show: %v", err)
	}
	if marker := eval[string](t, ctx, "jobs page not reloaded", `window.__sameDocument || "reloaded"`); marker != "jobs" {
		t.Errorf("the jobs page reloaded")
	}

	// Create an issuer through the form generated from its plugin's schema.
	do(t, ctx, "issuers", chromedp.Click(chromedp.CSS(`a[href="/issuers"]`)), chromedp.WaitVisible(chromedp.CSS("h1")))
	checkPage(t, ctx, dir, "issuers")
	do(t, ctx, "new issuer", chromedp.Click(chromedp.CSS(`a[href="/issuers/new"]`)), chromedp.WaitVisible(chromedp.CSS("#type")),
		chromedp.SetValue(chromedp.CSS("#type"), "local"), chromedp.Submit(chromedp.CSS("#type")),
		chromedp.WaitVisible(chromedp.CSS("#cfg-validity")))
	checkPage(t, ctx, dir, "issuer-form")
	do(t, ctx, "fill the issuer form", chromedp.SendKeys(chromedp.CSS("#name"), "browser-ca"),
		chromedp.SetValue(chromedp.CSS("#cfg-validity"), "30d"),
		chromedp.SendKeys(chromedp.CSS("#cfg-allowed_domains"), "example.com"),
		chromedp.Submit(chromedp.CSS("#name")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if got := text(t, ctx, ".flash"); got != "Issuer browser-ca created." {
		t.Errorf("after creating the issuer: %q", got)
	}
	do(t, ctx, "certificate form", chromedp.Navigate(s.URL+"/certificates/new"), chromedp.WaitVisible(chromedp.CSS("#c-name")))
	checkPage(t, ctx, dir, "certificate-form")
	for _, p := range []string{"targets", "notifiers", "plugins"} {
		do(t, ctx, p, chromedp.Click(chromedp.CSS(`a[href="/`+p+`"]`)), chromedp.WaitVisible(chromedp.CSS("h1")))
		checkPage(t, ctx, dir, p)
	}
	do(t, ctx, "access", chromedp.Click(chromedp.CSS(`a[href="/access"]`)), chromedp.WaitVisible(chromedp.CSS("#k-name")),
		chromedp.SendKeys(chromedp.CSS("#k-name"), "deploy-bot"), chromedp.Submit(chromedp.CSS("#k-name")),
		chromedp.WaitVisible(chromedp.CSS("#new-secret")))
	checkPage(t, ctx, dir, "access")

	// Sign out: the session ends, pages lead to the sign-in page again.
	do(t, ctx, "sign out", chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.CSS("#api_key")))
	do(t, ctx, "after sign-out", chromedp.Navigate(s.URL+"/agents"), chromedp.WaitVisible(chromedp.CSS("#api_key")))
	if n := s.Count(t, "console_sessions"); n != 0 {
		t.Errorf("%d sessions after sign-out", n)
	}
}

func TestBrowserViewerAndForgery(t *testing.T) {
	s := startSite(t)
	ctx := newBrowser(t)
	viewer := s.NewKey(t, core.RoleViewer)
	do(t, ctx, "sign in as a viewer", chromedp.Navigate(s.URL+"/signin"), chromedp.WaitVisible(chromedp.CSS("#api_key")),
		chromedp.SendKeys(chromedp.CSS("#api_key"), viewer), chromedp.Submit(chromedp.CSS("#api_key")),
		chromedp.WaitVisible(chromedp.CSS("#h-status")))
	mutations := `document.querySelectorAll("form[method=post]:not(.signout), a[href$='/new'], a[href$='/edit']").length`
	for _, path := range []string{"/", "/certificates", "/certificates/" + s.Cert.ID.String(), "/agents", "/agents/" + s.Agent.ID.String(),
		"/issuers", "/targets", "/notifiers", "/plugins", "/jobs", "/audit"} {
		do(t, ctx, "viewer "+path, chromedp.Navigate(s.URL+path), chromedp.WaitVisible(chromedp.CSS("h1")))
		if n := eval[int](t, ctx, "viewer's forms", mutations); n != 0 {
			t.Errorf("viewer sees %d action forms on %s", n, path)
		}
	}
	do(t, ctx, "no renew button", chromedp.Navigate(s.URL+"/certificates/"+s.Cert.ID.String()),
		chromedp.WaitVisible(chromedp.CSS("h1")))
	if n := eval[int](t, ctx, "renew buttons", `document.querySelectorAll("#renew").length`); n != 0 {
		t.Errorf("viewer sees the renew button")
	}

	// An operator signed in is lured to another site whose form posts to
	// the console without the CSRF token: the console refuses it.
	operator := s.NewKey(t, core.RoleOperator)
	do(t, ctx, "sign out the viewer", chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.CSS("#api_key")))
	do(t, ctx, "sign in as an operator", chromedp.SendKeys(chromedp.CSS("#api_key"), operator),
		chromedp.Submit(chromedp.CSS("#api_key")), chromedp.WaitVisible(chromedp.CSS("#h-status")))
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>prize</title><form method="post" action="%s/certificates/%s/renew">
			<input type="hidden" name="x" value="1"><button id="go">Claim your prize</button></form>`, s.URL, s.Cert.ID)
	}))
	t.Cleanup(evil.Close)
	before := s.Count(t, "jobs")
	do(t, ctx, "forged post", chromedp.Navigate(evil.URL), chromedp.Click(chromedp.CSS("#go")),
		chromedp.WaitVisible(chromedp.Search(`//h1[text()="Request refused"]`)))
	// The same forgery from the console's own origin (a script injected
	// into the page, say) still lacks the token.
	do(t, ctx, "open a console page", chromedp.Navigate(s.URL+"/agents"), chromedp.WaitVisible(chromedp.CSS("h1")))
	eval[bool](t, ctx, "forged post, same origin", fmt.Sprintf(`(() => { const f = document.createElement("form");
		f.method = "post"; f.action = "/certificates/%s/renew"; document.body.appendChild(f); f.submit(); return true; })()`, s.Cert.ID))
	do(t, ctx, "refused", chromedp.WaitVisible(chromedp.Search(`//h1[text()="Request refused"]`)))
	if n := s.Count(t, "jobs"); n != before {
		t.Errorf("forged posts made %d jobs", n-before)
	}
}
