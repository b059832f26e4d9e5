package cli

// agents.go: certctl agents, certctl tokens (enrollment tokens) and
// certctl jobs.

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

func (a *app) agentsCommand() *cobra.Command {
	c := group("agents", "Manage agents", "agent")
	c.AddCommand(a.agentsList(), a.agentsGet(), a.agentsRetire())
	return c
}

func (a *app) agentsList() *cobra.Command {
	var (
		o      client.AgentListOptions
		labels []string
		limit  int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List agents",
		Example: `  certctl agents list
  certctl agents list --status online --os linux --label env=prod`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			want, err := parseLabels("label", labels)
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			o.Limit = 500
			var items []api.Agent
			for ag, err := range cl.AllAgents(cmd.Context(), o) {
				if err != nil {
					return err
				}
				if !hasLabels(ag.Labels, want) {
					continue
				}
				items = append(items, ag)
				if limit > 0 && len(items) >= limit {
					break
				}
			}
			if items == nil {
				items = []api.Agent{}
			}
			return a.emit(items, func(t *table) {
				t.row("NAME", "STATUS", "OS", "ARCH", "HOSTNAME", "VERSION", "LAST HEARTBEAT", "LABELS")
				for _, g := range items {
					t.row(g.Name, g.Status, g.OS, g.Arch, g.Hostname, g.AgentVersion, fmtTimePtr(g.LastHeartbeatAt), fmtLabels(g.Labels))
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Status, "status", "", "only agents in this status (pending, online, offline, retired)")
	f.StringVar(&o.OS, "os", "", "only agents on this OS (linux, windows, ...)")
	f.StringVar(&o.Arch, "arch", "", "only agents on this architecture (amd64, arm64, ...)")
	f.StringArrayVar(&labels, "label", nil, "only agents with this label key=value (repeatable)")
	f.IntVar(&limit, "limit", 0, "list at most this many (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"pending", "online", "offline", "retired"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

func (a *app) printAgent(g *api.Agent) error {
	return a.emit(g, func(t *table) {
		plugins := make([]string, len(g.Plugins))
		for i, p := range g.Plugins {
			plugins[i] = p.Kind + "/" + p.Name + "@" + p.Version
		}
		details(t,
			"ID", g.ID,
			"NAME", g.Name,
			"STATUS", g.Status,
			"OS", g.OS,
			"ARCH", g.Arch,
			"HOSTNAME", g.Hostname,
			"IP ADDRESS", deref(g.IPAddress),
			"VERSION", g.AgentVersion,
			"UPTIME", (time.Duration(g.UptimeSeconds) * time.Second).String(),
			"PLUGINS", strings.Join(plugins, ","),
			"LABELS", fmtLabels(g.Labels),
			"LAST HEARTBEAT", fmtTimePtr(g.LastHeartbeatAt),
			"ENROLLED", fmtTime(g.EnrolledAt),
			"RETIRED", fmtTimePtr(g.RetiredAt),
		)
	})
}

func (a *app) agentsGet() *cobra.Command {
	return &cobra.Command{
		Use:               "get NAME|ID",
		Short:             "Show an agent",
		Example:           `  certctl agents get web-1`,
		Args:              exactArgs(1, "an agent name or id"),
		ValidArgsFunction: a.completeNames(agentNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := a.getAgent(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printAgent(g)
		},
	}
}

func (a *app) agentsRetire() *cobra.Command {
	return &cobra.Command{
		Use:               "retire NAME|ID",
		Short:             "Retire an agent: its credentials stop working at once",
		Example:           `  certctl agents retire web-1`,
		Args:              exactArgs(1, "an agent name or id"),
		ValidArgsFunction: a.completeNames(agentNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			g, err := a.getAgent(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			g, err = cl.RetireAgent(cmd.Context(), g.ID)
			if err != nil {
				return err
			}
			return a.printAgent(g)
		},
	}
}

func (a *app) tokensCommand() *cobra.Command {
	c := group("tokens", "Manage agent enrollment tokens (admin)", "token", "enrollment-tokens")
	c.AddCommand(a.tokensCreate(), a.tokensList(),
		idAction(a, "get ID", "Show an enrollment token (without its secret)", "certctl tokens get 0195b1de-...", "a token id",
			(*client.Client).GetEnrollmentToken, a.printToken),
		idAction(a, "revoke ID", "Revoke an enrollment token", "certctl tokens revoke 0195b1de-...", "a token id",
			(*client.Client).RevokeEnrollmentToken, a.printToken))
	return c
}

func (a *app) printToken(tk *api.EnrollmentToken) error {
	return a.emit(tk, func(t *table) {
		pairs := []string{
			"ID", tk.ID,
			"PREFIX", tk.Prefix,
			"AGENT NAME", tk.AgentName,
			"LABELS", fmtLabels(tk.Labels),
			"EXPIRES", fmtTime(tk.ExpiresAt),
			"USED", fmtTimePtr(tk.UsedAt),
			"USED BY AGENT", deref(tk.UsedByAgentID),
			"REVOKED", fmtTimePtr(tk.RevokedAt),
			"CREATED BY", tk.CreatedBy,
			"CREATED", fmtTime(tk.CreatedAt),
		}
		if tk.Token != "" {
			pairs = append(pairs, "TOKEN", tk.Token)
		}
		details(t, pairs...)
	})
}

func (a *app) tokensCreate() *cobra.Command {
	var (
		req        api.EnrollmentTokenRequest
		labels     []string
		secretFile string
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a single-use enrollment token for an agent",
		Long: `Create a single-use enrollment token. The token is shown once, in this
reply; give it to the agent as CERTCTL_AGENT_TOKEN. With --token-file it is
written to that file (mode 0600) instead of printed.`,
		Example: `  certctl tokens create --agent-name web-1 --label env=prod --ttl 1h
  certctl tokens create --agent-name web-1 --token-file /run/secrets/certctl-token`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if req.Labels, err = parseLabels("label", labels); err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			tk, err := cl.CreateEnrollmentToken(cmd.Context(), req)
			if err != nil {
				return err
			}
			if secretFile != "" {
				if err := writeNewFile(secretFile, []byte(tk.Token+"\n"), 0o600); err != nil {
					return fmt.Errorf("token %s was created but not saved: %w", tk.ID, err)
				}
				tk.Token = ""
			}
			return a.printToken(tk)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.AgentName, "agent-name", "", "the name the agent gets (default: the name it asks for)")
	f.StringArrayVar(&labels, "label", nil, "label key=value the agent gets (repeatable)")
	f.StringVar(&req.TTL, "ttl", "", "how long the token is valid (default 24h, at most 720h)")
	f.StringVar(&secretFile, "token-file", "", "write the token to this new file (mode 0600) instead of printing it")
	return cmd
}

func (a *app) tokensList() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List enrollment tokens, newest first (without their secrets)",
		Example: `  certctl tokens list`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			items, err := collect(cl.AllEnrollmentTokens(cmd.Context(), client.ListOptions{Limit: 500}), limit)
			if err != nil {
				return err
			}
			return a.emit(items, func(t *table) {
				t.row("ID", "PREFIX", "AGENT NAME", "EXPIRES", "USED", "REVOKED")
				for _, tk := range items {
					t.row(tk.ID, tk.Prefix, tk.AgentName, fmtTime(tk.ExpiresAt), fmtTimePtr(tk.UsedAt), fmtTimePtr(tk.RevokedAt))
				}
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most this many (0: all)")
	return cmd
}

func (a *app) jobsCommand() *cobra.Command {
	c := group("jobs", "Inspect and control jobs (issue, renew, revoke, deploy, notify)", "job")
	c.AddCommand(a.jobsList(), a.jobsGet(),
		idAction(a, "cancel ID", "Cancel a live job", "certctl jobs cancel 0195b1de-...", "a job id",
			(*client.Client).CancelJob, a.printJob),
		idAction(a, "retry ID", "Run a failed or cancelled job again", "certctl jobs retry 0195b1de-...", "a job id",
			(*client.Client).RetryJob, a.printJob))
	return c
}

func (a *app) jobsList() *cobra.Command {
	var (
		o     client.JobListOptions
		cert  string
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List jobs, newest first",
		Example: `  certctl jobs list
  certctl jobs list --cert www-example-com --state failed`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cl, err := a.client()
			if err != nil {
				return err
			}
			if o.CertificateID, err = optionalID(ctx, cert, a.getCertificate, func(v *api.Certificate) string { return v.ID }); err != nil {
				return err
			}
			o.Limit = 500
			if limit > 0 && limit < 500 {
				o.Limit = limit
			}
			items, err := collect(cl.AllJobs(ctx, o), limit)
			if err != nil {
				return err
			}
			return a.emit(items, func(t *table) {
				t.row("ID", "KIND", "STATE", "CERTIFICATE", "ATTEMPT", "CREATED", "WAITING FOR / LAST ERROR")
				for _, j := range items {
					note := j.WaitingFor
					if note == "" {
						note = j.LastError
					}
					t.row(j.ID, j.Kind, j.State, deref(j.CertificateID), fmt.Sprintf("%d/%d", j.Attempt, j.MaxAttempts), fmtTime(j.CreatedAt), note)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Kind, "kind", "", "only jobs of this kind (issue, renew, revoke, deploy, notify)")
	f.StringVar(&o.State, "state", "", "only jobs in this state (queued, running, waiting, retrying, succeeded, failed, cancelled)")
	f.StringVar(&cert, "cert", "", "only jobs of this certificate (name or id)")
	f.IntVar(&limit, "limit", 50, "list at most this many (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("cert", a.flagNames(certificateNames))
	_ = cmd.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions([]string{"issue", "renew", "revoke", "deploy", "notify"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("state", cobra.FixedCompletions(
		[]string{"queued", "running", "waiting", "retrying", "succeeded", "failed", "cancelled"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (a *app) jobsGet() *cobra.Command {
	var w waitFlags
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show a job (with --wait, once it has ended)",
		Example: `  certctl jobs get 0195b1de-...
  certctl jobs get 0195b1de-... --wait --timeout 2m`,
		Args: exactArgs(1, "a job id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			j, err := cl.GetJob(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.finishJob(cmd.Context(), cl, j, w)
		},
	}
	w.add(cmd, true, "")
	return cmd
}

// idAction is a command that calls one SDK method on the id it is given
// and prints the result.
func idAction[T any](a *app, use, short, example, what string,
	call func(*client.Client, context.Context, string) (*T, error), print func(*T) error) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: "  " + example,
		Args:    exactArgs(1, what),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			v, err := call(cl, cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return print(v)
		},
	}
}
