package filetarget

import (
	"fmt"
	"net"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/atomicfile"
	"github.com/certctl/certctl/sdk/plugin"
)

// Names of the fields every file-based target has.
const (
	FieldOwner            = "owner"
	FieldGroup            = "group"
	FieldValidateCommand  = "validate_command"
	FieldReloadCommand    = "reload_command"
	FieldVerifyAddress    = "verify_address"
	FieldVerifyServerName = "verify_server_name"
	FieldVerifyTimeout    = "verify_timeout"
	FieldCommandTimeout   = "command_timeout"
)

// Defaults and limits of the shared fields.
const (
	DefaultCommandTimeout = "30s"
	DefaultVerifyTimeout  = "10s"
	MinCommandTimeout     = time.Second
	MaxCommandTimeout     = 10 * time.Minute
	MaxVerifyTimeout      = 5 * time.Minute
)

// schemaFor returns the plugin's schema: its path fields, then the
// shared ones.
func schemaFor(s Spec) plugin.Schema {
	fields := append([]plugin.Field{}, s.PathFields...)
	return plugin.Schema{Fields: append(fields,
		plugin.Field{Name: FieldOwner, Type: plugin.TypeString,
			Description: "User that owns the written files, as a name or a numeric id. Empty keeps the owner of the file being replaced, or for a new file the user the agent runs as."},
		plugin.Field{Name: FieldGroup, Type: plugin.TypeString,
			Description: "Group of the written files, as a name or a numeric id. Empty keeps the group of the file being replaced, or for a new file the agent's."},
		plugin.Field{Name: FieldValidateCommand, Type: plugin.TypeStringList, Default: s.DefaultValidate,
			Description: fmt.Sprintf("Command that checks the server's configuration once the new files are written, as a list of arguments run without a shell, e.g. %s. "+
				"If it fails, the previous files are put back and the deployment fails with its output. An empty list skips the check. Default: %s.",
				s.ValidateExample, quoteList(s.DefaultValidate))},
		plugin.Field{Name: FieldReloadCommand, Type: plugin.TypeStringList, Default: s.DefaultReload,
			Description: fmt.Sprintf("Command that makes the server load the new files, as a list of arguments run without a shell (use [\"sh\", \"-c\", \"...\"] for a shell), e.g. %s. "+
				"If it fails, the previous files are put back, it is run once more, and the deployment fails with its output. Default: %s.",
				s.ReloadExample, quoteList(s.DefaultReload))},
		plugin.Field{Name: FieldVerifyAddress, Type: plugin.TypeString,
			Description: "host:port where the server serves TLS, e.g. \"127.0.0.1:443\". ValidateDeployment completes a TLS handshake there and compares the served certificate's serial number with the deployed one (the chain is not verified). Empty: ValidateDeployment checks the certificate file on disk instead of the live server."},
		plugin.Field{Name: FieldVerifyServerName, Type: plugin.TypeString,
			Description: fmt.Sprintf("Server name (SNI) sent in the verification handshake, to pick the right virtual host. Empty: the first DNS name of the certificate in %s, or none.", s.LeafField)},
		plugin.Field{Name: FieldVerifyTimeout, Type: plugin.TypeDuration, Default: DefaultVerifyTimeout,
			Description: "How long ValidateDeployment keeps trying while the server finishes reloading (refusing connections or still serving another certificate), at most 5m; \"0s\" tries once."},
		plugin.Field{Name: FieldCommandTimeout, Type: plugin.TypeDuration, Default: DefaultCommandTimeout,
			Description: "Time allowed for each run of the validate or reload command, 1s to 10m; a command still running then is killed (with its process group)."},
	)}
}

// config is a configuration, normalised and checked.
type config struct {
	cfg                             plugin.Config // normalised
	owner, group                    string
	validate, reload                []string
	verifyAddress, verifyServerName string
	verifyTimeout, commandTimeout   time.Duration
}

// idPattern is what a user or group may look like: a name or a number.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]*\$?$`)

// readConfig normalises cfg with the schema (hosts do, but a plugin
// called directly must not trust that they did) and checks it.
func (t *Target) readConfig(raw plugin.Config) (config, error) {
	cfg, err := t.schema.Normalize(raw)
	if err != nil {
		return config{}, err
	}
	c := config{
		cfg:              cfg,
		owner:            cfg.String(FieldOwner),
		group:            cfg.String(FieldGroup),
		validate:         cfg.Strings(FieldValidateCommand),
		reload:           cfg.Strings(FieldReloadCommand),
		verifyAddress:    cfg.String(FieldVerifyAddress),
		verifyServerName: cfg.String(FieldVerifyServerName),
		verifyTimeout:    cfg.Duration(FieldVerifyTimeout),
		commandTimeout:   cfg.Duration(FieldCommandTimeout),
	}
	if err := t.checkPaths(cfg); err != nil {
		return config{}, err
	}
	for _, f := range []struct{ name, value string }{{FieldOwner, c.owner}, {FieldGroup, c.group}} {
		if f.value != "" && !idPattern.MatchString(f.value) {
			return config{}, plugin.InvalidConfig(f.name, "must be a name or a numeric id")
		}
	}
	if err := checkCommand(FieldValidateCommand, c.validate, true); err != nil {
		return config{}, err
	}
	if err := checkCommand(FieldReloadCommand, c.reload, false); err != nil {
		return config{}, err
	}
	if c.verifyAddress != "" {
		if err := checkAddress(c.verifyAddress); err != nil {
			return config{}, err
		}
	}
	if n := c.verifyServerName; n != "" && (len(n) > 253 || strings.ContainsFunc(n, func(r rune) bool {
		return r <= ' ' || r == '/' || r == ':' || r > '~'
	})) {
		return config{}, plugin.InvalidConfig(FieldVerifyServerName, "must be a host name such as www.example.com")
	}
	if c.commandTimeout < MinCommandTimeout || c.commandTimeout > MaxCommandTimeout {
		return config{}, plugin.InvalidConfig(FieldCommandTimeout, "must be between %s and %s", MinCommandTimeout, MaxCommandTimeout)
	}
	if c.verifyTimeout > MaxVerifyTimeout {
		return config{}, plugin.InvalidConfig(FieldVerifyTimeout, "must be at most %s", MaxVerifyTimeout)
	}
	return c, nil
}

// checkPaths checks that the path fields with a value are absolute file
// paths, none the same as another.
func (t *Target) checkPaths(cfg plugin.Config) error {
	seen := map[string]string{}
	for _, f := range t.spec.PathFields {
		p := cfg.String(f.Name)
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			return plugin.InvalidConfig(f.Name, "must be an absolute path, e.g. /etc/ssl/certs/example.pem")
		}
		if strings.HasSuffix(p, "/") || strings.ContainsRune(p, 0) {
			return plugin.InvalidConfig(f.Name, "must name a file, not a directory")
		}
		clean := filepath.Clean(p)
		if other, ok := seen[clean]; ok {
			return plugin.InvalidConfig(f.Name, "must differ from %s: each file is written separately", other)
		}
		seen[clean] = f.Name
	}
	return nil
}

// checkCommand checks an argument list.
func checkCommand(field string, argv []string, mayBeEmpty bool) error {
	if len(argv) == 0 {
		if mayBeEmpty {
			return nil
		}
		return plugin.InvalidConfig(field, "must name a command")
	}
	if strings.TrimSpace(argv[0]) == "" {
		return plugin.InvalidConfig(field, "the first element must name a command")
	}
	for i, a := range argv {
		if strings.ContainsRune(a, 0) {
			return plugin.InvalidConfig(field, "argument %d holds a NUL byte", i+1)
		}
	}
	return nil
}

// checkAddress checks a host:port.
func checkAddress(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return plugin.InvalidConfig(FieldVerifyAddress, "must be host:port, e.g. 127.0.0.1:443 or [::1]:443")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return plugin.InvalidConfig(FieldVerifyAddress, "port must be a number from 1 to 65535")
	}
	return nil
}

// ids resolves the configured owner and group to numeric ids, or
// atomicfile.Keep. Names are looked up here, on the host that deploys.
func (c config) ids() (uid, gid int, err error) {
	uid, gid = atomicfile.Keep, atomicfile.Keep
	if c.owner != "" {
		if uid, err = lookupID(c.owner, func(name string) (string, error) {
			u, err := user.Lookup(name)
			if err != nil {
				return "", err
			}
			return u.Uid, nil
		}); err != nil {
			return 0, 0, plugin.InvalidConfig(FieldOwner, "%v", err)
		}
	}
	if c.group != "" {
		if gid, err = lookupID(c.group, func(name string) (string, error) {
			g, err := user.LookupGroup(name)
			if err != nil {
				return "", err
			}
			return g.Gid, nil
		}); err != nil {
			return 0, 0, plugin.InvalidConfig(FieldGroup, "%v", err)
		}
	}
	return uid, gid, nil
}

func lookupID(v string, lookup func(string) (string, error)) (int, error) {
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 || n > 1<<31-2 {
			return 0, fmt.Errorf("id %d is out of range", n)
		}
		return n, nil
	}
	id, err := lookup(v)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(id)
	if err != nil {
		return 0, fmt.Errorf("%s has no numeric id on this system", v)
	}
	return n, nil
}

func quoteList(l []string) string {
	if len(l) == 0 {
		return "[] (none)"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
