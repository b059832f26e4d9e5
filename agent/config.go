// Package agent is certctl-agent: it runs on a host (or in a network zone
// next to appliances), enrolls once with an enrollment token, then reports
// heartbeats with its host's facts, long-polls the server for work,
// generates private keys locally (they never leave the host), sends CSRs,
// and deploys issued certificates through target plugins it runs itself.
package agent

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Config is how an agent is set up: each field has a flag and a CERTCTL_*
// environment variable; a flag on the command line wins.
type Config struct {
	ServerURL  string // CERTCTL_SERVER_URL
	Token      string // CERTCTL_AGENT_TOKEN: the enrollment token, used once
	Name       string // CERTCTL_AGENT_NAME: the name to enroll under, when the token names none
	StateDir   string // CERTCTL_AGENT_STATE_DIR: credential, pending reports
	KeyDir     string // CERTCTL_KEY_DIR: private keys, 0600
	PluginDir  string // CERTCTL_PLUGIN_DIR: target plugins
	CACertFile string // CERTCTL_CA_CERT_FILE: extra CA to trust for the server's TLS
	LogLevel   string

	// HTTP-01 challenges the server asks this agent to present (ACME
	// issuers, for names that point at this host). Either, both or neither
	// may be set; with neither, the agent answers such work with an error
	// that says what to set.
	HTTP01Webroot string // CERTCTL_HTTP01_WEBROOT: write <dir>/.well-known/acme-challenge/<token> for a web server that serves it
	HTTP01Listen  string // CERTCTL_HTTP01_LISTEN: address of a temporary listener (e.g. :80) that serves only the challenges
	// HTTP01MaxAge (CERTCTL_HTTP01_MAX_AGE) is how long a challenge is
	// served without the server asking for its removal; zero means
	// DefaultHTTP01MaxAge. Keep it at least the server's
	// --order-pending-limit.
	HTTP01MaxAge time.Duration

	// Timing; zero means the defaults (30 s each). Not flags: for tests and load tools.
	HeartbeatInterval time.Duration
	PollWait          time.Duration

	// ShowVersion is --version: print VersionLine and exit. Nothing else is
	// read or checked then, so it works without a server URL.
	ShowVersion bool
}

// VersionLine is what --version prints: the binary, its version and the
// toolchain and platform it was built for.
func VersionLine() string {
	return fmt.Sprintf("certctl-agent %s (%s %s/%s)", Version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// ParseConfig reads flags from args and the environment through getenv.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	var c Config
	fs := flag.NewFlagSet("certctl-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	type setting struct {
		target               *string
		flag, env, def, help string
	}
	defaultState := "/var/lib/certctl-agent"
	if os.Geteuid() != 0 {
		if home, err := os.UserHomeDir(); err == nil {
			defaultState = filepath.Join(home, ".local", "share", "certctl-agent")
		}
	}
	var maxAge string // parsed into c.HTTP01MaxAge
	settings := []setting{
		{&c.ServerURL, "server-url", "CERTCTL_SERVER_URL", "", "URL of the certctl server"},
		{&c.Token, "token", "CERTCTL_AGENT_TOKEN", "", "single-use enrollment token (first start only)"},
		{&c.Name, "name", "CERTCTL_AGENT_NAME", "", "agent name when the token names none (default: the host name)"},
		{&c.StateDir, "state-dir", "CERTCTL_AGENT_STATE_DIR", defaultState, "where the agent keeps its credential and pending reports"},
		{&c.KeyDir, "key-dir", "CERTCTL_KEY_DIR", "", "where private keys are kept, mode 0600 (default <state-dir>/keys)"},
		{&c.PluginDir, "plugin-dir", "CERTCTL_PLUGIN_DIR", "", "target plugins (default: plugins next to the binary)"},
		{&c.CACertFile, "ca-cert-file", "CERTCTL_CA_CERT_FILE", "", "PEM CA certificate to trust for the server's TLS"},
		{&c.LogLevel, "log-level", "CERTCTL_LOG_LEVEL", "info", "debug, info, warn or error"},
		{&c.HTTP01Webroot, "http01-webroot", "CERTCTL_HTTP01_WEBROOT", "",
			"serve ACME HTTP-01 challenges as files in DIR/.well-known/acme-challenge/ for a web server that serves that path from DIR"},
		{&c.HTTP01Listen, "http01-listen", "CERTCTL_HTTP01_LISTEN", "",
			"serve ACME HTTP-01 challenges on a temporary listener at this address (e.g. :80), open only while a challenge is presented"},
		{&maxAge, "http01-max-age", "CERTCTL_HTTP01_MAX_AGE", "24h",
			"stop serving an HTTP-01 challenge the server has not asked to remove after this long (at least the server's --order-pending-limit)"},
	}
	for _, s := range settings {
		fs.StringVar(s.target, s.flag, s.def, fmt.Sprintf("%s (env %s)", s.help, s.env))
	}
	fs.BoolVar(&c.ShowVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.ShowVersion {
		return c, nil
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, s := range settings {
		if v := getenv(s.env); v != "" && !given[s.flag] {
			*s.target = v
		}
	}
	if c.ServerURL == "" {
		return c, errors.New("set --server-url or CERTCTL_SERVER_URL")
	}
	c.ServerURL = strings.TrimSuffix(c.ServerURL, "/")
	if c.KeyDir == "" {
		c.KeyDir = filepath.Join(c.StateDir, "keys")
	}
	if c.HTTP01Webroot != "" {
		abs, err := filepath.Abs(c.HTTP01Webroot)
		if err != nil {
			return c, fmt.Errorf("--http01-webroot %q: %w", c.HTTP01Webroot, err)
		}
		c.HTTP01Webroot = abs
	}
	if c.HTTP01Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP01Listen); err != nil {
			return c, fmt.Errorf("--http01-listen %q: want host:port or :port (e.g. :80): %w", c.HTTP01Listen, err)
		}
	}
	d, err := time.ParseDuration(maxAge)
	if err != nil || d <= 0 {
		return c, fmt.Errorf("--http01-max-age %q: want a positive duration such as 24h (at least the server's --order-pending-limit)", maxAge)
	}
	c.HTTP01MaxAge = d
	if c.PluginDir == "" {
		if exe, err := os.Executable(); err == nil {
			c.PluginDir = filepath.Join(filepath.Dir(exe), "plugins")
		}
	}
	return c, nil
}
