package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/certctl/certctl/sdk/plugin"
)

// iControl REST limits and locations.
const (
	uploadChunk     = 1 << 20 // the file-transfer worker's largest chunk
	downloadsDir    = "/var/config/rest/downloads/"
	maxResponseBody = 4 << 20
	maxMessage      = 500 // characters of a BIG-IP error message quoted in an error
	logoutTimeout   = 10 * time.Second
)

// Header names.
const (
	headerToken       = "X-F5-Auth-Token"
	headerTransaction = "X-F5-REST-Coordination-Id"
)

// client talks to one BIG-IP for the length of one operation: it logs in
// for a token, sends requests with it, logs in again once if the token
// expires meanwhile, and deletes its token at the end. Errors it returns
// never hold the password, the token or anything sent in a request body.
type client struct {
	cfg   config
	http  *http.Client
	log   *slog.Logger
	token string
	// tokens issued to this client, deleted by logout; more than one when
	// a token expired during the operation.
	tokens []string
}

// newClient returns a client for c; nothing is sent until login.
func newClient(c config, log *slog.Logger) *client {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: c.roots,
		InsecureSkipVerify: c.insecure} //nolint:gosec // only when the user asks, for labs
	return &client{
		cfg: c,
		http: &http.Client{Transport: tr,
			// A redirect would carry the token to another address.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		log: log,
	}
}

// apiError is an answer from the BIG-IP that is not a success.
type apiError struct {
	What    string // e.g. "GET /mgmt/tm/ltm/profile/client-ssl/~Common~www"
	Status  int
	Message string // the BIG-IP's message, redacted and shortened
}

func (e *apiError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("%s: HTTP %d", e.What, e.Status)
	}
	return fmt.Sprintf("%s: HTTP %d: %s", e.What, e.Status, e.Message)
}

// netError is a request that got no answer.
type netError struct {
	What string
	Err  error
}

func (e *netError) Error() string { return fmt.Sprintf("%s: %v", e.What, e.Err) }
func (e *netError) Unwrap() error { return e.Err }

// isStatus reports whether err is an answer with HTTP status code.
func isStatus(err error, code int) bool {
	var ae *apiError
	return errors.As(err, &ae) && ae.Status == code
}

// request is one call.
type request struct {
	method, path string
	what         string // how errors and logs name the call; method and path when empty
	body         any    // JSON-encoded unless raw is set
	raw          []byte
	header       http.Header
	txn          string // transaction id for X-F5-REST-Coordination-Id
}

// login gets a token: POST /mgmt/shared/authn/login. A refused login is
// an invalid configuration (the password, or the username).
func (c *client) login(ctx context.Context) error {
	body := map[string]string{"username": c.cfg.username, "password": c.cfg.password, "loginProviderName": "tmos"}
	var out struct {
		Token struct {
			Token string `json:"token"`
			Name  string `json:"name"`
		} `json:"token"`
	}
	err := c.send(ctx, request{method: http.MethodPost, path: "/mgmt/shared/authn/login", body: body}, &out, false)
	var ae *apiError
	if errors.As(err, &ae) && (ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden) {
		return plugin.InvalidConfig(fieldPassword, "the BIG-IP refused the login of user %q (HTTP %d: %s)",
			c.cfg.username, ae.Status, ae.Message)
	}
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return plugin.InvalidConfig(fieldAddress, "%s has no iControl REST login endpoint (HTTP 404): is it a BIG-IP management interface?", c.cfg.base)
	}
	if err != nil {
		return classify(err)
	}
	tok := out.Token.Token
	if tok == "" {
		tok = out.Token.Name
	}
	if tok == "" {
		return plugin.Errorf(plugin.CodePermanent, "the login answer of %s holds no token: is it a BIG-IP?", c.cfg.base)
	}
	c.token = tok
	c.tokens = append(c.tokens, tok)
	return nil
}

// logout deletes the tokens this client got (DELETE
// /mgmt/shared/authz/tokens/<token>), even when ctx has ended, within
// logoutTimeout. A failure is logged, not returned: the token expires by
// itself.
func (c *client) logout(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	for _, tok := range c.tokens {
		c.token = tok
		err := c.send(ctx, request{method: http.MethodDelete, path: "/mgmt/shared/authz/tokens/" + url.PathEscape(tok),
			what: "DELETE /mgmt/shared/authz/tokens/(token)"}, nil, true)
		if err != nil && !isStatus(err, http.StatusUnauthorized) && !isStatus(err, http.StatusNotFound) {
			c.log.Warn("could not delete the BIG-IP login token; it will expire by itself", "address", c.cfg.base, "err", err.Error())
		}
	}
	c.tokens, c.token = nil, ""
	c.http.CloseIdleConnections()
}

// do sends r with the token and decodes a JSON answer into out (nil
// ignores it). When the token is refused (it expired), do logs in again
// once and repeats the call. Errors are *apiError, *netError or ctx's.
func (c *client) do(ctx context.Context, r request, out any) error {
	err := c.send(ctx, r, out, true)
	if !isStatus(err, http.StatusUnauthorized) {
		return err
	}
	c.log.Info("the BIG-IP refused the login token (expired?); logging in again", "address", c.cfg.base)
	if lerr := c.login(ctx); lerr != nil {
		return lerr
	}
	return c.send(ctx, r, out, true)
}

// send makes one call within the configured timeout.
func (c *client) send(ctx context.Context, r request, out any, auth bool) error {
	what := r.what
	if what == "" {
		what = r.method + " " + r.path
	}
	body := r.raw
	if r.raw == nil && r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("%s: encode the request: %w", what, err)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, c.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, r.method, c.cfg.base+r.path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%s: build the request: %w", what, err)
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	if req.Header.Get("Content-Type") == "" && body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if auth {
		req.Header.Set(headerToken, c.token)
	}
	if r.txn != "" {
		req.Header.Set(headerTransaction, r.txn)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s: %w", what, ctxErr)
		}
		return &netError{What: what, Err: transportError(err, rctx, c.cfg.timeout)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("%s: %w", what, ctxErr)
		}
		return &netError{What: what, Err: fmt.Errorf("reading the answer: %v", transportError(err, rctx, c.cfg.timeout))}
	}
	status, msg := resp.StatusCode, ""
	if status/100 == 2 {
		// Some iControl REST errors come with HTTP 200 and the real code
		// in the body.
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &e) == nil && e.Code >= 400 && e.Message != "" {
			status, msg = e.Code, e.Message
		}
	} else {
		msg = errorMessage(data)
	}
	if status/100 != 2 {
		return &apiError{What: what, Status: status, Message: c.redact(msg)}
	}
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return &apiError{What: what, Status: status, Message: "the answer is not the JSON expected: " + err.Error()}
		}
	}
	return nil
}

// errorMessage is the message of an iControl REST error body
// {"code":..,"message":..}; the rest of the body is never quoted, since
// it may echo the request (the login's holds the password).
func errorMessage(data []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) != nil {
		return ""
	}
	return e.Message
}

// redact removes the password and tokens from a message, and shortens it.
func (c *client) redact(msg string) string {
	for _, secret := range append([]string{c.cfg.password}, c.tokens...) {
		if len(secret) >= 4 {
			msg = strings.ReplaceAll(msg, secret, "(redacted)")
		}
	}
	msg = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, msg)
	if len(msg) > maxMessage {
		msg = msg[:maxMessage] + "..."
	}
	return strings.TrimSpace(msg)
}

// transportError describes a failed round trip without the URL, which
// *url.Error would print (the logout's holds the token).
func transportError(err error, rctx context.Context, timeout time.Duration) error {
	if errors.Is(rctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s", timeout)
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	var nerr net.Error
	if errors.As(err, &nerr) && nerr.Timeout() {
		return fmt.Errorf("no answer within %s", timeout)
	}
	return err
}

// classify turns a client error into what the host acts on: the BIG-IP
// busy, failing or out of reach is transient; a token refused again
// after a fresh login means the user lacks rights; other refusals are
// permanent. Context errors and *plugin.Error pass through.
func classify(err error) error {
	var pe *plugin.Error
	if err == nil || errors.As(err, &pe) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var verr *tls.CertificateVerificationError
	if errors.As(err, &verr) {
		return plugin.InvalidConfig(fieldCACertPEM, "the management interface's TLS certificate is not trusted (%v): "+
			"set ca_cert_pem to the CA or device certificate that signed it (or insecure_skip_verify, for labs)", verr.Err)
	}
	var ne *netError
	if errors.As(err, &ne) {
		return plugin.Errorf(plugin.CodeTransient, "%v", err)
	}
	var ae *apiError
	if errors.As(err, &ae) {
		switch {
		case ae.Status == http.StatusUnauthorized || ae.Status == http.StatusForbidden:
			return &plugin.Error{Code: plugin.CodeInvalidConfig, Field: fieldUsername,
				Message: "the BIG-IP refused the request (does the user have the rights it needs?): " + err.Error()}
		case ae.Status >= 500, ae.Status == http.StatusTooManyRequests, ae.Status == http.StatusRequestTimeout:
			return plugin.Errorf(plugin.CodeTransient, "%v", err)
		}
	}
	return plugin.Errorf(plugin.CodePermanent, "%v", err)
}

// upload sends data as downloadsDir+name through the file-transfer
// worker, in chunks with Content-Range start-end/total.
func (c *client) upload(ctx context.Context, name string, data []byte) error {
	for start := 0; start < len(data); start += uploadChunk {
		end := min(start+uploadChunk, len(data))
		h := http.Header{}
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Range", fmt.Sprintf("%d-%d/%d", start, end-1, len(data)))
		if err := c.do(ctx, request{method: http.MethodPost, path: "/mgmt/shared/file-transfer/uploads/" + url.PathEscape(name),
			raw: data[start:end], header: h}, nil); err != nil {
			return err
		}
	}
	return nil
}

// removeUpload deletes an uploaded file with the unix-rm utility. It is
// best effort: a failure is logged.
func (c *client) removeUpload(ctx context.Context, name string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	err := c.do(ctx, request{method: http.MethodPost, path: "/mgmt/tm/util/unix-rm",
		body: map[string]string{"command": "run", "utilCmdArgs": downloadsDir + name}}, nil)
	if err != nil {
		c.log.Warn("could not remove an uploaded file from the BIG-IP", "address", c.cfg.base, "file", downloadsDir+name, "err", err.Error())
	}
}

// transaction is an open iControl REST transaction.
type transaction struct{ id string }

// begin opens a transaction: POST /mgmt/tm/transaction {}.
func (c *client) begin(ctx context.Context) (*transaction, error) {
	var out struct {
		TransID json.Number `json:"transId"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: "/mgmt/tm/transaction", body: struct{}{}}, &out); err != nil {
		return nil, err
	}
	if out.TransID == "" {
		return nil, &apiError{What: "POST /mgmt/tm/transaction", Status: http.StatusOK, Message: "the answer holds no transId"}
	}
	return &transaction{id: out.TransID.String()}, nil
}

// commitPoll is how often a commit still validating is looked at again.
const commitPoll = 250 * time.Millisecond

// commit asks the BIG-IP to apply the transaction: PATCH
// /mgmt/tm/transaction/<id> {"state":"VALIDATING"}, without the
// coordination header. A commit answered before it completed is looked
// at until it has.
func (c *client) commit(ctx context.Context, tx *transaction) error {
	path := "/mgmt/tm/transaction/" + tx.id
	var out struct {
		State         string `json:"state"`
		FailureReason string `json:"failureReason"`
	}
	if err := c.do(ctx, request{method: http.MethodPatch, path: path, body: map[string]string{"state": "VALIDATING"}}, &out); err != nil {
		return err
	}
	for {
		switch out.State {
		case "COMPLETED", "":
			return nil
		case "FAILED":
			return &apiError{What: "PATCH " + path, Status: http.StatusBadRequest,
				Message: c.redact("transaction failed: " + out.FailureReason)}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for transaction %s: %w", tx.id, ctx.Err())
		case <-time.After(commitPoll):
		}
		if err := c.do(ctx, request{method: http.MethodGet, path: path}, &out); err != nil {
			return err
		}
	}
}

// discard deletes a transaction that will not be committed, best effort.
func (c *client) discard(ctx context.Context, tx *transaction) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), logoutTimeout)
	defer cancel()
	if err := c.do(ctx, request{method: http.MethodDelete, path: "/mgmt/tm/transaction/" + tx.id}, nil); err != nil &&
		!isStatus(err, http.StatusNotFound) {
		c.log.Warn("could not discard an uncommitted BIG-IP transaction; it expires by itself", "address", c.cfg.base,
			"transaction", tx.id, "err", err.Error())
	}
}

// certObject is what the BIG-IP reports about an installed certificate.
type certObject struct {
	Name                   string `json:"name"`
	FullPath               string `json:"fullPath"`
	SerialNumber           string `json:"serialNumber"`
	Subject                string `json:"subject"`
	SubjectAlternativeName string `json:"subjectAlternativeName"`
	ExpirationString       string `json:"expirationString"`
}

// getCert reads an installed certificate; nil when it does not exist.
func (c *client) getCert(ctx context.Context, fullPath string) (*certObject, error) {
	var out certObject
	err := c.do(ctx, request{method: http.MethodGet, path: "/mgmt/tm/sys/crypto/cert/" + uriName(fullPath)}, &out)
	if isStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// keyExists reports whether a key object exists.
func (c *client) keyExists(ctx context.Context, fullPath string) (bool, error) {
	err := c.do(ctx, request{method: http.MethodGet, path: "/mgmt/tm/sys/crypto/key/" + uriName(fullPath)}, nil)
	if isStatus(err, http.StatusNotFound) {
		return false, nil
	}
	return err == nil, err
}

// install installs an uploaded file as a certificate ("cert") or key
// ("key") object: POST /mgmt/tm/sys/crypto/<kind> {"command":"install"}.
func (c *client) install(ctx context.Context, kind, fullPath, file string) error {
	return c.do(ctx, request{method: http.MethodPost, path: "/mgmt/tm/sys/crypto/" + kind,
		body: map[string]string{"command": "install", "name": fullPath, "from-local-file": downloadsDir + file}}, nil)
}

// chainEntry is one element of a client-SSL profile's certKeyChain.
type chainEntry struct {
	Name  string `json:"name"`
	Cert  string `json:"cert,omitempty"`
	Key   string `json:"key,omitempty"`
	Chain string `json:"chain,omitempty"`
}

// profileObject is the part of a client-SSL profile this plugin reads.
type profileObject struct {
	Name         string       `json:"name"`
	FullPath     string       `json:"fullPath"`
	DefaultsFrom string       `json:"defaultsFrom"`
	CertKeyChain []chainEntry `json:"certKeyChain"`
}

// defaultEntry returns the certKeyChain entry this plugin manages: the
// one called "default", else the first; nil when there is none.
func (p *profileObject) defaultEntry() *chainEntry {
	for i := range p.CertKeyChain {
		if p.CertKeyChain[i].Name == "default" {
			return &p.CertKeyChain[i]
		}
	}
	if len(p.CertKeyChain) > 0 {
		return &p.CertKeyChain[0]
	}
	return nil
}

const profilePath = "/mgmt/tm/ltm/profile/client-ssl"

// getProfile reads a client-SSL profile; nil when it does not exist.
func (c *client) getProfile(ctx context.Context, fullPath string) (*profileObject, error) {
	var out profileObject
	err := c.do(ctx, request{method: http.MethodGet, path: profilePath + "/" + uriName(fullPath)}, &out)
	if isStatus(err, http.StatusNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// virtualProfiles lists the full paths of the profiles attached to a
// virtual server; ok is false when the virtual server does not exist.
func (c *client) virtualProfiles(ctx context.Context, fullPath string) (paths []string, ok bool, err error) {
	var out struct {
		Items []struct {
			Name     string `json:"name"`
			FullPath string `json:"fullPath"`
		} `json:"items"`
	}
	err = c.do(ctx, request{method: http.MethodGet, path: "/mgmt/tm/ltm/virtual/" + uriName(fullPath) + "/profiles"}, &out)
	if isStatus(err, http.StatusNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	for _, it := range out.Items {
		paths = append(paths, it.FullPath)
	}
	return paths, true, nil
}

// partitionExists reports whether the partition exists.
func (c *client) partitionExists(ctx context.Context, name string) (bool, error) {
	err := c.do(ctx, request{method: http.MethodGet, path: "/mgmt/tm/auth/partition/" + url.PathEscape(name)}, nil)
	if isStatus(err, http.StatusNotFound) {
		return false, nil
	}
	return err == nil, err
}

// deleteObject deletes a certificate or key object.
func (c *client) deleteObject(ctx context.Context, kind, fullPath string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/mgmt/tm/sys/crypto/" + kind + "/" + uriName(fullPath)}, nil)
}
