package agent

// http01.go presents ACME HTTP-01 challenges on this host when the server
// asks (work of kind http-01): the CA fetches
// http://<name>/.well-known/acme-challenge/<token> from wherever <name>
// points, and for a certificate deployed here that is this host. Two ways:
// files in the webroot of the web server already listening on port 80
// (NGINX, Apache), or a temporary listener of the agent's own for hosts
// where nothing listens there. The challenges it serves are recorded in
// its state directory: a restart serves them again until the server says
// the order is done, and the agent removes only the files it wrote.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/certctl/certctl/sdk/api"
)

// challengePathPrefix is where RFC 8555 §8.3 puts HTTP-01 responses.
const challengePathPrefix = "/.well-known/acme-challenge/"

// ErrHTTP01NotConfigured is the error (wrapped, with what to set) when the
// server asks this agent to present HTTP-01 challenges and it has neither a
// webroot nor a listener to present them with.
var ErrHTTP01NotConfigured = errors.New("this agent is not set up to serve HTTP-01 challenges")

// DefaultHTTP01MaxAge is how long the agent keeps serving a challenge the
// server has not told it to remove (CERTCTL_HTTP01_MAX_AGE). It is the
// server's default --order-pending-limit: an order pending longer fails
// its job, whose challenges the server then asks the agent to remove. A
// challenge older than that belongs to a job the server has ended or
// forgotten (deleting a certificate deletes its jobs and their challenge
// rows, so no cleanup ever comes): the agent removes it itself.
const DefaultHTTP01MaxAge = 24 * time.Hour

// http01Presenter serves HTTP-01 key authorizations by token. Every
// challenge it serves is recorded in its state directory before it is
// served, so that a restart (after a stop or a crash) serves it again
// until the server sends its cleanup: the server reported it presented,
// and the CA may fetch it at any moment.
type http01Presenter struct {
	webroot    string // "" for none
	listenAddr string // "" for none
	recordPath string // the challenges served, in the state directory
	maxAge     time.Duration
	now        func() time.Time
	logger     *slog.Logger

	mu         sync.Mutex
	challenges map[string]*servedChallenge // by token
	srv        *http.Server
	ln         net.Listener
	serving    chan struct{} // closed when srv's Serve returns
}

// servedChallenge is a challenge the agent serves, as recorded on disk.
type servedChallenge struct {
	JobID            string `json:"job_id"`
	Token            string `json:"token"`
	Identifier       string `json:"identifier"`
	KeyAuthorization string `json:"key_authorization"`
	// PresentedAt is when the server last asked for it; the age bound
	// counts from there.
	PresentedAt time.Time `json:"presented_at"`
	// File is the webroot file the agent wrote for it, "" for none. Only
	// a file at this path that still holds the key authorization is the
	// agent's to remove: another tool may have written the path since.
	File string `json:"file,omitempty"`
	// Ended: the server asked for its removal, but its file could not be
	// removed yet. It is no longer served; the removal is tried again.
	Ended bool `json:"ended,omitempty"`
}

// challengeRecord is the content of the record file.
type challengeRecord struct {
	Challenges []servedChallenge `json:"challenges"`
}

// newHTTP01Presenter prepares the presenter and serves again the
// challenges an earlier run recorded (rewriting their webroot files if
// they are missing, opening the listener if any is left), except those
// older than maxAge (zero: DefaultHTTP01MaxAge), which it removes.
func newHTTP01Presenter(ctx context.Context, webroot, listen, stateDir string, maxAge time.Duration,
	logger *slog.Logger) *http01Presenter {
	p := makeHTTP01Presenter(webroot, listen, stateDir, maxAge, logger)
	p.resume(ctx)
	return p
}

// makeHTTP01Presenter makes a presenter that serves nothing yet.
func makeHTTP01Presenter(webroot, listen, stateDir string, maxAge time.Duration, logger *slog.Logger) *http01Presenter {
	if maxAge <= 0 {
		maxAge = DefaultHTTP01MaxAge
	}
	return &http01Presenter{webroot: webroot, listenAddr: listen, recordPath: filepath.Join(stateDir, "http01-challenges.json"),
		maxAge: maxAge, now: time.Now, logger: logger, challenges: map[string]*servedChallenge{}}
}

// resume loads the record of an earlier run and serves its challenges.
func (p *http01Presenter) resume(ctx context.Context) {
	rec, err := p.loadRecord()
	if err != nil {
		// Without the record the agent cannot tell its files from others':
		// it leaves everything as it is, and keeps the unreadable record
		// aside for the operator rather than overwrite it.
		aside := p.recordPath + ".unreadable"
		if rerr := os.Rename(p.recordPath, aside); rerr != nil {
			aside = ""
		}
		p.logger.Error("reading the record of HTTP-01 challenges; challenges of an earlier run are not served again "+
			"and their files are left in place", "err", err, "kept_as", aside)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range rec.Challenges {
		c := rec.Challenges[i]
		p.challenges[c.Token] = &c
	}
	p.maintainLocked(ctx) // the expired go first
	if n := p.liveLocked(); n > 0 {
		p.logger.Info("serving again the HTTP-01 challenges an earlier run presented", "challenges", n,
			"listener", p.ln != nil)
	}
}

// notConfiguredError says what to set. The server puts it in the job's
// error.
func notConfiguredError() error {
	return fmt.Errorf("%w: set CERTCTL_HTTP01_WEBROOT (--http01-webroot) to the directory from which the web server "+
		"on port 80 of this host serves /.well-known/acme-challenge/, or CERTCTL_HTTP01_LISTEN (--http01-listen), "+
		"e.g. :80, for a temporary listener of the agent's own where nothing listens on port 80", ErrHTTP01NotConfigured)
}

// Present serves every challenge, and returns their tokens. It is
// idempotent: presenting a challenge again rewrites the same file. On an
// error nothing of this call's challenges is left served, since the order
// fails without all of them.
func (p *http01Presenter) Present(ctx context.Context, jobID string, chs []api.AgentChallenge) ([]string, error) {
	if p.webroot == "" && p.listenAddr == "" {
		return []string{}, notConfiguredError()
	}
	for _, c := range chs {
		if err := checkChallenge(c); err != nil {
			return []string{}, err
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	tokens := []string{}
	err := func() error {
		for _, c := range chs {
			sc := &servedChallenge{JobID: jobID, Token: c.Token, Identifier: c.Identifier, KeyAuthorization: c.KeyAuthorization,
				PresentedAt: p.now().UTC()}
			if prev, ok := p.challenges[c.Token]; ok {
				sc.File = prev.File
			}
			p.challenges[c.Token] = sc
			if p.webroot != "" {
				if err := p.writeFileLocked(sc); err != nil {
					return err
				}
			} else if err := p.saveRecordLocked(); err != nil {
				return err
			}
			tokens = append(tokens, c.Token)
		}
		if p.listenAddr != "" && len(chs) > 0 {
			return p.startListenerLocked(ctx)
		}
		return nil
	}()
	if err != nil {
		if rerr := p.removeLocked(chs); rerr != nil {
			p.logger.Warn("removing the challenges of a failed presentation", "job", jobID, "err", rerr)
		}
		return []string{}, err
	}
	return tokens, nil
}

// Cleanup stops serving the challenges (files removed, listener entries
// dropped, the listener closed when none is left) and returns their
// tokens. Challenges no longer served count as done.
func (p *http01Presenter) Cleanup(chs []api.AgentChallenge) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	tokens := []string{}
	for _, c := range chs {
		tokens = append(tokens, c.Token)
	}
	return tokens, p.removeLocked(chs)
}

// Close closes the listener, and leaves the webroot files and the record
// in place: the challenges are the server's to end, and the next start
// serves them again. A challenge the CA fetches while the agent is down
// is served by the web server from the webroot; on the listener it is
// not, and the CA's validation fails unless the agent is back first.
func (p *http01Presenter) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stopListenerLocked()
}

// Maintain removes the challenges older than the age bound, tries again
// the removals that failed, and serves the rest again where they are
// missing (a webroot file deleted by another tool, a listener that could
// not open at start). The agent calls it before each poll.
func (p *http01Presenter) Maintain(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.maintainLocked(ctx)
}

func (p *http01Presenter) maintainLocked(ctx context.Context) {
	changed := false
	now := p.now()
	for token, c := range p.challenges {
		expired := now.Sub(c.PresentedAt) > p.maxAge
		if !expired && !c.Ended {
			continue
		}
		if expired {
			p.logger.Info("removing an HTTP-01 challenge the server never asked to remove (older than the age bound)",
				"job", c.JobID, "identifier", c.Identifier, "token", token, "presented_at", c.PresentedAt, "max_age", p.maxAge)
		}
		if err := removeIfOurs(c.File, c.KeyAuthorization); err != nil {
			if expired {
				// The agent gives up on it: a file it cannot remove is
				// not served by it any more either.
				p.logger.Warn("removing an expired HTTP-01 challenge file", "file", c.File, "err", err)
			} else {
				continue // still ended, tried again next time
			}
		}
		delete(p.challenges, token)
		changed = true
	}
	for _, c := range p.challenges {
		if c.Ended {
			continue
		}
		if p.webroot != "" {
			ch, err := p.reserveFileLocked(c)
			if err != nil {
				p.logger.Warn("serving an HTTP-01 challenge again in the webroot", "job", c.JobID, "token", c.Token, "err", err)
			}
			changed = changed || ch
		} else if c.File != "" {
			// The webroot setting was removed: its files are no longer the
			// way this agent serves.
			if err := removeIfOurs(c.File, c.KeyAuthorization); err == nil {
				c.File, changed = "", true
			}
		}
	}
	if changed {
		if err := p.saveRecordLocked(); err != nil {
			p.logger.Warn("recording HTTP-01 challenges", "err", err)
		}
	}
	if p.liveLocked() == 0 {
		p.stopListenerLocked()
	} else if p.listenAddr != "" {
		if err := p.startListenerLocked(ctx); err != nil {
			p.logger.Warn("opening the HTTP-01 listener for the challenges still presented; trying again later", "err", err)
		}
	}
}

// reserveFileLocked makes sure c's file is in the webroot: written if
// missing, moved if the webroot changed. A file at its path with other
// content is another tool's: left alone, and no longer the agent's to
// remove. It reports whether c changed.
func (p *http01Presenter) reserveFileLocked(c *servedChallenge) (bool, error) {
	target := p.challengeFile(c.Token)
	b, err := os.ReadFile(target)
	switch {
	case err == nil && string(b) == c.KeyAuthorization:
		if c.File == target {
			return false, nil
		}
		if err := removeIfOurs(c.File, c.KeyAuthorization); err != nil {
			return false, err
		}
		c.File = target
		return true, nil
	case err == nil:
		if c.File == target {
			c.File = ""
			p.logger.Warn("an HTTP-01 challenge file was rewritten by someone else; it is left as it is",
				"job", c.JobID, "file", target)
			return true, nil
		}
		return false, nil
	case errors.Is(err, fs.ErrNotExist):
		return true, p.writeFileLocked(c)
	default:
		return false, fmt.Errorf("read challenge file: %w", err)
	}
}

// liveLocked counts the challenges served.
func (p *http01Presenter) liveLocked() int {
	n := 0
	for _, c := range p.challenges {
		if !c.Ended {
			n++
		}
	}
	return n
}

// ListenerAddr is the address the temporary listener is bound to, or ""
// while it is closed.
func (p *http01Presenter) ListenerAddr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return ""
	}
	return p.ln.Addr().String()
}

// checkChallenge refuses what cannot be a challenge of RFC 8555: the token
// becomes a file name, so it must be base64url and nothing else (no
// separator, no "..", nothing hidden); the key authorization is the token,
// a dot and the account key's base64url thumbprint.
func checkChallenge(c api.AgentChallenge) error {
	if !isBase64URL(c.Token) || len(c.Token) > 256 {
		return fmt.Errorf("challenge token %q is not a base64url string of 1 to 256 characters", c.Token)
	}
	thumb, ok := strings.CutPrefix(c.KeyAuthorization, c.Token+".")
	if !ok || !isBase64URL(thumb) || len(thumb) > 256 {
		return fmt.Errorf("challenge %s: the key authorization is not <token>.<base64url thumbprint>", c.Token)
	}
	return nil
}

func isBase64URL(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// challengeFile is where a token's file lives in the webroot.
func (p *http01Presenter) challengeFile(token string) string {
	return filepath.Join(p.webroot, ".well-known", "acme-challenge", token)
}

// writeFileLocked writes c's key authorization into the webroot,
// atomically (the CA never reads half a file), readable by the web server
// (0644, in directories made 0755), and records it before it exists, so
// that a crash in between still leaves it known. A file of c written in
// another webroot (the setting changed) goes.
func (p *http01Presenter) writeFileLocked(c *servedChallenge) error {
	dir := filepath.Join(p.webroot, ".well-known", "acme-challenge")
	if err := mkdirAllMode(dir, 0o755); err != nil {
		return fmt.Errorf("HTTP-01 webroot: %w", err)
	}
	target := p.challengeFile(c.Token)
	if c.File != "" && c.File != target {
		if err := removeIfOurs(c.File, c.KeyAuthorization); err != nil {
			return err
		}
	}
	c.File = target
	if err := p.saveRecordLocked(); err != nil {
		return err
	}
	if err := writeFileAtomic(target, []byte(c.KeyAuthorization), 0o644); err != nil {
		return fmt.Errorf("HTTP-01 webroot: write challenge %s: %w", c.Token, err)
	}
	return nil
}

// mkdirAllMode makes dir and its missing parents with mode, whatever the
// umask: a web server running as another user must be able to enter them.
func mkdirAllMode(dir string, mode os.FileMode) error {
	if fi, err := os.Stat(dir); err == nil {
		if !fi.IsDir() {
			return fmt.Errorf("%s is not a directory", dir)
		}
		return nil
	}
	if err := mkdirAllMode(filepath.Dir(dir), mode); err != nil {
		return err
	}
	if err := os.Mkdir(dir, mode); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	return os.Chmod(dir, mode)
}

// removeLocked stops serving chs: their files (those this agent wrote) and
// their listener entries; the listener closes when nothing is left. A
// challenge whose file cannot be removed stays recorded as ended, and its
// removal is tried again by Maintain.
func (p *http01Presenter) removeLocked(chs []api.AgentChallenge) error {
	var errs []error
	changed := false
	for _, ch := range chs {
		c, ok := p.challenges[ch.Token]
		if !ok {
			continue
		}
		changed = true
		if err := removeIfOurs(c.File, c.KeyAuthorization); err != nil {
			c.Ended = true
			errs = append(errs, err)
			continue
		}
		delete(p.challenges, ch.Token)
	}
	if changed {
		errs = append(errs, p.saveRecordLocked())
	}
	if p.liveLocked() == 0 {
		p.stopListenerLocked()
	}
	return errors.Join(errs...)
}

// removeIfOurs deletes the file at path ("" for none) if it holds keyAuth,
// what the agent wrote there. A missing file, or one another tool has
// rewritten since, is left alone.
func removeIfOurs(path, keyAuth string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read challenge file: %w", err)
	}
	if string(b) != keyAuth {
		return nil
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove challenge file: %w", err)
	}
	return nil
}

// saveRecordLocked writes the record of the challenges, atomically.
func (p *http01Presenter) saveRecordLocked() error {
	rec := challengeRecord{Challenges: make([]servedChallenge, 0, len(p.challenges))}
	for _, c := range p.challenges {
		rec.Challenges = append(rec.Challenges, *c)
	}
	sort.Slice(rec.Challenges, func(i, j int) bool { return rec.Challenges[i].Token < rec.Challenges[j].Token })
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(p.recordPath, b, 0o600); err != nil {
		return fmt.Errorf("record HTTP-01 challenges: %w", err)
	}
	return nil
}

// loadRecord reads the record; none is an empty one.
func (p *http01Presenter) loadRecord() (challengeRecord, error) {
	var rec challengeRecord
	b, err := os.ReadFile(p.recordPath)
	if errors.Is(err, fs.ErrNotExist) {
		return rec, nil
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return challengeRecord{}, fmt.Errorf("%s: %w", p.recordPath, err)
	}
	// Only what could have been presented is taken: a token names a file,
	// and the agent removes nothing but a challenge file of its token.
	valid := rec.Challenges[:0]
	for _, c := range rec.Challenges {
		if checkChallenge(api.AgentChallenge{Token: c.Token, KeyAuthorization: c.KeyAuthorization}) != nil {
			continue
		}
		if c.File != "" && (filepath.Base(c.File) != c.Token || !strings.HasSuffix(filepath.Dir(c.File),
			string(filepath.Separator)+filepath.Join(".well-known", "acme-challenge"))) {
			c.File = ""
		}
		valid = append(valid, c)
	}
	rec.Challenges = valid
	return rec, nil
}

// startListenerLocked opens the temporary listener if it is not open.
func (p *http01Presenter) startListenerLocked(ctx context.Context) error {
	if p.srv != nil {
		return nil
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", p.listenAddr)
	if err != nil {
		return fmt.Errorf("HTTP-01 listener on %s (CERTCTL_HTTP01_LISTEN): %w; if a web server listens there, "+
			"serve the challenges through its webroot with CERTCTL_HTTP01_WEBROOT instead", p.listenAddr, err)
	}
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serveChallenge), ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		ErrorLog: slog.NewLogLogger(p.logger.Handler(), slog.LevelDebug)}
	p.ln = ln
	p.serving = make(chan struct{})
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln) // returns when stopListenerLocked closes it
	}(p.srv, p.serving)
	p.logger.Info("HTTP-01 listener open", "addr", ln.Addr().String())
	return nil
}

func (p *http01Presenter) stopListenerLocked() {
	if p.srv == nil {
		return
	}
	_ = p.srv.Close()
	<-p.serving
	p.logger.Info("HTTP-01 listener closed", "addr", p.ln.Addr().String())
	p.srv, p.ln, p.serving = nil, nil, nil
}

// serveChallenge answers GET (and HEAD) of a presented token's path with
// its key authorization, and 404 to anything else: the listener is there
// for the CA alone.
func (p *http01Presenter) serveChallenge(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.URL.Path, challengePathPrefix)
	if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		http.NotFound(w, r)
		return
	}
	p.mu.Lock()
	var c servedChallenge
	sc, found := p.challenges[token]
	if found {
		c = *sc
	}
	p.mu.Unlock()
	if !found || c.Ended {
		http.NotFound(w, r)
		return
	}
	p.logger.Info("HTTP-01 challenge fetched", "job", c.JobID, "identifier", c.Identifier, "host", r.Host,
		"remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(len(c.KeyAuthorization)))
	_, _ = w.Write([]byte(c.KeyAuthorization))
}
