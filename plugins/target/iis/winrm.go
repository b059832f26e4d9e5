package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
	"github.com/masterzen/winrm"
	"github.com/masterzen/winrm/soap"

	"github.com/certctl/certctl/sdk/plugin"
)

// This file runs scripts on the Windows host. github.com/masterzen/winrm
// builds and parses the WS-Management messages (Create shell, Command,
// Receive, Signal, Delete); the HTTP underneath is this file's transport,
// so that every request honours the caller's context, TLS is configured
// here, and a refusal (401, a SOAP fault) comes back as a typed error
// rather than as text.

// Protocol parameters.
const (
	// operationTimeout is how long the host holds a Receive open while a
	// command prints nothing; the client then asks again.
	operationTimeout = "PT20S"
	// envelopeSize is the largest response the client accepts, in bytes.
	envelopeSize = 153600
	// maxOutput bounds what is kept of a script's stdout and stderr.
	maxOutput = 1 << 20
	// maxResponse bounds one HTTP response body.
	maxResponse = 16 << 20
	// cleanupTimeout bounds the requests that release a shell or command
	// after the caller gave up.
	cleanupTimeout = 10 * time.Second
)

// transport carries WS-Management messages over HTTPS. It implements
// winrm.Transporter. Each remote has its own, bound to the context of
// the call in progress.
type transport struct {
	url        string
	user, pass string
	client     *http.Client

	mu  sync.Mutex
	ctx context.Context
}

var _ winrm.Transporter = (*transport)(nil)

func newTransport(c config) *transport {
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: c.caPool, ServerName: strings.Trim(c.host, "[]"),
		InsecureSkipVerify: c.insecure} //nolint:gosec // the user asked for it, and its description says what it costs
	base := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		TLSHandshakeTimeout:   30 * time.Second,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 0, // Receive is a long poll; the context bounds it
		// NTLM authenticates a connection, which HTTP/2 would not keep.
		ForceAttemptHTTP2: false,
	}
	var rt http.RoundTripper = base
	if c.auth == authNTLM {
		// The negotiator turns the request's Basic credentials into the
		// NTLM handshake. go-ntlmssp v0.1 no longer falls back to sending
		// them as Basic to a server that offers no NTLM; noBasic keeps
		// that true whatever its version does.
		rt = ntlmssp.Negotiator{RoundTripper: noBasic{base}}
	}
	return &transport{url: c.endpoint.String(), user: c.username, pass: c.password,
		client: &http.Client{Transport: rt, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // credentials never follow a redirect
		}},
		ctx: context.Background()}
}

// Transport implements winrm.Transporter; newTransport configured it.
func (t *transport) Transport(*winrm.Endpoint) error { return nil }

// setContext binds the requests that follow to ctx.
func (t *transport) setContext(ctx context.Context) {
	t.mu.Lock()
	t.ctx = ctx
	t.mu.Unlock()
}

func (t *transport) context() context.Context {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ctx
}

// Post implements winrm.Transporter: it sends one SOAP message and
// returns the response envelope.
func (t *transport) Post(_ *winrm.Client, msg *soap.SoapMessage) (string, error) {
	ctx := t.context()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(msg.String()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/soap+xml;charset=UTF-8")
	req.SetBasicAuth(t.user, t.pass)
	resp, err := t.client.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		return "", &connectError{url: t.url, err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return "", ctxErr
		}
		return "", &connectError{url: t.url, err: err}
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return string(body), nil
	case resp.StatusCode == http.StatusUnauthorized:
		return "", &authError{offered: schemes(resp.Header.Values("WWW-Authenticate"))}
	}
	if f, ok := parseFault(body); ok {
		return "", f
	}
	return "", &statusError{status: resp.StatusCode}
}

// noBasic refuses to send Basic credentials: with auth ntlm, a server
// that offers no NTLM must not receive the password in the clear.
type noBasic struct{ rt http.RoundTripper }

var errNoNTLM = errors.New("the endpoint offers no NTLM (Negotiate) authentication")

func (n noBasic) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasPrefix(req.Header.Get("Authorization"), "Basic ") {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, errNoNTLM
	}
	return n.rt.RoundTrip(req)
}

// schemes lists the authentication schemes of WWW-Authenticate values.
func schemes(values []string) []string {
	var out []string
	for _, v := range values {
		if s, _, _ := strings.Cut(strings.TrimSpace(v), " "); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Errors of the transport.
type (
	// connectError: the endpoint could not be reached, or the connection broke.
	connectError struct {
		url string
		err error
	}
	// authError: the endpoint answered 401 Unauthorized.
	authError struct{ offered []string }
	// statusError: another HTTP status without a SOAP fault.
	statusError struct{ status int }
	// faultError: a WS-Management SOAP fault.
	faultError struct {
		subcode string // e.g. "w:TimedOut", "w:AccessDenied"
		code    string // the WSManFault Code, e.g. "5" for access denied
		reason  string
	}
)

func (e *connectError) Error() string { return fmt.Sprintf("WinRM at %s: %v", e.url, e.err) }
func (e *connectError) Unwrap() error { return e.err }
func (e *authError) Error() string {
	return fmt.Sprintf("401 Unauthorized (the endpoint offers %s)", strings.Join(e.offered, ", "))
}
func (e *statusError) Error() string { return fmt.Sprintf("HTTP status %d", e.status) }

// Error includes "OperationTimeout" for timed-out Receives: the winrm
// package polls again on errors that say so.
func (e *faultError) Error() string {
	msg := "WinRM fault " + e.subcode
	if e.code != "" {
		msg += " (code " + e.code + ")"
	}
	if e.timedOut() && !strings.Contains(e.reason, "OperationTimeout") {
		msg += ": OperationTimeout"
	}
	if e.reason != "" {
		msg += ": " + e.reason
	}
	return msg
}

func (e *faultError) timedOut() bool { return strings.HasSuffix(e.subcode, ":TimedOut") }

// parseFault reads a SOAP fault.
func parseFault(body []byte) (*faultError, bool) {
	var env struct {
		Fault *struct {
			Subcode string `xml:"Code>Subcode>Value"`
			Reason  string `xml:"Reason>Text"`
			Detail  struct {
				WSManFault struct {
					Code    string `xml:"Code,attr"`
					Message string `xml:"Message"`
				} `xml:"WSManFault"`
			} `xml:"Detail"`
		} `xml:"Body>Fault"`
	}
	if xml.Unmarshal(body, &env) != nil || env.Fault == nil {
		return nil, false
	}
	f := env.Fault
	reason := strings.TrimSpace(f.Detail.WSManFault.Message)
	if reason == "" {
		reason = strings.TrimSpace(f.Reason)
	}
	return &faultError{subcode: strings.TrimSpace(f.Subcode), code: f.Detail.WSManFault.Code, reason: reason}, true
}

// remote is an open WinRM shell on the host.
type remote struct {
	cfg   config
	log   *slog.Logger
	tr    *transport
	shell *winrm.Shell
	// secrets are scrubbed from every message this remote returns.
	secrets []string
}

// openRemote connects and opens a shell: the first request, where wrong
// credentials and unreachable hosts show.
func openRemote(ctx context.Context, c config, log *slog.Logger) (*remote, error) {
	tr := newTransport(c)
	params := winrm.NewParameters(operationTimeout, "en-US", envelopeSize)
	params.TransportDecorator = func() winrm.Transporter { return tr }
	endpoint := winrm.NewEndpoint(c.host, c.port, true, c.insecure, nil, nil, nil, c.timeout)
	client, err := winrm.NewClientWithParameters(endpoint, c.username, c.password, params)
	if err != nil {
		return nil, plugin.Errorf(plugin.CodePermanent, "WinRM client: %v", err)
	}
	r := &remote{cfg: c, log: log, tr: tr}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	tr.setContext(cctx)
	shell, err := client.CreateShell()
	tr.setContext(context.Background())
	if err != nil {
		tr.client.CloseIdleConnections()
		return nil, r.classify(ctx, "open a shell", err)
	}
	r.shell = shell
	return r, nil
}

// close deletes the shell, even when the caller has given up: a shell
// left open counts against the user's quota on the host until it idles
// out.
func (r *remote) close() {
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	r.tr.setContext(ctx)
	if err := r.shell.Close(); err != nil {
		r.log.Warn("closing the WinRM shell failed", "err", r.scrub(err.Error()))
	}
	r.tr.client.CloseIdleConnections()
}

// addSecret makes every later message of r scrub s.
func (r *remote) addSecret(s ...string) { r.secrets = append(r.secrets, s...) }

// scrub replaces the secrets in msg.
func (r *remote) scrub(msg string) string {
	for _, s := range append([]string{r.cfg.password}, r.secrets...) {
		if len(s) >= 4 {
			msg = strings.ReplaceAll(msg, s, "[redacted]")
		}
	}
	return msg
}

// output is what a script printed.
type output struct {
	stdout, stderr string
	exitCode       int
}

// run runs a script and decodes its result into res (a pointer to a
// struct with the JSON fields of the script's Write-Result). A script
// that reports a failure returns a *scriptError.
func (r *remote) run(ctx context.Context, s script, res any) error {
	cmdline := s.commandLine()
	if len(cmdline) > maxCommandLine {
		// The scripts are sized to fit; this is a bug, not the host's fault.
		return plugin.Errorf(plugin.CodePermanent, "the %s script is %d characters long, over cmd.exe's limit of %d", s.op, len(cmdline), maxCommandLine)
	}
	start := time.Now()
	out, err := r.exec(ctx, cmdline)
	if err != nil {
		return r.classify(ctx, "run the "+s.op+" script", err)
	}
	r.log.Debug("ran a PowerShell script", "script", s.op, "exit_code", out.exitCode, "duration", time.Since(start).Round(time.Millisecond).String())
	line, found := resultLine(out.stdout)
	var head struct {
		OK      bool   `json:"ok"`
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if found {
		if err := json.Unmarshal([]byte(line), &head); err != nil {
			found = false
		}
	}
	if !found {
		detail := "its error output is withheld: the script carried secrets"
		if !s.secret {
			detail = summarize(r.scrub(decodeStderr(out.stderr)))
			if detail == "" {
				detail = "it printed nothing on stderr"
			}
		}
		return &scriptError{op: s.op, kind: kindNoResult, exitCode: out.exitCode,
			message: fmt.Sprintf("powershell.exe exited with code %d without a result (%s)", out.exitCode, detail)}
	}
	if !head.OK || out.exitCode != 0 {
		kind := head.Error
		if kind == "" {
			kind = kindError
		}
		return &scriptError{op: s.op, kind: kind, exitCode: out.exitCode, message: summarize(r.scrub(head.Message))}
	}
	if res != nil {
		if err := json.Unmarshal([]byte(line), res); err != nil {
			return &scriptError{op: s.op, kind: kindNoResult, exitCode: out.exitCode, message: "the result does not parse: " + r.scrub(err.Error())}
		}
	}
	return nil
}

// exec runs a command line in the shell and collects its output.
func (r *remote) exec(ctx context.Context, cmdline string) (output, error) {
	cctx, cancel := context.WithTimeout(ctx, r.cfg.timeout)
	defer cancel()
	r.tr.setContext(cctx)
	defer r.tr.setContext(context.Background())
	cmd, err := r.shell.Execute(cmdline)
	if err != nil {
		return output{}, err
	}
	var stdout, stderr limitedBuffer
	var wg sync.WaitGroup
	var errOut, errErr error
	wg.Add(2)
	go func() { defer wg.Done(); _, errOut = io.Copy(&stdout, cmd.Stdout) }()
	go func() { defer wg.Done(); _, errErr = io.Copy(&stderr, cmd.Stderr) }()
	cmd.Wait()
	wg.Wait()
	// Signal the command to end, which frees it on the host; after a
	// cancellation, with a context of its own.
	if cctx.Err() != nil {
		sctx, scancel := context.WithTimeout(context.Background(), cleanupTimeout)
		defer scancel()
		r.tr.setContext(sctx)
	}
	if err := cmd.Close(); err != nil {
		r.log.Debug("signalling the end of a command failed", "err", r.scrub(err.Error()))
	}
	if err := errors.Join(errOut, errErr); err != nil {
		if ctxErr := cctx.Err(); ctxErr != nil {
			return output{}, ctxErr
		}
		return output{}, err
	}
	return output{stdout: stdout.String(), stderr: stderr.String(), exitCode: cmd.ExitCode()}, nil
}

// classify turns an error of the transport into a plugin error; what
// names the step that failed.
func (r *remote) classify(ctx context.Context, what string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s on %s: %w", what, r.cfg.endpoint, ctxErr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s on %s: no answer within %s: %w", what, r.cfg.endpoint, r.cfg.timeout, err)
	}
	var (
		auth  *authError
		fault *faultError
		verr  *tls.CertificateVerificationError
		uerr  x509.UnknownAuthorityError
		herr  x509.HostnameError
		serr  *statusError
	)
	switch {
	case errors.As(err, &auth):
		if r.cfg.auth == authBasic && !containsFold(auth.offered, "Basic") {
			return plugin.InvalidConfig(fieldAuth, "WinRM at %s does not accept Basic authentication (it offers %s): set auth to ntlm, or enable Basic on the host (winrm set winrm/config/service/auth @{Basic=\"true\"})",
				r.cfg.endpoint, strings.Join(auth.offered, ", "))
		}
		// go-ntlmssp's Negotiator answers a host that offers no NTLM with
		// its 401 as it is (it never falls back to Basic by itself).
		if r.cfg.auth == authNTLM && !containsFold(auth.offered, "Negotiate") && !containsFold(auth.offered, "NTLM") {
			return plugin.InvalidConfig(fieldAuth, "WinRM at %s offers no NTLM (Negotiate) authentication (it offers %s): enable it, or use auth basic",
				r.cfg.endpoint, strings.Join(auth.offered, ", "))
		}
		return plugin.InvalidConfig(fieldPassword, "WinRM at %s refused the username or password (401 Unauthorized)", r.cfg.endpoint)
	case errors.Is(err, errNoNTLM):
		return plugin.InvalidConfig(fieldAuth, "WinRM at %s offers no NTLM (Negotiate) authentication: enable it, or use auth basic", r.cfg.endpoint)
	case errors.As(err, &verr), errors.As(err, &uerr), errors.As(err, &herr):
		return plugin.InvalidConfig(fieldCACertPEM, "the TLS certificate of WinRM at %s is not trusted: %v; set ca_cert_pem to the CA that issued it", r.cfg.endpoint, r.scrub(tlsReason(err)))
	case errors.As(err, &fault):
		msg := fmt.Sprintf("%s on %s: %s", what, r.cfg.endpoint, r.scrub(fault.Error()))
		if fault.code == "5" || strings.HasSuffix(fault.subcode, ":AccessDenied") {
			return plugin.InvalidConfig(fieldUsername, "%s (the account must be allowed to use WinRM and be a local administrator)", msg)
		}
		return plugin.Errorf(plugin.CodeTransient, "%s", msg)
	case errors.As(err, &serr):
		code := plugin.CodePermanent
		if serr.status >= 500 || serr.status == http.StatusTooManyRequests || serr.status == http.StatusRequestTimeout {
			code = plugin.CodeTransient
		}
		return plugin.Errorf(code, "%s on %s: %v", what, r.cfg.endpoint, serr)
	}
	var cerr *connectError
	if errors.As(err, &cerr) {
		return plugin.Errorf(plugin.CodeTransient, "%s: cannot reach %s", what, r.scrub(cerr.Error()))
	}
	return plugin.Errorf(plugin.CodeTransient, "%s on %s: %s", what, r.cfg.endpoint, r.scrub(err.Error()))
}

// tlsReason is the part of a TLS verification error worth showing.
func tlsReason(err error) string {
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return verr.Err.Error()
	}
	var cerr *connectError
	if errors.As(err, &cerr) {
		return cerr.err.Error()
	}
	return err.Error()
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// scriptError is a script that ran and reported a failure.
type scriptError struct {
	op       string
	kind     string // one of the kind constants, or "no_result"
	exitCode int
	message  string // scrubbed
}

func (e *scriptError) Error() string {
	return fmt.Sprintf("the %s script failed (%s): %s", e.op, e.kind, e.message)
}

// resultLine finds the JSON of the last result line in stdout.
func resultLine(stdout string) (string, bool) {
	lines := strings.Split(strings.ReplaceAll(stdout, "\r\n", "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(lines[i]), resultPrefix); ok {
			return rest, true
		}
	}
	return "", false
}

// decodeStderr reads what powershell.exe prints on stderr when its
// output is redirected: "#< CLIXML" followed by serialised records, of
// which the error strings (<S S="Error">) are kept. Other text is
// returned as it is.
func decodeStderr(s string) string {
	rest, ok := strings.CutPrefix(strings.TrimLeft(s, "\r\n "), "#< CLIXML")
	if !ok {
		return strings.TrimSpace(s)
	}
	dec := xml.NewDecoder(strings.NewReader(rest))
	var parts []string
	for {
		tok, err := dec.Token()
		if err != nil {
			break
		}
		start, ok := tok.(xml.StartElement)
		if !ok || start.Name.Local != "S" {
			continue
		}
		isError := false
		for _, a := range start.Attr {
			if a.Name.Local == "S" && a.Value == "Error" {
				isError = true
			}
		}
		var text string
		if err := dec.DecodeElement(&text, &start); err == nil && isError {
			parts = append(parts, unescapeCLIXML(text))
		}
	}
	return strings.TrimSpace(strings.Join(parts, ""))
}

var clixmlEscape = regexp.MustCompile(`_x([0-9A-Fa-f]{4})_`)

// unescapeCLIXML decodes CLIXML's _xHHHH_ escapes (e.g. _x000D__x000A_).
func unescapeCLIXML(s string) string {
	return clixmlEscape.ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.ParseUint(m[2:6], 16, 16)
		if err != nil {
			return m
		}
		return string(rune(n))
	})
}

// summarize keeps a message short enough for an error: its lines joined,
// at most 600 characters.
func summarize(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 600 {
		s = s[:600] + "…"
	}
	return s
}

// limitedBuffer keeps the first maxOutput bytes written to it.
type limitedBuffer struct{ bytes.Buffer }

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := maxOutput - b.Len(); room > 0 {
		if len(p) > room {
			b.Buffer.Write(p[:room])
		} else {
			b.Buffer.Write(p)
		}
	}
	return len(p), nil
}
