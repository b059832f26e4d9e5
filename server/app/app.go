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

// Run runs the server until ctx is cancelled (SIGTERM/SIGINT in main) or
// it fails. It prints the URL and, on first start, the admin API key to
// stdout; logs go to stderr. ready, if not nil, receives the address the
// server listens on once it serves.
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

	// plan, once shutdown begins, says by when each deferred stop below
	// must be done: Run returns within --shutdown-timeout.
	var plan shutdownPlan

	dbURL := cfg.DatabaseURL
	var cluster *pgembed.Cluster
	if dbURL == "" {
		cluster, dbURL, err = startEmbedded(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer func() {
			stopCtx, cancel := plan.step(ctx, plan.end, 30*time.Second)
			defer cancel()
			if err := cluster.Stop(stopCtx); err != nil {
				logger.Error("stop embedded database", "err", err)
			}
		}()
	}

	pool, err := db.Open(ctx, dbURL, int32(cfg.DBMaxConns))
	if err != nil {
		return err
	}
	defer func() {
		closeCtx, cancel := plan.step(ctx, plan.poolEnd, time.Minute)
		defer cancel()
		closePool(closeCtx, pool, logger)
	}()

	st := store.New(pool)
	keys, keyCreated, err := secrets.LoadKey(getenv("CERTCTL_ENCRYPTION_KEY"), getenv("CERTCTL_ENCRYPTION_KEY_PREVIOUS"), cfg.DataDir)
	if err != nil {
		return fmt.Errorf("encryption key: %w", err)
	}
	box, err := secrets.New(keys.Current, keys.Previous...)
	if err != nil {
		return fmt.Errorf("encryption key: %w", err)
	}
	if keyCreated {
		logger.Info("created an encryption key for secrets at rest; back it up, and give every replica the same key",
			"file", filepath.Join(cfg.DataDir, secrets.KeyFileName), "key_id", box.KeyID())
	}
	if prev := box.PreviousKeyIDs(); len(prev) > 0 {
		logger.Info("previous encryption keys configured: they open what they sealed, the current key seals; "+
			"POST /api/v1/encryption-key/rotate re-seals everything with the current key",
			"key_id", box.KeyID(), "previous_key_ids", prev)
	}

	var plugins *host.Host
	defer func() {
		if plugins != nil {
			stopCtx, cancel := plan.step(ctx, plan.pluginsEnd, time.Minute)
			defer cancel()
			if err := plugins.Shutdown(stopCtx); err != nil {
				logger.Warn("plugin processes that did not exit in time were killed")
			}
		}
	}()
	var svc *service.Service
	var adminKey string
	err = db.WithStartupLock(ctx, pool, func(ctx context.Context) error {
		version, err := db.Migrate(ctx, pool, quieter(logger))
		if err != nil {
			return err
		}
		logger.Info("database ready", "database", databaseKind(cluster), "schema_version", version)
		plugins, err = startPlugins(ctx, cfg, st, logger)
		if err != nil {
			return err
		}
		jobs := service.DefaultJobSettings()
		jobs.PendingLimit = cfg.OrderPendingLimit
		svc = service.New(service.Options{Store: st, Logger: logger, Secrets: box, PublicURL: publicURL(cfg),
			Connectors: service.HostCatalog{Host: plugins}, Plugins: PluginRegistry(plugins), Notifiers: plugins, Issuers: plugins, Jobs: &jobs})
		if err := svc.CheckEncryptionKey(ctx); err != nil {
			return err
		}
		if adminKey, err = svc.Bootstrap(ctx, cfg.BootstrapAdminKey); err != nil {
			return err
		}
		if _, ok := plugins.Lookup(plugin.KindIssuer, "local"); ok {
			created, err := svc.EnsureDefaultIssuer(ctx)
			if err != nil {
				return err
			}
			if created {
				logger.Info("created the default local CA issuer", "name", "local")
			}
		}
		return ensureDefaultACME(ctx, cfg, svc, plugins, logger)
	})
	if err != nil {
		return fmt.Errorf("prepare database: %w", err)
	}

	// Audit events of failures that found the database unavailable wait
	// for it and are written once it answers. The loop stops after the
	// requests and jobs (the engine's stop is deferred later, so it runs
	// first) and makes its last attempt before the pool closes.
	auditCtx, stopAudit := context.WithCancel(context.WithoutCancel(ctx))
	auditDone := make(chan struct{})
	go func() { defer close(auditDone); svc.RunAuditBacklog(auditCtx) }()
	defer func() {
		stopAudit()
		<-auditDone
		lastCtx, cancel := plan.step(ctx, plan.pluginsEnd, 5*time.Second)
		defer cancel()
		svc.CloseAuditBacklog(lastCtx)
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		newPoolCollector(pool))
	hub := service.NewAgentHub()
	// Behind a TLS-terminating proxy the console's cookies are still
	// Secure when the public URL says https.
	ui, err := console.New(console.Options{Service: svc, Logger: logger,
		SecureCookies: strings.HasPrefix(publicURL(cfg), "https://")})
	if err != nil {
		return err
	}
	api, err := httpapi.New(httpapi.Options{
		Service: svc, Logger: logger, Registry: reg, MaxBodyBytes: cfg.MaxBodyBytes, AgentHub: hub, Console: ui,
		// The listener opens only once migrations are applied, so readiness
		// is the database answering.
		Ready: func(ctx context.Context) error {
			if err := pool.Ping(ctx); err != nil {
				return core.Errorf(core.EUNAVAILABLE, "database unreachable")
			}
			return nil
		},
	})
	if err != nil {
		return err
	}

	ln, err := net.Listen("tcp", cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.ListenAddr, err)
	}
	// stopping ends when shutdown begins: requests waiting on ?wait= answer.
	stopping, beginShutdown := context.WithCancel(context.WithoutCancel(ctx))
	defer beginShutdown()
	srv := &http.Server{
		Handler:           endWaitsOnShutdown(api, stopping),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	scheme := "http"
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("load TLS certificate: %w", err)
		}
		srv.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
		scheme = "https"
	}

	// The HTTP-01 responder's own listener (where ACME CAs connect, port
	// 80), started and stopped with the main one.
	var http01 *http.Server
	if cfg.HTTP01Listen != "" {
		hln, err := net.Listen("tcp", cfg.HTTP01Listen)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (--http01-listen): %w", cfg.HTTP01Listen, err)
		}
		http01 = &http.Server{Handler: api.HTTP01Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 10 * time.Second, IdleTimeout: 30 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
		logger.Info("serving ACME HTTP-01 challenge responses", "addr", hln.Addr().String())
		go func() {
			if err := http01.Serve(hln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("HTTP-01 listener failed", "addr", cfg.HTTP01Listen, "err", err)
			}
		}()
		defer http01.Close()
	}

	if cfg.PprofAddr != "" {
		pln, err := net.Listen("tcp", cfg.PprofAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (--pprof-addr): %w", cfg.PprofAddr, err)
		}
		defer startPprof(pln, logger)()
	}

	url := fmt.Sprintf("%s://%s", scheme, displayAddr(ln.Addr()))
	logger.Info("serving", "url", url, "database", databaseKind(cluster))
	// The banner comes after every startup log line, so that the URL and
	// the one-time admin key are the last thing on the terminal.
	printBanner(stdout, url, adminKey)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	// The lifecycle engine: workers run jobs; the scheduler runs on the
	// one server that wins the leader election.
	eng := startEngine(ctx, svc, hub, cfg)
	defer func() {
		if plan.end.IsZero() { // a failure: no time for jobs in flight
			plan = planShutdown(time.Now(), cfg.ShutdownTimeout)
			plan.workEnd = time.Now()
		}
		eng.shutdown(logger, plan.workEnd, plan.engineEnd) // before plugins stop
	}()

	serveErr := make(chan error, 1)
	go func() {
		if srv.TLSConfig != nil {
			serveErr <- srv.ServeTLS(ln, "", "") // ServeTLS sets up HTTP/2 as well
			return
		}
		serveErr <- srv.Serve(ln)
	}()

	// The embedded database is restarted in place when it dies (the
	// server stays up, /readyz answers 503 meanwhile, and the pool
	// reconnects); Done means that restarting it was given up.
	var clusterDone <-chan struct{}
	if cluster != nil {
		clusterDone = cluster.Done()
	}
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-clusterDone:
		_ = srv.Close()
		return fmt.Errorf("embedded database failed and could not be restarted: %w", cluster.Err())
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout)
	plan = planShutdown(time.Now(), cfg.ShutdownTimeout)
	beginShutdown()
	// Requests and jobs in flight finish side by side until the work phase
	// ends (then they are cut off); the deferred steps above then stop the
	// plugins and the database, each by its time in the plan.
	engineDone := make(chan struct{})
	go func() { defer close(engineDone); eng.shutdown(logger, plan.workEnd, plan.engineEnd) }()
	shutdownCtx, cancel := context.WithDeadline(context.WithoutCancel(ctx), plan.workEnd)
	defer cancel()
	if http01 != nil {
		_ = http01.Shutdown(shutdownCtx)
	}
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Warn("requests still running at the shutdown deadline were cut off")
		_ = srv.Close()
	}
	<-engineDone
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("stopped")
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
	cluster, err := pgembed.Start(ctx, pgembed.Options{DataDir: dir, BinDir: cfg.PostgresBinDir, Logger: quieter(logger)})
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
	h, err := host.New(ctx, host.Options{Dir: dir, Catalogue: HostCatalogue(st.Plugins()), Logger: logger})
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
