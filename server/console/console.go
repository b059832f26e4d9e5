// Package console is certctl's web console: server-rendered HTML pages
// (html/template) with a little progressive-enhancement JavaScript, all
// embedded in the server binary, so that there is no build step and no
// front-end server.
//
// The console calls the service layer directly as the signed-in user: a
// session stands for the API key it was opened with, and every page and
// action passes the same role checks as the REST API. Sessions live in
// PostgreSQL (any replica serves them; signing out ends them everywhere).
// Every POST carries the session's CSRF token.
package console

import (
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/certctl/certctl/server/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options are what the console is built from.
type Options struct {
	Service *service.Service
	Logger  *slog.Logger
	// SecureCookies marks cookies Secure even on plain HTTP requests (for
	// a server behind a TLS-terminating proxy). Requests that arrive over
	// TLS always get Secure cookies.
	SecureCookies bool
	// PollInterval is how often a page that shows work in progress asks
	// for its state; 0 means 2 seconds.
	PollInterval time.Duration
	// PageSize is how many rows a list page shows; 0 means 50.
	PageSize int
}

// Console serves the web console.
type Console struct {
	svc     *service.Service
	logger  *slog.Logger
	secure  bool
	poll    time.Duration
	perPage int
	pages   map[string]*page
	mux     *http.ServeMux
	started time.Time
}

// New returns the console's handler.
func New(o Options) (*Console, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.PageSize <= 0 {
		o.PageSize = 50
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	c := &Console{svc: o.Service, logger: o.Logger, secure: o.SecureCookies, poll: o.PollInterval, perPage: o.PageSize, pages: pages,
		mux: http.NewServeMux(), started: time.Now()}
	c.routes()
	return c, nil
}

// ServeHTTP sets the security headers of every console response, then
// serves it.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// No inline script or style: everything comes from /static, so an
	// injected <script> never runs. Nothing may frame the console.
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "+
		"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.mux.ServeHTTP(w, r)
}

// routes lists every page and action of the console.
func (c *Console) routes() {
	static, _ := fs.Sub(staticFS, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(static))
	c.mux.Handle("GET /static/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		files.ServeHTTP(w, r)
	}))
	c.mux.HandleFunc("GET /signin", c.signInPage)
	c.mux.HandleFunc("POST /signin", c.signIn)
	c.mux.Handle("POST /signout", c.session(c.signOut))

	c.mux.Handle("GET /{$}", c.session(c.dashboard))
	c.mux.Handle("GET /certificates", c.session(c.certificates))
	c.mux.Handle("GET /certificates/new", c.session(c.newCertificate))
	c.mux.Handle("POST /certificates", c.session(c.createCertificate))
	c.mux.Handle("GET /certificates/{id}", c.session(c.certificate))
	c.mux.Handle("GET /certificates/{id}/edit", c.session(c.newCertificate))
	c.mux.Handle("POST /certificates/{id}", c.session(c.createCertificate))
	c.mux.Handle("POST /certificates/{id}/delete", c.session(c.deleteCertificate))
	c.mux.Handle("GET /certificates/{id}/live", c.session(c.certificateLive))
	c.mux.Handle("GET /certificates/{id}/chain.pem", c.session(c.certificateChain))
	c.mux.Handle("POST /certificates/{id}/renew", c.session(c.renew))
	c.mux.Handle("POST /certificates/{id}/revoke", c.session(c.revoke))
	c.mux.Handle("GET /agents", c.session(c.agents))
	c.mux.Handle("GET /agents/{id}", c.session(c.agent))
	c.mux.Handle("POST /agents/{id}/retire", c.session(c.retire))
	c.mux.Handle("GET /issuers", c.session(c.issuers))
	// Issuers, targets and notifiers share one form, built from their plugin's schema.
	for section := range connectorKinds {
		c.mux.Handle("GET /"+section+"/new", c.session(c.newConnector))
		c.mux.Handle("POST /"+section, c.session(c.createConnector))
		c.mux.Handle("GET /"+section+"/{id}/edit", c.session(c.newConnector))
		c.mux.Handle("POST /"+section+"/{id}", c.session(c.createConnector))
		c.mux.Handle("POST /"+section+"/{id}/delete", c.session(c.deleteConnector))
	}
	c.mux.Handle("GET /plugins", c.session(c.plugins))
	c.mux.Handle("GET /targets", c.session(c.targets))
	c.mux.Handle("GET /notifiers", c.session(c.notifiers))
	c.mux.Handle("POST /notification-rules", c.session(c.createRule))
	c.mux.Handle("POST /notification-rules/{id}/delete", c.session(c.deleteRule))
	c.mux.Handle("GET /access", c.session(c.access))
	c.mux.Handle("POST /access/api-keys", c.session(c.createAPIKey))
	c.mux.Handle("POST /access/api-keys/{id}/revoke", c.session(c.revokeAPIKey))
	c.mux.Handle("POST /access/enrollment-tokens", c.session(c.createToken))
	c.mux.Handle("POST /access/enrollment-tokens/{id}/revoke", c.session(c.revokeToken))
	c.mux.Handle("GET /jobs", c.session(c.jobs))
	c.mux.Handle("POST /jobs/{id}/{action}", c.session(c.jobAction))
	c.mux.Handle("GET /audit", c.session(c.audit))
	c.mux.Handle("/", c.session(c.notFound))
}
