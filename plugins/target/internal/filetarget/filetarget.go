// Package filetarget is the engine shared by the target plugins of
// servers that read their certificate from files: nginx, Apache httpd and
// HAProxy. A plugin describes its server with a Spec (its path fields, how
// the certificate, chain and key are laid out in files, the default
// commands that check and reload it); the engine does the rest the same
// way for all of them:
//
//   - DeployCertificate writes each file atomically, runs the validate
//     command and then the reload command, and puts the previous files
//     back (reloading again if it had) when either fails or the caller
//     gives up. Deploying what is already on disk changes nothing. The
//     previous files are kept on disk with a journal (package journal)
//     until the reload succeeded, not in memory.
//   - ValidateDeployment completes a TLS handshake with the server and
//     compares the served certificate's serial with the expected one.
//   - Both first complete or roll back a deployment to the same files
//     that a killed process left in its journal, and say which.
//
// The files by concern: config.go reads and checks the configuration,
// deploy.go writes and rolls back, recover.go ends interrupted
// deployments, validate.go checks what is served.
package filetarget

import (
	"context"
	"log/slog"

	"github.com/certctl/certctl/plugins/target/internal/pemfile"
	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/plugins/target/internal/keylock"
)

// Version is the version of the plugins built on this engine.
const Version = "1.1.0" // 1.1: deployments are journalled on disk and recovered after a crash

// Spec describes one kind of server.
type Spec struct {
	Name        string // the plugin's name, e.g. "nginx"
	Description string
	// PathFields are the server's file path fields (type string), first
	// in the schema. Those with a value must be absolute and distinct.
	PathFields []plugin.Field
	// LeafField names the path field whose file starts with the leaf
	// certificate: ValidateDeployment reads the default SNI from it.
	LeafField string
	// DefaultValidate and DefaultReload are the default commands.
	DefaultValidate, DefaultReload []string
	// ValidateExample and ReloadExample are shown in the commands'
	// descriptions, e.g. `["nginx", "-t", "-c", "/etc/nginx/nginx.conf"]`.
	ValidateExample, ReloadExample string
	// Layout returns the files a deployment writes for a normalised
	// configuration.
	Layout func(cfg plugin.Config, b *pemfile.Bundle) []File
}

// File is one file a deployment writes.
type File struct {
	Field   string // the configuration field naming it, for errors
	Path    string
	Content []byte
	Secret  bool // holds the private key
}

// Target is a file-based target plugin: it implements plugin.Target.
type Target struct {
	spec   Spec
	schema plugin.Schema
	log    *slog.Logger
	locks  keylock.Locks
}

var _ plugin.Target = (*Target)(nil)

// New returns the plugin described by spec, logging to log.
func New(spec Spec, log *slog.Logger) *Target {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Target{spec: spec, schema: schemaFor(spec), log: log.With("target", spec.Name)}
}

// Info describes the plugin.
func (t *Target) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:        t.spec.Name,
		Kind:        plugin.KindTarget,
		Version:     Version,
		Description: t.spec.Description,
		Schema:      t.schema,
	}, nil
}

// ValidateConfig checks a configuration without touching the machine:
// paths, commands, addresses and limits must be well formed. Whether the
// directories exist and the commands are installed is checked by a dry
// run on the host that deploys.
func (t *Target) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := t.readConfig(cfg)
	return err
}
