package plugin

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// OpenOptions say how to start a plugin process.
type OpenOptions struct {
	Path string // the plugin binary
	Kind Kind
	// SHA256 is the checksum the binary must have; go-plugin checks it
	// right before starting the process. Nil skips the check (tests only).
	SHA256 []byte
	// Logger receives the plugin's log lines, tagged with its name.
	Logger *slog.Logger
	// SocketDir is where the plugin's Unix socket goes: keep it short
	// (socket paths over ~100 bytes fail). Empty means the system default.
	SocketDir string
	// Stderr, when set, receives the plugin's standard error as it is,
	// line by line, besides Logger (which drops lines that are not log
	// records): the host keeps its tail to say why a plugin did not start.
	Stderr io.Writer
}

// Process is a running plugin process and a client to it.
type Process struct {
	client *goplugin.Client
	proto  goplugin.ClientProtocol
	impl   any
	kind   Kind
}

// Open starts a plugin binary and connects to it over gRPC with automatic
// mutual TLS. The plugin dies with its host (Linux) or soon after (others).
func Open(ctx context.Context, o OpenOptions) (*Process, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	cmd := exec.Command(o.Path)
	cmd.SysProcAttr = sysProcAttr()
	cmd.Env = pluginEnv(os.Environ())
	cfg := &goplugin.ClientConfig{
		HandshakeConfig:  Handshake(o.Kind),
		VersionedPlugins: pluginSets(o.Kind, nil),
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Managed:          true,
		SkipHostEnv:      true, // plugins get only pluginEnv: never the host's secrets
		Logger:           newHCLogger(o.Logger, hclog.Info, filepath.Base(o.Path)),
		Stderr:           o.Stderr,
	}
	if o.SHA256 != nil {
		cfg.SecureConfig = &goplugin.SecureConfig{Checksum: o.SHA256, Hash: sha256.New()}
	}
	if o.SocketDir != "" {
		cfg.UnixSocketConfig = &goplugin.UnixSocketConfig{TempDir: o.SocketDir}
	}
	client := goplugin.NewClient(cfg)
	p := &Process{client: client, kind: o.Kind}
	if err := p.connect(ctx); err != nil {
		client.Kill()
		return nil, err
	}
	return p, nil
}

func (p *Process) connect(ctx context.Context) error {
	started := make(chan error, 1)
	go func() {
		proto, err := p.client.Client()
		if err == nil {
			p.proto = proto
			p.impl, err = proto.Dispense(string(p.kind))
		}
		started <- err
	}()
	select {
	case err := <-started:
		if err != nil {
			if err == goplugin.ErrChecksumsDoNotMatch {
				return Errorf(CodePermanent, "plugin binary checksum does not match the registered one")
			}
			return &Error{Code: CodeUnavailable, Message: fmt.Sprintf("start plugin: %v", err)}
		}
		return nil
	case <-ctx.Done():
		p.client.Kill()
		<-started
		return &Error{Code: CodeUnavailable, Message: fmt.Sprintf("start plugin: %v", ctx.Err())}
	}
}

// pluginEnvAllowed are the variables a plugin inherits from its host:
// what programs need to run and reach the network, nothing of certctl's
// own (CERTCTL_ENCRYPTION_KEY, CERTCTL_DATABASE_URL, ... stay in the host).
var pluginEnvAllowed = []string{"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "SSL_CERT_FILE", "SSL_CERT_DIR",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"}

func pluginEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(pluginEnvAllowed, name) {
			out = append(out, kv)
		}
	}
	return out
}

// Issuer returns the process as an Issuer.
func (p *Process) Issuer() Issuer { i, _ := p.impl.(Issuer); return i }

// Target returns the process as a Target.
func (p *Process) Target() Target { t, _ := p.impl.(Target); return t }

// Notifier returns the process as a Notifier.
func (p *Process) Notifier() Notifier { n, _ := p.impl.(Notifier); return n }

// Plugin returns the process as the Plugin of its kind.
func (p *Process) Plugin() Plugin { pl, _ := p.impl.(Plugin); return pl }

// pingTimeout bounds a ping: a plugin that cannot answer a ping this long
// is stuck (go-plugin's own ping has no deadline).
const pingTimeout = 5 * time.Second

// Ping checks that the plugin process answers, within pingTimeout.
func (p *Process) Ping() error {
	if p.client.Exited() {
		return Errorf(CodeUnavailable, "plugin process exited")
	}
	done := make(chan error, 1)
	go func() { done <- p.proto.Ping() }()
	select {
	case err := <-done:
		if err != nil {
			return &Error{Code: CodeUnavailable, Message: "plugin does not answer: " + err.Error()}
		}
		return nil
	case <-time.After(pingTimeout):
		return Errorf(CodeUnavailable, "plugin does not answer a ping within %s", pingTimeout)
	}
}

// Exited reports whether the process has ended.
func (p *Process) Exited() bool { return p.client.Exited() }

// Pid returns the plugin's process id, or 0.
func (p *Process) Pid() int {
	if rc := p.client.ReattachConfig(); rc != nil {
		return rc.Pid
	}
	return 0
}

// Kill stops the plugin: gracefully, then forcefully after a short wait.
func (p *Process) Kill() { p.client.Kill() }
