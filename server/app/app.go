// Package app wires certctl-server together: configuration, the database
// (external or the embedded default), migrations and bootstrap, the API,
// metrics, and the HTTP listener with graceful shutdown. main calls Run.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"
	"github.com/certctl/certctl/server/console"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/db"
	"github.com/certctl/certctl/server/httpapi"
	"github.com/certctl/certctl/server/pgembed"
	"github.com/certctl/certctl/server/secrets"
	"github.com/certctl/certctl/server/service"
	"github.com/certctl/certctl/server/store"
)

// Version is the server's version, set at build time with -ldflags.
var Version = "dev"

// versionLine is what --version prints: the binary, its version and the
// toolchain and platform it was built for.
func versionLine() string {
	return fmt.Sprintf("certctl-server %s (%s %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// embeddedDatabase is the name of certctl's database in the embedded cluster.
const embeddedDatabase = "certctl"

// embeddedSpareConns are the embedded cluster's connections beyond the
// pool's (--db-max-conns): PostgreSQL keeps 3 of them for superusers.
const embeddedSpareConns = 10

// Run runs the server until ctx is cancelled (SIGTERM/SIGINT in main) or
// it fails. It prints the URL and, on first start, the admin API key to
// stdout; logs go to stderr. ready, if not nil, receives the address the
// server listens on once it serves.
//
// Run reads as the list of the server's steps. Each step that starts
// something registers how to stop it (s.onStop); the stops run in reverse,
// each by its time in the shutdown plan, whether Run ends by a signal or a
// failure.
func Run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer, ready chan<- string) error {
	cfg, err := ParseConfig(args, getenv, stderr)
	if err != nil {
		return err
	}
	if cfg.ShowVersion {
		_, err := fmt.Fprintln(stdout, versionLine())
		return err
	}
	logger, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	s := &server{cfg: cfg, logger: logger}
	defer s.stop()

	if err := s.openDatabase(ctx); err != nil {
		return err
	}
	if err := s.loadSecrets(getenv); err != nil {
		return err
	}
	if err := s.prepare(ctx); err != nil {
		return fmt.Errorf("prepare database: %w", err)
	}
	s.startAuditBacklog(ctx)
	if err := s.buildHTTP(); err != nil {
		return err
	}
	if err := s.listen(ctx); err != nil {
		return err
	}
	s.announce(stdout, ready)
	s.startWorkers(ctx)
	return s.serve(ctx)
}

// server is what Run's steps build, one after the other.
type server struct {
	cfg    Config
	logger *slog.Logger
	// plan, once shutdown begins, says by when each stop must be done:
	// Run returns within --shutdown-timeout.
	plan  shutdownPlan
	stops []func() // run in reverse by stop

	cluster  *pgembed.Cluster // nil with an external database
	pool     *pgxpool.Pool
	st       *store.Store
	box      *secrets.Box
	plugins  *host.Host
	svc      *service.Service
	adminKey string // a first start's admin key, shown once

	hub    *service.AgentHub
	api    *httpapi.Server
	ln     net.Listener
	srv    *http.Server
	http01 *http.Server // nil without --http01-listen
	scheme string
	// stopping ends when shutdown begins: requests waiting on ?wait= answer.
	stopping      context.Context
	beginShutdown context.CancelFunc
	eng           *engine
}

// onStop registers how to stop what a step started.
func (s *server) onStop(f func()) { s.stops = append(s.stops, f) }

// stop runs the registered stops, the last registered first.
func (s *server) stop() {
	for i := len(s.stops) - 1; i >= 0; i-- {
		s.stops[i]()
	}
}

// openDatabase starts the embedded database when no URL is configured, and
// opens the connection pool.
func (s *server) openDatabase(ctx context.Context) error {
	dbURL := s.cfg.DatabaseURL
	if dbURL == "" {
		cluster, url, err := startEmbedded(ctx, s.cfg, s.logger)
		if err != nil {
			return err
		}
		s.cluster, dbURL = cluster, url
		s.onStop(func() {
			stopCtx, cancel := s.plan.step(ctx, s.plan.end, 30*time.Second)
			defer cancel()
			if err := cluster.Stop(stopCtx); err != nil {
				s.logger.Error("stop embedded database", "err", err)
			}
		})
	}
	pool, err := db.Open(ctx, dbURL, int32(s.cfg.DBMaxConns))
	if err != nil {
		return err
	}
	s.pool, s.st = pool, store.New(pool)
	s.onStop(func() {
		closeCtx, cancel := s.plan.step(ctx, s.plan.poolEnd, time.Minute)
		defer cancel()
		closePool(closeCtx, pool, s.logger)
	})
	return nil
}

// loadSecrets loads (or on first use creates) the encryption key of the
// secrets at rest.
func (s *server) loadSecrets(getenv func(string) string) error {
	keys, keyCreated, err := secrets.LoadKey(getenv("CERTCTL_ENCRYPTION_KEY"), getenv("CERTCTL_ENCRYPTION_KEY_PREVIOUS"), s.cfg.DataDir)
	if err != nil {
		return fmt.Errorf("encryption key: %w", err)
	}
	if s.box, err = secrets.New(keys.Current, keys.Previous...); err != nil {
		return fmt.Errorf("encryption key: %w", err)
	}
	if keyCreated {
		s.logger.Info("created an encryption key for secrets at rest; back it up, and give every replica the same key",
			"file", filepath.Join(s.cfg.DataDir, secrets.KeyFileName), "key_id", s.box.KeyID())
	}
	if prev := s.box.PreviousKeyIDs(); len(prev) > 0 {
		s.logger.Info("previous encryption keys configured: they open what they sealed, the current key seals; "+
			"POST /api/v1/encryption-key/rotate re-seals everything with the current key",
			"key_id", s.box.KeyID(), "previous_key_ids", prev)
	}
	return nil
}

// prepare does, under the startup lock (one replica at a time), what needs
// the database before serving: migrations, the plugins, the services and
// the first start's bootstrap.
func (s *server) prepare(ctx context.Context) error {
	s.onStop(func() {
		if s.plugins != nil {
			stopCtx, cancel := s.plan.step(ctx, s.plan.pluginsEnd, time.Minute)
			defer cancel()
			if err := s.plugins.Shutdown(stopCtx); err != nil {
				s.logger.Warn("plugin processes that did not exit in time were killed")
			}
		}
	})
	err := db.WithStartupLock(ctx, s.pool, func(ctx context.Context) error {
		if err := s.migrate(ctx); err != nil {
			return err
		}
		if err := s.loadPlugins(ctx); err != nil {
			return err
		}
		if err := s.newService(ctx); err != nil {
			return err
		}
		return s.bootstrap(ctx)
	})
	// The connections that ran the migrations and the bootstrap hold the
	// catalogue caches of every table they touched (4-5 MiB each on a
	// first start); one of them would otherwise become a LISTEN
	// connection and keep that for the server's life. Nothing else uses
	// the pool yet: the next connections open as the work needs them.
	s.pool.Reset()
	return err
}

// migrate applies the database migrations.
func (s *server) migrate(ctx context.Context) error {
	version, err := db.Migrate(ctx, s.pool, quieter(s.logger))
	if err != nil {
		return err
	}
	s.logger.Info("database ready", "database", databaseKind(s.cluster), "schema_version", version)
	return nil
}

// loadPlugins finds the plugins and checks them against the catalogue.
func (s *server) loadPlugins(ctx context.Context) error {
	h, err := startPlugins(ctx, s.cfg, s.st, s.logger)
	if err != nil {
		return err
	}
	s.plugins = h
	return nil
}

// newService builds the service over the store, the secrets and the
// plugins, and checks that the encryption key opens what is stored.
func (s *server) newService(ctx context.Context) error {
	jobs := service.DefaultJobSettings()
	jobs.PendingLimit = s.cfg.OrderPendingLimit
	s.svc = service.New(service.Options{Store: s.st, Logger: s.logger, Secrets: s.box, PublicURL: publicURL(s.cfg),
		Connectors: service.HostCatalog{Host: s.plugins}, Plugins: PluginRegistry(s.plugins), Notifiers: s.plugins,
		Issuers: s.plugins, Jobs: &jobs})
	return s.svc.CheckEncryptionKey(ctx)
}

// bootstrap creates, on a first start, the admin key and the default
// issuers.
func (s *server) bootstrap(ctx context.Context) error {
	var err error
	if s.adminKey, err = s.svc.Bootstrap(ctx, s.cfg.BootstrapAdminKey); err != nil {
		return err
	}
	if _, ok := s.plugins.Lookup(plugin.KindIssuer, "local"); ok {
		created, err := s.svc.EnsureDefaultIssuer(ctx)
		if err != nil {
			return err
		}
		if created {
			s.logger.Info("created the default local CA issuer", "name", "local")
		}
	}
	return ensureDefaultACME(ctx, s.cfg, s.svc, s.plugins, s.logger)
}

// startAuditBacklog starts writing the audit events of failures that found
// the database unavailable, once it answers. The loop stops after the
// requests and jobs (the workers' stop is registered later, so it runs
// first) and makes its last attempt before the pool closes.
func (s *server) startAuditBacklog(ctx context.Context) {
	auditCtx, stopAudit := context.WithCancel(context.WithoutCancel(ctx))
	auditDone := make(chan struct{})
	go func() { defer close(auditDone); s.svc.RunAuditBacklog(auditCtx) }()
	s.onStop(func() {
		stopAudit()
		<-auditDone
		lastCtx, cancel := s.plan.step(ctx, s.plan.pluginsEnd, 5*time.Second)
		defer cancel()
		s.svc.CloseAuditBacklog(lastCtx)
	})
}

// buildHTTP builds the HTTP API with the console, the metrics registry and
// the agent hub.
func (s *server) buildHTTP() error {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newPoolCollector(s.pool))
	s.hub = service.NewAgentHub()
	// Behind a TLS-terminating proxy the console's cookies are still
	// Secure when the public URL says https.
	ui, err := console.New(console.Options{Service: s.svc, Logger: s.logger,
		SecureCookies: strings.HasPrefix(publicURL(s.cfg), "https://")})
	if err != nil {
		return err
	}
	s.api, err = httpapi.New(httpapi.Options{
		Service: s.svc, Logger: s.logger, Registry: reg, MaxBodyBytes: s.cfg.MaxBodyBytes, AgentHub: s.hub, Console: ui,
		AgentMaxInflight: s.cfg.AgentMaxInflight,
		// The listener opens only once migrations are applied, so readiness
		// is the database answering, and the plugins it needs (readiness.go).
		Ready: func(ctx context.Context) error {
			if err := s.pool.Ping(ctx); err != nil {
				return core.Errorf(core.EUNAVAILABLE, "database unreachable")
			}
			return nil
		},
		PluginsReady: func(ctx context.Context) (map[string]string, error) {
			checks, err := pluginReadiness(ctx, s.st, s.plugins)
			if err != nil {
				s.logger.WarnContext(ctx, "readiness: cannot read which plugins are needed", "err", err)
				return nil, core.Errorf(core.EUNAVAILABLE, "cannot read which plugins are needed")
			}
			return checks, nil
		},
	})
	return err
}

// listen opens the listeners: the API's (with TLS when configured), the
// HTTP-01 responder's and the profiler's.
func (s *server) listen(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.ListenAddr, err)
	}
	s.ln = ln
	s.stopping, s.beginShutdown = context.WithCancel(context.WithoutCancel(ctx))
	s.onStop(s.beginShutdown)
	s.srv = &http.Server{
		Handler:           endWaitsOnShutdown(s.api, s.stopping),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	s.scheme = "http"
	if s.cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		// HTTP/2 offered as ServeTLS would: serve wraps the listener itself
		// (httpapi.Server.Listener), and net/http sets HTTP/2 up for h2.
		s.srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert},
			NextProtos: []string{"h2", "http/1.1"}}
		s.scheme = "https"
	}
	if err := s.listenHTTP01(); err != nil {
		ln.Close()
		return err
	}
	if s.cfg.PprofAddr != "" {
		pln, err := net.Listen("tcp", s.cfg.PprofAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (--pprof-addr): %w", s.cfg.PprofAddr, err)
		}
		s.onStop(startPprof(pln, s.logger))
	}
	return nil
}

// listenHTTP01 starts the HTTP-01 responder's own listener (where ACME CAs
// connect, port 80), stopped with the main one.
func (s *server) listenHTTP01() error {
	if s.cfg.HTTP01Listen == "" {
		return nil
	}
	hln, err := net.Listen("tcp", s.cfg.HTTP01Listen)
	if err != nil {
		return fmt.Errorf("listen on %s (--http01-listen): %w", s.cfg.HTTP01Listen, err)
	}
	s.http01 = &http.Server{Handler: s.api.HTTP01Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn)}
	s.logger.Info("serving ACME HTTP-01 challenge responses", "addr", hln.Addr().String())
	go func() {
		if err := s.http01.Serve(hln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("HTTP-01 listener failed", "addr", s.cfg.HTTP01Listen, "err", err)
		}
	}()
	s.onStop(func() { s.http01.Close() })
	return nil
}

// announce logs the URL and prints the banner, after every startup log
// line, so that the URL and the one-time admin key are the last thing on
// the terminal; then it tells ready.
func (s *server) announce(stdout io.Writer, ready chan<- string) {
	url := fmt.Sprintf("%s://%s", s.scheme, displayAddr(s.ln.Addr()))
	s.logger.Info("serving", "url", url, "database", databaseKind(s.cluster))
	printBanner(stdout, url, s.adminKey)
	if ready != nil {
		ready <- s.ln.Addr().String()
	}
}

// startWorkers starts the lifecycle engine: workers run jobs; the
// scheduler runs on the one server that wins the leader election.
func (s *server) startWorkers(ctx context.Context) {
	s.eng = startEngine(ctx, s.svc, s.hub, s.cfg)
	s.onStop(func() {
		if s.plan.end.IsZero() { // a failure: no time for jobs in flight
			s.plan = planShutdown(time.Now(), s.cfg.ShutdownTimeout)
			s.plan.workEnd = time.Now()
		}
		s.eng.shutdown(s.logger, s.plan.workEnd, s.plan.engineEnd) // before plugins stop
	})
}

// serve serves until ctx ends, serving fails or the embedded database is
// lost, then shuts the requests and jobs in flight down.
func (s *server) serve(ctx context.Context) error {
	serveErr := make(chan error, 1)
	// The API's listener (with TLS when configured) takes back the
	// connections of agents' parked long polls (httpapi/park.go).
	ln := s.api.Listener(s.ln, s.srv.TLSConfig, s.srv.IdleTimeout)
	go func() { serveErr <- s.srv.Serve(ln) }()

	// The embedded database is restarted in place when it dies (the
	// server stays up, /readyz answers 503 meanwhile, and the pool
	// reconnects); Done means that restarting it was given up.
	var clusterDone <-chan struct{}
	if s.cluster != nil {
		clusterDone = s.cluster.Done()
	}
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-clusterDone:
		_ = s.srv.Close()
		return fmt.Errorf("embedded database failed and could not be restarted: %w", s.cluster.Err())
	case <-ctx.Done():
	}
	return s.shutdown(ctx, serveErr)
}

// shutdown ends the requests and jobs in flight side by side until the
// work phase ends (then they are cut off); the registered stops then stop
// the plugins and the database, each by its time in the plan.
func (s *server) shutdown(ctx context.Context, serveErr <-chan error) error {
	s.logger.Info("shutting down", "timeout", s.cfg.ShutdownTimeout)
	s.plan = planShutdown(time.Now(), s.cfg.ShutdownTimeout)
	s.beginShutdown()
	engineDone := make(chan struct{})
	go func() { defer close(engineDone); s.eng.shutdown(s.logger, s.plan.workEnd, s.plan.engineEnd) }()
	shutdownCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), s.plan.workEnd)
	defer cancel()
	if s.http01 != nil {
		_ = s.http01.Shutdown(shutdownCtx)
	}
	if err := s.srv.Shutdown(shutdownCtx); err != nil {
		s.logger.Warn("requests still running at the shutdown deadline were cut off")
		_ = s.srv.Close()
	}
	<-engineDone
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	s.logger.Info("stopped")
	return nil
}

// printBanner prints the URL and, on a first start, the admin API key.
func printBanner(w io.Writer, url, adminKey string) {
	fmt.Fprintf(w, "\ncertctl-server %s listening on %s\n", Version, url)
	if adminKey != "" {
		fmt.Fprintf(w, "\nFirst start: an admin API key was created. It is shown only this once; keep it safe.\n\n"+
			"    CERTCTL_API_KEY=%s\n\n"+
			"Try: curl -H \"Authorization: Bearer $CERTCTL_API_KEY\" %s/api/v1/issuers\n", adminKey, url)
	}
	fmt.Fprintln(w)
}

// startEmbedded starts the embedded cluster and returns it with the URL of
// certctl's database, as its owner role: not a superuser (see
// pgembed.Cluster.CreateDatabase).
func startEmbedded(ctx context.Context, cfg Config, logger *slog.Logger) (*pgembed.Cluster, string, error) {
	dir := filepath.Join(cfg.DataDir, "postgres")
	logger.Info("starting embedded PostgreSQL", "dir", dir)
	// PostgreSQL's own log and the supervisor's progress are detail at
	// info; "database ready" says the outcome.
	cluster, err := pgembed.Start(ctx, pgembed.Options{DataDir: dir, BinDir: cfg.PostgresBinDir, Logger: quieter(logger),
		// The pool's connections (LISTEN ones included) and a few more for
		// the start (creating the database) and an operator's psql or
		// pg_dump; PostgreSQL's default of 100 sizes shared memory for
		// connections that never come.
		Settings: map[string]string{"max_connections": strconv.Itoa(cfg.DBMaxConns + embeddedSpareConns)}})
	if err != nil {
		return nil, "", fmt.Errorf("embedded database: %w", err)
	}
	dbURL, err := cluster.CreateDatabase(ctx, embeddedDatabase)
	if err != nil {
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		_ = cluster.Stop(stopCtx)
		return nil, "", fmt.Errorf("embedded database: %w", err)
	}
	return cluster, dbURL, nil
}

// displayAddr is the listener's address as a client would dial it: an
// unspecified host (0.0.0.0, ::) becomes localhost.
func displayAddr(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok || !tcp.IP.IsUnspecified() {
		return a.String()
	}
	return net.JoinHostPort("localhost", strconv.Itoa(tcp.Port))
}

// publicURL is the URL clients reach the server at.
func publicURL(cfg Config) string {
	if cfg.PublicURL != "" {
		return strings.TrimSuffix(cfg.PublicURL, "/")
	}
	host, port, err := net.SplitHostPort(cfg.ListenAddr)
	if err != nil || port == "0" {
		return ""
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// workerOwner names this process in job leases.
func workerOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), uuid.NewString()[:8])
}

// startPlugins discovers the plugins of the plugin directory: the
// configured one, else bin/plugins next to the server binary when it exists.
func startPlugins(ctx context.Context, cfg Config, st *store.Store, logger *slog.Logger) (*host.Host, error) {
	dir := cfg.PluginDir
	if dir == "" {
		if exe, err := os.Executable(); err == nil {
			candidate := filepath.Join(filepath.Dir(exe), "plugins")
			if fi, err := os.Stat(candidate); err == nil && fi.IsDir() {
				dir = candidate
			}
		}
	}
	if dir == "" {
		logger.Warn("no plugin directory: set CERTCTL_PLUGIN_DIR; issuers and notifiers cannot work without plugins")
	}
	idle := cfg.PluginIdleTimeout
	if idle == 0 {
		idle = -1 // the host's "keep running"
	}
	h, err := host.New(ctx, host.Options{Dir: dir, Catalogue: HostCatalogue(st.Plugins()), Logger: logger, IdleTimeout: idle})
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range h.Plugins() {
		names = append(names, string(p.Kind)+"/"+p.Name+"="+p.Status)
	}
	logger.Info("plugins found", "dir", dir, "plugins", strings.Join(names, " "))
	return h, nil
}

func databaseKind(c *pgembed.Cluster) string {
	if c != nil {
		return "embedded"
	}
	return "external"
}

// poolCollector exports the database pool's statistics to Prometheus.
type poolCollector struct {
	pool                                     *pgxpool.Pool
	total, idle, acquired, max               *prometheus.Desc
	acquireCount, acquireWait, emptyAcquires *prometheus.Desc
}

func newPoolCollector(pool *pgxpool.Pool) *poolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("certctl_db_pool_"+name, help, nil, nil)
	}
	return &poolCollector{
		pool:          pool,
		total:         d("connections", "Open connections in the pool."),
		idle:          d("idle_connections", "Idle connections in the pool."),
		acquired:      d("acquired_connections", "Connections in use."),
		max:           d("max_connections", "Largest pool size."),
		acquireCount:  d("acquires_total", "Connections acquired from the pool."),
		acquireWait:   d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
		emptyAcquires: d("empty_acquires_total", "Acquires that had to wait because the pool was empty."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.total, c.idle, c.acquired, c.max, c.acquireCount, c.acquireWait, c.emptyAcquires} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(s.TotalConns()))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.IdleConns()))
	ch <- prometheus.MustNewConstMetric(c.acquired, prometheus.GaugeValue, float64(s.AcquiredConns()))
	ch <- prometheus.MustNewConstMetric(c.max, prometheus.GaugeValue, float64(s.MaxConns()))
	ch <- prometheus.MustNewConstMetric(c.acquireCount, prometheus.CounterValue, float64(s.AcquireCount()))
	ch <- prometheus.MustNewConstMetric(c.acquireWait, prometheus.CounterValue, s.AcquireDuration().Seconds())
	ch <- prometheus.MustNewConstMetric(c.emptyAcquires, prometheus.CounterValue, float64(s.EmptyAcquireCount()))
}

// ensureDefaultACME creates the default ACME issuer at first start when
// CERTCTL_ACME_EMAIL is set and the ACME plugin is installed. A CA that
// cannot be reached does not stop the server: it says so, and the next
// start tries again.
func ensureDefaultACME(ctx context.Context, cfg Config, svc *service.Service, plugins *host.Host, logger *slog.Logger) error {
	if cfg.ACMEEmail == "" {
		return nil
	}
	if _, ok := plugins.Lookup(plugin.KindIssuer, "acme"); !ok {
		logger.Warn("CERTCTL_ACME_EMAIL is set but the acme issuer plugin is not installed: no default ACME issuer")
		return nil
	}
	d := service.DefaultACME{Email: cfg.ACMEEmail, DirectoryURL: cfg.ACMEDirectoryURL}
	if cfg.ACMECABundle != "" {
		b, err := os.ReadFile(cfg.ACMECABundle)
		if err != nil {
			return fmt.Errorf("--acme-ca-bundle: %w", err)
		}
		d.CABundle = string(b)
	}
	iss, err := svc.EnsureDefaultACMEIssuer(ctx, d)
	if err != nil {
		logger.Error("the default ACME issuer could not be created; the next start tries again", "err", err)
		return nil
	}
	if iss != nil {
		logger.Info("created the default ACME issuer; setting CERTCTL_ACME_EMAIL agreed to the CA's terms of service",
			"name", iss.Name, "directory_url", iss.Config["directory_url"], "email", cfg.ACMEEmail)
	}
	return nil
}
