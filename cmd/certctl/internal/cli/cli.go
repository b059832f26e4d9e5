// Package cli is the certctl command-line client: a cobra command tree over
// the public Go SDK (sdk/client). It never speaks HTTP itself. Main runs
// one invocation and returns its exit status (see exit.go), so tests and
// the binary's main share everything but os.Exit.
package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/sdk/client"
)

// Version is the build's version, set by make build (-ldflags -X); a
// build without it reports the VCS revision Go recorded.
var Version = ""

// version returns Version, or what the build info knows.
func version() string {
	if Version != "" {
		return Version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev"
	}
	if bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "dev"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// Streams are the standard streams of an invocation.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// app is one invocation: its streams, environment, global flags and the
// client built from them on first use.
type app struct {
	streams Streams
	getenv  func(string) string

	// Global flags.
	url, apiKey, contextName, configFile, caFile string
	insecure                                     bool
	output                                       string
	noHeaders                                    bool

	// running is set once a command's own code starts: an error before
	// that is the command line's fault (unknown command or flag, wrong
	// arguments).
	running bool
	cl      *client.Client
}

// Main runs certctl with args (without the program name) and returns its
// exit status.
func Main(ctx context.Context, args []string, streams Streams, getenv func(string) string) int {
	a := &app{streams: streams, getenv: getenv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if !a.running && code == ExitError {
		code = ExitUsage
	}
	// The SDK's API errors start with "certctl: " already.
	fmt.Fprintf(streams.Err, "certctl: %s\n", strings.TrimPrefix(err.Error(), "certctl: "))
	if code == ExitUsage {
		fmt.Fprintln(streams.Err, "Run 'certctl --help' for usage.")
	}
	return code
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "certctl",
		Short: "certctl manages certificates, agents and connectors of a certctl server",
		Long: `certctl is the command-line client of a certctl server.

It reads the server's URL and API key from --url/--api-key, from the
environment (CERTCTL_URL, CERTCTL_API_KEY) or from a context of its
configuration file (certctl config --help). Tables are for people;
-o json and -o yaml are for scripts. Exit statuses are listed in docs/cli.md.`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRun,
	}
	root.SetVersionTemplate("certctl {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withCode(ExitUsage, err) })
	root.CompletionOptions.HiddenDefaultCmd = false

	pf := root.PersistentFlags()
	pf.StringVar(&a.url, "url", "", "server URL (default $CERTCTL_URL, or the context's)")
	pf.StringVar(&a.apiKey, "api-key", "", "API key (default $CERTCTL_API_KEY, or the context's)")
	pf.StringVar(&a.contextName, "context", "", "context of the configuration file to use (default $CERTCTL_CONTEXT, or the current context)")
	pf.StringVar(&a.configFile, "config", "", "configuration file (default $CERTCTL_CONFIG, or $XDG_CONFIG_HOME/certctl/config.yaml)")
	pf.StringVar(&a.caFile, "ca-file", "", "PEM file of the CA certificates that sign the server's TLS certificate (default $CERTCTL_CA_FILE, or the context's)")
	pf.BoolVar(&a.insecure, "insecure-skip-verify", false, "do not verify the server's TLS certificate (for tests only)")
	pf.StringVarP(&a.output, "output", "o", "table", "output format: table, json or yaml")
	pf.BoolVar(&a.noHeaders, "no-headers", false, "print tables without their header line")
	_ = root.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"table", "json", "yaml"}, cobra.ShellCompDirectiveNoFileComp))
	_ = root.RegisterFlagCompletionFunc("context", a.completeContexts)

	root.AddCommand(
		a.certsCommand(),
		a.agentsCommand(),
		a.tokensCommand(),
		a.jobsCommand(),
		a.operationsCommand(),
		a.issuersCommand(),
		a.targetsCommand(),
		a.notifiersCommand(),
		a.policiesCommand(),
		a.rulesCommand(),
		a.keysCommand(),
		a.auditCommand(),
		a.notificationsCommand(),
		a.pluginsCommand(),
		a.statusCommand(),
		a.configCommand(),
	)
	a.markRunning(root)
	return root
}

// markRunning wraps every command's RunE so that a.running is set when
// the command's own code starts, after cobra has checked its flags and
// arguments; it also checks -o first, for every command.
func (a *app) markRunning(c *cobra.Command) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			switch a.output {
			case "table", "json", "yaml":
			default:
				return usageErrorf("-o %q: use table, json or yaml", a.output)
			}
			a.running = true
			return run(cmd, args)
		}
	}
	for _, sub := range c.Commands() {
		a.markRunning(sub)
	}
}

// groupRun is the RunE of a command that only holds others: without
// arguments it shows its help; anything else is an unknown command.
func groupRun(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2 // cobra's default for the root's own suggestions
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += "; did you mean " + strings.Join(s, " or ") + "?"
	}
	return withCode(ExitUsage, errors.New(msg))
}

// group returns a command that holds subcommands.
func group(use, short string, aliases ...string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Aliases: aliases, Args: cobra.ArbitraryArgs, RunE: groupRun}
}

// Argument checks that report a usage error.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf("expected %s, got %d argument(s)", names, len(args))
		}
		return nil
	}
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErrorf("unexpected argument %q", args[0])
	}
	return nil
}

// settings are where the client connects, resolved from flags,
// environment and configuration file.
type settings struct {
	URL, APIKey, CAFile string
	Insecure            bool
	Context             string // the context used, if any
}

// resolve works out the settings. Flags win; then, when --context names a
// context, that context; otherwise the environment, then the current
// context of the configuration file.
func (a *app) resolve() (settings, error) {
	var s settings
	path, err := configPath(a.configFile, a.getenv)
	if err != nil {
		return s, err
	}
	cfg, err := loadConfig(path)
	if err != nil {
		return s, err
	}
	name, explicit := a.contextName, a.contextName != ""
	if name == "" {
		name = a.getenv("CERTCTL_CONTEXT")
		explicit = name != ""
	}
	if name == "" {
		name = cfg.CurrentContext
	}
	var ctx *Context
	if name != "" {
		c, ok := cfg.Context(name)
		if !ok {
			if explicit || cfg.CurrentContext != "" {
				return s, usageErrorf("context %q is not in %s (certctl config get-contexts lists them)", name, path)
			}
		}
		ctx = c
		s.Context = name
	}
	// The context's key and TLS settings go only to the context's own
	// server: when the URL comes from a flag or the environment, a key in
	// the current context must not be sent to that other server.
	urlFromCtx := false
	switch {
	case a.url != "":
		s.URL = a.url
	case explicit && ctx != nil && ctx.URL != "":
		s.URL, urlFromCtx = ctx.URL, true
	case a.getenv("CERTCTL_URL") != "":
		s.URL = a.getenv("CERTCTL_URL")
	case ctx != nil && ctx.URL != "":
		s.URL, urlFromCtx = ctx.URL, true
	}
	if !urlFromCtx {
		ctx, s.Context = nil, ""
	}
	pick := func(flag, env, fromCtx string) (string, bool) {
		switch {
		case flag != "":
			return flag, false
		case explicit && fromCtx != "":
			return fromCtx, true
		case a.getenv(env) != "":
			return a.getenv(env), false
		}
		return fromCtx, fromCtx != ""
	}
	var ctxKey, ctxCA string
	if ctx != nil {
		ctxKey, ctxCA = ctx.APIKey, ctx.CAFile
	}
	var keyFromFile bool
	s.APIKey, keyFromFile = pick(a.apiKey, "CERTCTL_API_KEY", ctxKey)
	if keyFromFile {
		if err := cfg.checkKeyReadable(); err != nil {
			return s, err
		}
	}
	s.CAFile, _ = pick(a.caFile, "CERTCTL_CA_FILE", ctxCA)
	s.Insecure = a.insecure || (ctx != nil && ctx.InsecureSkipVerify)
	if s.URL == "" {
		return s, usageErrorf("no server URL: give --url, set CERTCTL_URL, or add a context (certctl config set-context)")
	}
	return s, nil
}

// client returns the SDK client for this invocation, built on first use.
func (a *app) client() (*client.Client, error) {
	if a.cl != nil {
		return a.cl, nil
	}
	s, err := a.resolve()
	if err != nil {
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: s.Insecure} //nolint:gosec // only when asked for
	if s.CAFile != "" {
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return nil, fmt.Errorf("CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", s.CAFile)
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	opts := []client.Option{
		client.WithHTTPClient(&http.Client{Transport: tr, Timeout: 60 * time.Second}),
		client.WithUserAgent("certctl-cli/" + version()),
	}
	if s.APIKey != "" {
		opts = append(opts, client.WithAPIKey(s.APIKey))
	}
	cl, err := client.New(s.URL, opts...)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	a.cl = cl
	return cl, nil
}
