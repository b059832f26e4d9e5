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
	ShutdownTimeout   time.Duration
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
		{"shutdown-timeout", "CERTCTL_SHUTDOWN_TIMEOUT", "how long in-flight requests may finish after SIGTERM", &c.ShutdownTimeout, "20s"},
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
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("certctl-server", flag.ContinueOnError)
	fs.SetOutput(stderr)
	settings := c.settings()
	for _, s := range settings {
		val := s.def
		if v := getenv(s.env); v != "" {
			val = v
		}
		help := fmt.Sprintf("%s (env %s)", s.help, s.env)
		switch t := s.target.(type) {
		case *string:
			fs.StringVar(t, s.flag, val, help)
		case *bool:
			b, err := strconv.ParseBool(val)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not true or false", s.env, val)
			}
			fs.BoolVar(t, s.flag, b, help)
		case *int:
			n, err := strconv.Atoi(val)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not a number", s.env, val)
			}
			fs.IntVar(t, s.flag, n, help)
		case *int64:
			n, err := strconv.ParseInt(val, 10, 64)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not a number", s.env, val)
			}
			fs.Int64Var(t, s.flag, n, help)
		case *time.Duration:
			d, err := time.ParseDuration(val)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not a duration", s.env, val)
			}
			fs.DurationVar(t, s.flag, d, help)
		}
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	return c, c.validate()
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
	if c.DBMaxConns < 2 {
		return errors.New("--db-max-conns must be at least 2")
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
