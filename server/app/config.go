package app

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/server/service"
)

// Config is how the server is set up: each field has a flag and a
// CERTCTL_* environment variable; a flag given on the command line wins.
type Config struct {
	ListenAddr        string
	DatabaseURL       string
	DataDir           string
	PluginDir         string
	TLSCertFile       string
	TLSKeyFile        string
	InsecureHTTP      bool
	BootstrapAdminKey string
	PostgresBinDir    string
	LogLevel          string
	LogFormat         string
	MaxBodyBytes      int64
	DBMaxConns        int
	// AgentMaxInflight bounds the agent requests served at once; 0 means
	// no bound (see httpapi.Options.AgentMaxInflight).
	AgentMaxInflight  int
	ShutdownTimeout   time.Duration
	PublicURL         string
	Workers           int
	SchedulerInterval time.Duration
	JobLease          time.Duration
	// HTTP01Listen is an extra listener that serves only the ACME HTTP-01
	// responder (/.well-known/acme-challenge/), e.g. ":80".
	HTTP01Listen string
	// OrderPendingLimit is how long a CA's order may stay pending before
	// its issuance job fails.
	OrderPendingLimit time.Duration
	// The default ACME issuer, created at first start when ACMEEmail is set.
	ACMEEmail        string
	ACMEDirectoryURL string
	ACMECABundle     string
	// PprofAddr serves Go's profiler there when set (see startPprof).
	PprofAddr string
	// PluginIdleTimeout stops a plugin's process after this long without
	// a call; 0 keeps processes running (see host.Options.IdleTimeout).
	PluginIdleTimeout time.Duration

	// ShowVersion is --version: print the version and exit. Nothing else
	// is read or checked then, so it works whatever the environment holds.
	ShowVersion bool
}

// setting is one configuration entry: its flag, its variable, its help.
type setting struct {
	flag, env, help string
	target          any // *string, *bool, *int, *int64 or *time.Duration
	def             string
}

func (c *Config) settings() []setting {
	return []setting{
		{"listen-addr", "CERTCTL_LISTEN_ADDR", "address to serve HTTP(S) on", &c.ListenAddr, "127.0.0.1:8443"},
		{"database-url", "CERTCTL_DATABASE_URL", "PostgreSQL URL; empty runs the embedded default cluster under the data dir", &c.DatabaseURL, ""},
		{"data-dir", "CERTCTL_DATA_DIR", "directory for the server's state (embedded database, keys)", &c.DataDir, defaultDataDir()},
		{"plugin-dir", "CERTCTL_PLUGIN_DIR", "directory holding connector plugin binaries", &c.PluginDir, ""},
		{"tls-cert-file", "CERTCTL_TLS_CERT_FILE", "PEM certificate (with chain) for the listener", &c.TLSCertFile, ""},
		{"tls-key-file", "CERTCTL_TLS_KEY_FILE", "PEM private key for the listener", &c.TLSKeyFile, ""},
		{"insecure-http", "CERTCTL_INSECURE_HTTP", "allow plain HTTP on a non-loopback address (behind a TLS-terminating proxy)", &c.InsecureHTTP, "false"},
		{"bootstrap-admin-key", "CERTCTL_BOOTSTRAP_ADMIN_KEY", "admin API key to register at start (at least 32 characters) instead of generating one", &c.BootstrapAdminKey, ""},
		{"postgres-bin-dir", "CERTCTL_POSTGRES_BIN_DIR", "directory of initdb/postgres for the embedded database; empty searches the machine", &c.PostgresBinDir, ""},
		{"log-level", "CERTCTL_LOG_LEVEL", "debug, info, warn or error", &c.LogLevel, "info"},
		{"log-format", "CERTCTL_LOG_FORMAT", "text or json", &c.LogFormat, "text"},
		{"max-body-bytes", "CERTCTL_MAX_BODY_BYTES", "largest request body accepted", &c.MaxBodyBytes, "1048576"},
		{"db-max-conns", "CERTCTL_DB_MAX_CONNS", "largest number of database connections", &c.DBMaxConns, "20"},
		{"agent-max-inflight", "CERTCTL_AGENT_MAX_INFLIGHT", "agent requests served at once (a waiting long poll does not count); more are answered 429 with Retry-After, which agents honour; about twice --db-max-conns; 0 for no bound", &c.AgentMaxInflight, "40"},
		{"shutdown-timeout", "CERTCTL_SHUTDOWN_TIMEOUT", "the longest a shutdown (SIGINT, SIGTERM) takes: requests and jobs in flight may finish until a reserve is left for stopping plugins and the database", &c.ShutdownTimeout, "20s"},
		{"public-url", "CERTCTL_PUBLIC_URL", "URL clients reach this server at (CRL distribution points); empty derives it from the listen address", &c.PublicURL, ""},
		{"workers", "CERTCTL_WORKERS", "jobs (issuance, renewal, revocation, notifications) this server runs at once; 0 runs none", &c.Workers, "16"},
		{"job-lease", "CERTCTL_JOB_LEASE", "how long a job stays claimed by a server that stopped renewing its lease (crashed)", &c.JobLease, "60s"},
		{"scheduler-interval", "CERTCTL_SCHEDULER_INTERVAL", "how often the leader looks for due renewals, expiring certificates and stuck jobs", &c.SchedulerInterval, "10s"},
		{"http01-listen", "CERTCTL_HTTP01_LISTEN", "extra plain-HTTP listener serving only ACME HTTP-01 challenge responses (e.g. :80); empty for none (the main listener serves them too)", &c.HTTP01Listen, ""},
		{"order-pending-limit", "CERTCTL_ORDER_PENDING_LIMIT", "how long a CA's order may stay pending before its issuance job fails", &c.OrderPendingLimit, "24h"},
		{"acme-email", "CERTCTL_ACME_EMAIL", "create an ACME issuer named acme at first start with this account contact; setting it agrees to the CA's terms of service", &c.ACMEEmail, ""},
		{"acme-directory-url", "CERTCTL_ACME_DIRECTORY_URL", "the default ACME issuer's directory: a URL, letsencrypt or letsencrypt-staging", &c.ACMEDirectoryURL, "letsencrypt"},
		{"acme-ca-bundle", "CERTCTL_ACME_CA_BUNDLE", "PEM file of roots to trust for the default ACME issuer's directory (a private or test ACME CA); empty for the system's", &c.ACMECABundle, ""},
		{"plugin-idle-timeout", "CERTCTL_PLUGIN_IDLE_TIMEOUT", "stop a plugin's process after this long without a call (the next call starts it again); 0 keeps processes running", &c.PluginIdleTimeout, "2m"},
		{"pprof-addr", "CERTCTL_PPROF_ADDR", "serve Go's profiler (/debug/pprof/, no authentication) on this address, e.g. 127.0.0.1:6060, to measure the server; empty for none", &c.PprofAddr, ""},
	}
}

// defaultDataDir is /var/lib/certctl for root (a system service) and
// ~/.local/share/certctl for anyone else.
func defaultDataDir() string {
	if home, err := os.UserHomeDir(); err == nil && os.Geteuid() != 0 {
		return filepath.Join(home, ".local", "share", "certctl")
	}
	return "/var/lib/certctl"
}

// ParseConfig reads flags from args and the environment through getenv.
// A flag given on the command line wins over its variable. Defaults shown
// by --help are the built-in ones, never values from the environment (which
// may hold secrets such as CERTCTL_BOOTSTRAP_ADMIN_KEY).
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("certctl-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	settings := c.settings()
	for _, s := range settings {
		help := fmt.Sprintf("%s (env %s)", s.help, s.env)
		if _, ok := s.target.(*bool); ok {
			fs.BoolFunc(s.flag, help, func(v string) error { return s.set(v) })
		} else {
			fs.Func(s.flag, help, func(v string) error { return s.set(v) })
		}
		if err := s.set(s.def); err != nil {
			return c, fmt.Errorf("default of --%s: %w", s.flag, err)
		}
		if f := fs.Lookup(s.flag); f != nil {
			f.DefValue = s.def
		}
	}
	fs.BoolVar(&c.ShowVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.ShowVersion {
		return c, nil
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range settings {
		if v := getenv(s.env); v != "" && !given[s.flag] {
			if err := s.set(v); err != nil {
				return c, fmt.Errorf("%s: %w", s.env, err)
			}
		}
	}
	return c, c.validate()
}

// set parses v into the setting's target.
func (s setting) set(v string) error {
	switch t := s.target.(type) {
	case *string:
		*t = v
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*t = b
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		*t = n
	case *int64:
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
		*t = n
	case *time.Duration:
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("%q is not a duration", v)
		}
		*t = d
	}
	return nil
}

func (c *Config) validate() error {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("set both --tls-cert-file and --tls-key-file, or neither")
	}
	host, _, err := net.SplitHostPort(c.ListenAddr)
	if err != nil {
		return fmt.Errorf("--listen-addr %q: %w", c.ListenAddr, err)
	}
	if c.TLSCertFile == "" && !c.InsecureHTTP && !isLoopback(host) {
		return fmt.Errorf("--listen-addr %q is not a loopback address: give --tls-cert-file and --tls-key-file, "+
			"or set --insecure-http if a TLS-terminating proxy sits in front", c.ListenAddr)
	}
	if c.DataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	if c.MaxBodyBytes < 1024 {
		return errors.New("--max-body-bytes must be at least 1024")
	}
	if c.Workers < 0 {
		return errors.New("--workers must not be negative")
	}
	if c.DBMaxConns < 2 {
		return errors.New("--db-max-conns must be at least 2")
	}
	if c.AgentMaxInflight < 0 {
		return errors.New("--agent-max-inflight must not be negative")
	}
	if c.HTTP01Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP01Listen); err != nil {
			return fmt.Errorf("--http01-listen %q: %w", c.HTTP01Listen, err)
		}
	}
	if c.OrderPendingLimit < 0 {
		return errors.New("--order-pending-limit must not be negative")
	}
	if c.PluginIdleTimeout < 0 {
		return errors.New("--plugin-idle-timeout must not be negative")
	}
	if c.ACMEEmail != "" {
		if _, err := service.ACMEDirectoryURL(c.ACMEDirectoryURL); err != nil {
			return fmt.Errorf("--acme-directory-url: %w", err)
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// newLogger returns the server's logger.
func newLogger(c Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", c.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch c.LogFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", c.LogFormat)
}
