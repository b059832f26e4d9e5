// This file holds the plugin.Issuer methods of the script issuer, its
// configuration schema, and the reading of a configuration into settings.

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

// Configuration field names.
const (
	fieldCommand       = "command"
	fieldRevokeCommand = "revoke_command"
	fieldTimeout       = "timeout"
	fieldEnv           = "env"
	fieldWorkingDir    = "working_dir"
	fieldValidity      = "validity"
	fieldProfile       = "profile"
)

// schema describes the script issuer's configuration.
var schema = plugin.Schema{Fields: []plugin.Field{
	{Name: fieldCommand, Type: plugin.TypeStringList, Required: true,
		Description: "The command that signs a CSR, as a list of arguments (never a shell string): the program " +
			"(an absolute path, or a name looked up on the server's PATH) and its arguments. It reads the CSR " +
			"(PEM) on stdin, finds the request in CERTCTL_* environment variables and prints the certificate, " +
			"then its chain, as PEM on stdout. Exit status 0 is success, 75 (EX_TEMPFAIL) a failure worth " +
			"retrying later, 65 (EX_DATAERR) a request the CA refuses; any other a permanent failure."},
	{Name: fieldRevokeCommand, Type: plugin.TypeStringList,
		Description: "The command that revokes a certificate, as a list of arguments: it reads the certificate " +
			"(PEM) on stdin and CERTCTL_SERIAL and CERTCTL_REVOCATION_REASON* from its environment, and must " +
			"succeed for a certificate it already revoked. Without it, certctl records revocations itself only."},
	{Name: fieldTimeout, Type: plugin.TypeDuration, Default: "60s",
		Description: "How long one run of a command may take; then its whole process group is killed and the " +
			"call fails as transient. certctl's server gives an issuance 2 minutes in all."},
	{Name: fieldEnv, Type: plugin.TypeStringList, Sensitive: true,
		Description: "Extra environment variables for the commands, as NAME=value entries (passwords, CA " +
			"directories, ...). Stored encrypted; names may not start with CERTCTL_. The commands get no other " +
			"variables of the server's but PATH, HOME, TMPDIR, LANG, LC_ALL and TZ."},
	{Name: fieldWorkingDir, Type: plugin.TypeString,
		Description: "The directory the commands run in (an absolute path); the plugin's own when empty."},
	{Name: fieldValidity, Type: plugin.TypeDuration, Default: "90d",
		Description: "The lifetime to ask for, passed as CERTCTL_VALIDITY_SECONDS."},
	{Name: fieldProfile, Type: plugin.TypeString,
		Description: "The profile to pass as CERTCTL_PROFILE when the request names none."},
}}

// issuer runs commands. It keeps no state: everything comes with each call.
type issuer struct {
	log *slog.Logger
	// environ is the plugin's own environment, from which commands get a
	// few variables; tests set it.
	environ func() []string
}

func newIssuer() *issuer { return &issuer{log: plugin.Logger(), environ: os.Environ} }

var _ plugin.Issuer = (*issuer)(nil)

func (i *issuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{
		Name:    "script",
		Kind:    plugin.KindIssuer,
		Version: "1.0.0",
		Description: "Has certificates signed by a command of your own (an OpenSSL CA, an in-house tool): the CSR on " +
			"stdin, the request in CERTCTL_* environment variables, the certificate and chain as PEM on stdout; " +
			"revocation through a second command.",
		Schema: schema,
	}, nil
}

// ValidateConfig checks the settings, and that the commands exist and are
// executable on this host.
func (i *issuer) ValidateConfig(ctx context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return err
	}
	_, err := i.readSettings(cfg)
	return err
}

// Provision has nothing to prepare: the CA is the command's business.
func (i *issuer) Provision(ctx context.Context, req plugin.ProvisionRequest) (plugin.ProvisionResult, error) {
	cfg := req.Config
	if err := ctx.Err(); err != nil {
		return plugin.ProvisionResult{}, err
	}
	if _, err := i.readSettings(cfg); err != nil {
		return plugin.ProvisionResult{}, err
	}
	return plugin.ProvisionResult{Config: cfg}, nil
}

func (i *issuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	return i.issue(ctx, req, "issue", "")
}

// RenewCertificate runs the same command as an issuance, with
// CERTCTL_OPERATION=renew and the previous certificate's serial.
func (i *issuer) RenewCertificate(ctx context.Context, req plugin.RenewRequest) (plugin.IssueResult, error) {
	return i.issue(ctx, req.IssueRequest, "renew", req.PreviousSerial)
}

func (i *issuer) issue(ctx context.Context, req plugin.IssueRequest, op, previousSerial string) (plugin.IssueResult, error) {
	if err := ctx.Err(); err != nil {
		return plugin.IssueResult{}, err
	}
	s, err := i.readSettings(req.Config)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	csr, err := parseCSR(req.CSR)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	vars, err := issueEnv(req, s, op, previousSerial)
	if err != nil {
		return plugin.IssueResult{}, err
	}
	started := time.Now()
	out, err := i.run(ctx, s, fieldCommand, s.command, vars, csrPEM(req.CSR))
	if err != nil {
		return plugin.IssueResult{}, err
	}
	leafPEM, chainPEM, leaf, err := readOutput(out, csr.PublicKey)
	if err != nil {
		return plugin.IssueResult{}, fmt.Errorf("%s: %w", commandName(s.command), err)
	}
	i.log.Info("certificate signed by command", "operation", op, "command", commandName(s.command),
		"common_name", req.CommonName, "serial", leaf.SerialNumber.Text(16),
		"duration", time.Since(started).Round(time.Millisecond).String())
	return plugin.IssueResult{Status: plugin.StatusIssued, CertificatePEM: leafPEM, ChainPEM: chainPEM}, nil
}

// RevokeCertificate runs revoke_command; without one it answers
// unimplemented, and certctl records the revocation itself only.
func (i *issuer) RevokeCertificate(ctx context.Context, req plugin.RevokeRequest) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := i.readSettings(req.Config)
	if err != nil {
		return err
	}
	serial, err := parseSerial(req.SerialNumber)
	if err != nil {
		return err
	}
	if !plugin.ValidReason(req.Reason) {
		return plugin.Errorf(plugin.CodeInvalidInput, "revocation reason %d is not an RFC 5280 CRLReason code", req.Reason)
	}
	if len(s.revokeCommand) == 0 {
		return plugin.Errorf(plugin.CodeUnimplemented,
			"no revoke_command is configured: the revocation is recorded in certctl only, not by the CA")
	}
	if _, err := i.run(ctx, s, fieldRevokeCommand, s.revokeCommand, revokeEnv(serial, req.Reason), []byte(req.CertificatePEM)); err != nil {
		return err
	}
	i.log.Info("certificate revoked by command", "command", commandName(s.revokeCommand),
		"serial", serial.Text(16), "reason", req.Reason)
	return nil
}

// GetOrderStatus always fails: a command signs while certctl waits, so
// there are no orders.
func (i *issuer) GetOrderStatus(_ context.Context, req plugin.OrderStatusRequest) (plugin.IssueResult, error) {
	orderID := req.OrderID
	return plugin.IssueResult{}, plugin.Errorf(plugin.CodeNotFound,
		"no order %q: the script issuer signs synchronously and keeps no orders", orderID)
}

// SignCRL is not offered: the CA behind the command publishes its own CRL.
func (i *issuer) SignCRL(context.Context, plugin.CRLRequest) (plugin.CRLResult, error) {
	return plugin.CRLResult{}, plugin.Errorf(plugin.CodeUnimplemented,
		"the script issuer signs no CRLs: publish the CA's own CRL (e.g. openssl ca -gencrl)")
}

// settings is a configuration read into typed values, defaults applied.
type settings struct {
	command, revokeCommand []string // the program resolved to a path
	timeout                time.Duration
	env                    []string // NAME=value
	workingDir             string
	validity               time.Duration
	profile                string
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// readSettings normalizes cfg with the schema (the host has normally done
// so already, but a plugin trusts no input) and checks every value,
// resolving the programs as they will be run.
func (i *issuer) readSettings(cfg plugin.Config) (settings, error) {
	n, err := schema.Normalize(cfg)
	if err != nil {
		return settings{}, err
	}
	s := settings{
		timeout:    n.Duration(fieldTimeout),
		workingDir: strings.TrimSpace(n.String(fieldWorkingDir)),
		validity:   n.Duration(fieldValidity),
		profile:    strings.TrimSpace(n.String(fieldProfile)),
	}
	if s.timeout <= 0 {
		return settings{}, plugin.InvalidConfig(fieldTimeout, "must be longer than zero")
	}
	if s.validity <= 0 {
		return settings{}, plugin.InvalidConfig(fieldValidity, "must be longer than zero")
	}
	if s.workingDir != "" {
		if !filepath.IsAbs(s.workingDir) {
			return settings{}, plugin.InvalidConfig(fieldWorkingDir, "%q is not an absolute path", s.workingDir)
		}
		if fi, err := os.Stat(s.workingDir); err != nil || !fi.IsDir() {
			return settings{}, plugin.InvalidConfig(fieldWorkingDir, "%q is not a directory on the server", s.workingDir)
		}
	}
	seen := map[string]bool{}
	for k, entry := range n.Strings(fieldEnv) {
		// The value may be a secret: errors name the entry and the name only.
		name, _, ok := strings.Cut(entry, "=")
		switch {
		case !ok || !envName.MatchString(name):
			return settings{}, plugin.InvalidConfig(fieldEnv, "entry %d is not NAME=value with a name of letters, digits and _", k+1)
		case strings.HasPrefix(strings.ToUpper(name), "CERTCTL_"):
			return settings{}, plugin.InvalidConfig(fieldEnv, "entry %d: %s: names starting with CERTCTL_ are certctl's", k+1, name)
		case seen[name]:
			return settings{}, plugin.InvalidConfig(fieldEnv, "entry %d: %s is set twice", k+1, name)
		case strings.ContainsRune(entry, 0):
			return settings{}, plugin.InvalidConfig(fieldEnv, "entry %d: %s holds a NUL byte", k+1, name)
		}
		seen[name] = true
		s.env = append(s.env, entry)
	}
	if s.command, err = resolveCommand(fieldCommand, n.Strings(fieldCommand), true); err != nil {
		return settings{}, err
	}
	if s.revokeCommand, err = resolveCommand(fieldRevokeCommand, n.Strings(fieldRevokeCommand), false); err != nil {
		return settings{}, err
	}
	return s, nil
}

// resolveCommand checks an argument list and returns it with its program
// as the path that will run: an absolute path to an executable file, or a
// bare name found on PATH.
func resolveCommand(field string, argv []string, required bool) ([]string, error) {
	if len(argv) == 0 {
		if required {
			return nil, plugin.InvalidConfig(field, "must name a program")
		}
		return nil, nil
	}
	for k, a := range argv {
		if strings.ContainsRune(a, 0) {
			return nil, plugin.InvalidConfig(field, "argument %d holds a NUL byte", k+1)
		}
	}
	prog := argv[0]
	var path string
	switch {
	case prog == "":
		return nil, plugin.InvalidConfig(field, "the program (first element) is empty")
	case filepath.IsAbs(prog):
		fi, err := os.Stat(prog)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, plugin.InvalidConfig(field, "%s does not exist on the server", prog)
		case err != nil:
			return nil, plugin.InvalidConfig(field, "%s: %v", prog, err)
		case !fi.Mode().IsRegular():
			return nil, plugin.InvalidConfig(field, "%s is not a regular file", prog)
		case fi.Mode().Perm()&0o111 == 0:
			return nil, plugin.InvalidConfig(field, "%s is not executable (chmod +x it)", prog)
		}
		path = prog
	case strings.ContainsRune(prog, filepath.Separator) || strings.Contains(prog, "/"):
		return nil, plugin.InvalidConfig(field, "%q: give the program as an absolute path, or a bare name to look up on PATH", prog)
	default:
		p, err := exec.LookPath(prog)
		if err != nil {
			return nil, plugin.InvalidConfig(field, "%q is not an executable on the server's PATH", prog)
		}
		path = p
	}
	return append([]string{path}, slices.Clone(argv[1:])...), nil
}

// commandName names a command in messages and logs: its program only, as
// arguments are the user's business.
func commandName(argv []string) string { return filepath.Base(argv[0]) }

// parseSerial reads a hexadecimal serial number.
func parseSerial(s string) (*big.Int, error) {
	n, ok := new(big.Int).SetString(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "0x"), 16)
	if !ok || n.Sign() < 0 {
		return nil, plugin.Errorf(plugin.CodeInvalidInput, "serial %q is not a hexadecimal number", s)
	}
	return n, nil
}
