package cli

// configcmd.go: certctl config — named contexts in the configuration file.

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func (a *app) loadConfigFile() (*Config, error) {
	path, err := configPath(a.configFile, a.getenv)
	if err != nil {
		return nil, err
	}
	return loadConfig(path)
}

func (a *app) completeContexts(_ *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	cfg, err := a.loadConfigFile()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, c := range cfg.Contexts {
		out = append(out, c.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func (a *app) configCommand() *cobra.Command {
	c := group("config", "Manage named contexts (server URL, API key, TLS settings) in the configuration file")
	c.Long = `The configuration file (default $XDG_CONFIG_HOME/certctl/config.yaml, or
~/.config/certctl/config.yaml; --config or CERTCTL_CONFIG to change it)
holds named contexts. certctl writes it with mode 0600 and refuses to use
an API key from it while others can read it.`

	var (
		keyFromStdin bool
		use          bool
	)
	set := &cobra.Command{
		Use:   "set-context NAME",
		Short: "Add a context, or change the fields given of an existing one",
		Example: `  certctl config set-context prod --url https://certctl.example.com --ca-file /etc/ssl/corp-ca.pem
  printf '%s' "$KEY" | certctl config set-context prod --api-key-stdin --use`,
		Args: exactArgs(1, "the context's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfigFile()
			if err != nil {
				return err
			}
			cur := Context{Name: args[0]}
			if old, ok := cfg.Context(args[0]); ok {
				cur = *old
			}
			f := cmd.Flags()
			// The global --url, --api-key, --ca-file and
			// --insecure-skip-verify set the context's fields.
			if f.Changed("url") {
				cur.URL = a.url
			}
			if f.Changed("api-key") {
				cur.APIKey = a.apiKey
			}
			if keyFromStdin {
				line, err := bufio.NewReader(a.streams.In).ReadString('\n')
				line = strings.TrimSpace(line)
				if line == "" {
					return usageErrorf("--api-key-stdin: no key on standard input (%v)", err)
				}
				cur.APIKey = line
			}
			if f.Changed("ca-file") {
				cur.CAFile = a.caFile
			}
			if f.Changed("insecure-skip-verify") {
				cur.InsecureSkipVerify = a.insecure
			}
			cfg.setContext(cur)
			if use || cfg.CurrentContext == "" {
				cfg.CurrentContext = cur.Name
			}
			if err := cfg.save(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.streams.Out, "context %s saved in %s\n", cur.Name, cfg.path)
			return err
		},
	}
	set.Flags().BoolVar(&keyFromStdin, "api-key-stdin", false, "read the API key from standard input (keeps it out of the shell history)")
	set.Flags().BoolVar(&use, "use", false, "make it the current context")

	useCmd := &cobra.Command{
		Use:               "use-context NAME",
		Short:             "Make a context the current one",
		Example:           `  certctl config use-context prod`,
		Args:              exactArgs(1, "a context name"),
		ValidArgsFunction: a.completeContexts,
		RunE: func(_ *cobra.Command, args []string) error {
			cfg, err := a.loadConfigFile()
			if err != nil {
				return err
			}
			if _, ok := cfg.Context(args[0]); !ok {
				return notFoundErrorf("no context %q in %s", args[0], cfg.path)
			}
			cfg.CurrentContext = args[0]
			if err := cfg.save(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.streams.Out, "current context is %s\n", args[0])
			return err
		},
	}

	get := &cobra.Command{
		Use:     "get-contexts",
		Short:   "List the contexts (API keys are never shown)",
		Example: `  certctl config get-contexts`,
		Args:    noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			cfg, err := a.loadConfigFile()
			if err != nil {
				return err
			}
			type row struct {
				Name               string `json:"name"`
				Current            bool   `json:"current"`
				URL                string `json:"url"`
				APIKey             bool   `json:"api_key_set"`
				CAFile             string `json:"ca_file,omitempty"`
				InsecureSkipVerify bool   `json:"insecure_skip_verify,omitempty"`
			}
			rows := []row{}
			for _, c := range cfg.Contexts {
				rows = append(rows, row{Name: c.Name, Current: c.Name == cfg.CurrentContext, URL: c.URL, APIKey: c.APIKey != "",
					CAFile: c.CAFile, InsecureSkipVerify: c.InsecureSkipVerify})
			}
			return a.emit(rows, func(t *table) {
				t.row("CURRENT", "NAME", "URL", "API KEY", "CA FILE")
				for _, r := range rows {
					cur, key := "", ""
					if r.Current {
						cur = "*"
					}
					if r.APIKey {
						key = "set"
					}
					t.row(cur, r.Name, r.URL, key, r.CAFile)
				}
			})
		},
	}

	current := &cobra.Command{
		Use:   "current-context",
		Short: "Print the current context's name",
		Args:  noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			cfg, err := a.loadConfigFile()
			if err != nil {
				return err
			}
			if cfg.CurrentContext == "" {
				return notFoundErrorf("no current context in %s", cfg.path)
			}
			_, err = fmt.Fprintln(a.streams.Out, cfg.CurrentContext)
			return err
		},
	}

	del := &cobra.Command{
		Use:               "delete-context NAME",
		Short:             "Remove a context",
		Example:           `  certctl config delete-context old`,
		Args:              exactArgs(1, "a context name"),
		ValidArgsFunction: a.completeContexts,
		RunE: func(_ *cobra.Command, args []string) error {
			cfg, err := a.loadConfigFile()
			if err != nil {
				return err
			}
			if !cfg.deleteContext(args[0]) {
				return notFoundErrorf("no context %q in %s", args[0], cfg.path)
			}
			if err := cfg.save(); err != nil {
				return err
			}
			_, err = fmt.Fprintf(a.streams.Out, "context %s deleted\n", args[0])
			return err
		},
	}
	c.AddCommand(set, useCmd, get, current, del)
	return c
}
