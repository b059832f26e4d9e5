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
	settings := []setting{
		{&c.ServerURL, "server-url", "CERTCTL_SERVER_URL", "", "URL of the certctl server"},
		{&c.Token, "token", "CERTCTL_AGENT_TOKEN", "", "single-use enrollment token (first start only)"},
		{&c.Name, "name", "CERTCTL_AGENT_NAME", "", "agent name when the token names none (default: the host name)"},
		{&c.StateDir, "state-dir", "CERTCTL_AGENT_STATE_DIR", defaultState, "where the agent keeps its credential and pending reports"},
		{&c.KeyDir, "key-dir", "CERTCTL_KEY_DIR", "", "where private keys are kept, mode 0600 (default <state-dir>/keys)"},
		{&c.PluginDir, "plugin-dir", "CERTCTL_PLUGIN_DIR", "", "target plugins (default: plugins next to the binary)"},
		{&c.CACertFile, "ca-cert-file", "CERTCTL_CA_CERT_FILE", "", "PEM CA certificate to trust for the server's TLS"},
		{&c.LogLevel, "log-level", "CERTCTL_LOG_LEVEL", "info", "debug, info, warn or error"},
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
	if c.PluginDir == "" {
		if exe, err := os.Executable(); err == nil {
			c.PluginDir = filepath.Join(filepath.Dir(exe), "plugins")
		}
	}
	return c, nil
}
