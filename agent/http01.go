package agent

// http01.go presents ACME HTTP-01 challenges on this host when the server
// asks (work of kind http-01): the CA fetches
// http://<name>/.well-known/acme-challenge/<token> from wherever <name>
// points, and for a certificate deployed here that is this host. Two ways:
// files in the webroot of the web server already listening on port 80
// (NGINX, Apache), or a temporary listener of the agent's own for hosts
// where nothing listens there. The files the agent writes are recorded in
// its state directory, so that a restart after a crash removes them, and
// only them.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

// http01Presenter serves HTTP-01 key authorizations by token.
type http01Presenter struct {
	webroot    string // "" for none
	listenAddr string // "" for none
	recordPath string // the files written, in the state directory
	logger     *slog.Logger

	mu      sync.Mutex
	served  map[string]presented // by token
	written map[string]writtenFile
	srv     *http.Server
	ln      net.Listener
	serving chan struct{} // closed when srv's Serve returns
}

// presented is a challenge this agent serves.
type presented struct {
	jobID, identifier, keyAuth string
}

// writtenFile is a challenge file the agent wrote in the webroot. Only a
// file at that path with that content is the agent's to remove: another
// tool may have written the path since.
type writtenFile struct {
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	JobID  string `json:"job_id"`
	Token  string `json:"token"`
}

// newHTTP01Presenter prepares the presenter and removes the challenge files
// an earlier run of the agent left behind (it stopped before their
// cleanup). A stopped agent serves nothing, listener or files: a
// challenge served by an agent that is not running would be one nobody
// cleans up. An order whose challenge the CA had not fetched yet when the
// agent stopped fails its validation, with the CA's error in the job.
func newHTTP01Presenter(webroot, listen, stateDir string, logger *slog.Logger) *http01Presenter {
	p := &http01Presenter{webroot: webroot, listenAddr: listen, recordPath: filepath.Join(stateDir, "http01-files.json"),
		logger: logger, served: map[string]presented{}, written: map[string]writtenFile{}}
	if err := p.removeStale(); err != nil {
		logger.Warn("removing challenge files left by an earlier run", "err", err)
	}
	return p
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
			if p.webroot != "" {
				if err := p.writeFile(jobID, c); err != nil {
					return err
				}
			}
			p.served[c.Token] = presented{jobID: jobID, identifier: c.Identifier, keyAuth: c.KeyAuthorization}
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

// Close stops serving everything: an agent that is not running answers
// no challenge.
func (p *http01Presenter) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.served)
	if err := p.removeWrittenLocked(func(writtenFile) bool { return true }); err != nil {
		p.logger.Warn("removing challenge files", "err", err)
	}
	p.stopListenerLocked()
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

// writeFile writes a key authorization into the webroot, atomically (the
// CA never reads half a file), readable by the web server (0644, in
// directories made 0755), and records it before it exists, so that a crash
// in between still leaves it known.
func (p *http01Presenter) writeFile(jobID string, c api.AgentChallenge) error {
	dir := filepath.Join(p.webroot, ".well-known", "acme-challenge")
	if err := mkdirAllMode(dir, 0o755); err != nil {
		return fmt.Errorf("HTTP-01 webroot: %w", err)
	}
	sum := sha256.Sum256([]byte(c.KeyAuthorization))
	f := writtenFile{Path: p.challengeFile(c.Token), SHA256: hex.EncodeToString(sum[:]), JobID: jobID, Token: c.Token}
	p.written[f.Path] = f
	if err := p.saveRecord(); err != nil {
		return err
	}
	if err := writeFileAtomic(f.Path, []byte(c.KeyAuthorization), 0o644); err != nil {
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
// their listener entries; the listener closes when nothing is left.
func (p *http01Presenter) removeLocked(chs []api.AgentChallenge) error {
	tokens := map[string]bool{}
	for _, c := range chs {
		tokens[c.Token] = true
		delete(p.served, c.Token)
	}
	err := p.removeWrittenLocked(func(f writtenFile) bool { return tokens[f.Token] })
	if len(p.served) == 0 {
		p.stopListenerLocked()
	}
	return err
}

// removeWrittenLocked removes the recorded files that match, each only if
// it still holds what the agent wrote, and updates the record.
func (p *http01Presenter) removeWrittenLocked(match func(writtenFile) bool) error {
	var errs []error
	changed := false
	for path, f := range p.written {
		if !match(f) {
			continue
		}
		if err := removeIfOurs(f); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(p.written, path)
		changed = true
	}
	if changed {
		errs = append(errs, p.saveRecord())
	}
	return errors.Join(errs...)
}

// removeIfOurs deletes f's file if it holds what the agent wrote there. A
// missing file, or one another tool has rewritten since, is left alone.
func removeIfOurs(f writtenFile) error {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read challenge file: %w", err)
	}
	sum := sha256.Sum256(b)
	if hex.EncodeToString(sum[:]) != f.SHA256 {
		return nil
	}
	if err := os.Remove(f.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove challenge file: %w", err)
	}
	return nil
}

// saveRecord writes the list of files the agent wrote, atomically.
func (p *http01Presenter) saveRecord() error {
	files := make([]writtenFile, 0, len(p.written))
	for _, f := range p.written {
		files = append(files, f)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	b, err := json.Marshal(files)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(p.recordPath, b, 0o600); err != nil {
		return fmt.Errorf("record HTTP-01 challenge files: %w", err)
	}
	return nil
}

// removeStale removes the files an earlier run recorded.
func (p *http01Presenter) removeStale() error {
	b, err := os.ReadFile(p.recordPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var files []writtenFile
	if err := json.Unmarshal(b, &files); err != nil {
		return fmt.Errorf("%s: %w", p.recordPath, err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, f := range files {
		p.written[f.Path] = f
	}
	if len(files) > 0 {
		p.logger.Info("removing HTTP-01 challenge files left by an earlier run", "files", len(files))
	}
	return p.removeWrittenLocked(func(writtenFile) bool { return true })
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
	c, found := p.served[token]
	p.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	p.logger.Info("HTTP-01 challenge fetched", "job", c.jobID, "identifier", c.identifier, "host", r.Host,
		"remote", r.RemoteAddr)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", fmt.Sprint(len(c.keyAuth)))
	_, _ = w.Write([]byte(c.keyAuth))
}
