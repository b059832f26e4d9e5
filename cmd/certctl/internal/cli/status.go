package cli

// status.go: certctl status (server health, counts, what expires soon),
// certctl audit and certctl plugins.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// serverStatus is what certctl status reports.
type serverStatus struct {
	Server       string            `json:"server"`
	Health       string            `json:"health"`
	Ready        string            `json:"ready"`
	Checks       map[string]string `json:"checks"`
	Certificates statusCounts      `json:"certificates"`
	Agents       statusCounts      `json:"agents"`
	LiveJobs     statusCounts      `json:"live_jobs"`
	Within       string            `json:"expiring_within"`
	Expiring     []expiringCert    `json:"expiring"`
}

// statusCounts counts resources by status.
type statusCounts struct {
	Total    int            `json:"total"`
	ByStatus map[string]int `json:"by_status"`
}

func (s statusCounts) String() string {
	if s.Total == 0 {
		return "0"
	}
	keys := make([]string, 0, len(s.ByStatus))
	for k := range s.ByStatus {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, s.ByStatus[k])
	}
	return fmt.Sprintf("%d (%s)", s.Total, strings.Join(parts, ", "))
}

type expiringCert struct {
	Name     string    `json:"name"`
	ID       string    `json:"id"`
	Status   string    `json:"status"`
	NotAfter time.Time `json:"not_after"`
}

func count[T any](seq func(yield func(T, error) bool), status func(T) string) (statusCounts, error) {
	c := statusCounts{ByStatus: map[string]int{}}
	for it, err := range seq {
		if err != nil {
			return c, err
		}
		c.Total++
		c.ByStatus[status(it)]++
	}
	return c, nil
}

func (a *app) statusCommand() *cobra.Command {
	var within string
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the server's health, counts of certificates, agents and live jobs, and what expires soon",
		Long: `Show the server's health and readiness, how many certificates, agents and
live jobs there are by status, and the certificates that expire within
--within (30 days by default). Exits 1 when the server is not ready.`,
		Example: `  certctl status
  certctl status --within 7d -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			d, err := parseDuration(within)
			if err != nil || d <= 0 {
				return usageErrorf("--within %q: want a positive duration (30d, 72h)", within)
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			st := serverStatus{Server: cl.BaseURL(), Within: within}
			h, err := cl.Health(ctx)
			if err != nil {
				return fmt.Errorf("server %s: %w", cl.BaseURL(), err)
			}
			st.Health = h.Status
			r, readyErr := cl.Ready(ctx)
			if r != nil {
				st.Ready, st.Checks = r.Status, r.Checks
			} else if readyErr != nil {
				st.Ready = "unknown: " + readyErr.Error()
			}
			if st.Certificates, err = count(cl.AllCertificates(ctx, client.CertificateListOptions{Limit: 500}),
				func(c api.Certificate) string { return c.Status }); err != nil {
				return err
			}
			if st.Agents, err = count(cl.AllAgents(ctx, client.AgentListOptions{Limit: 500}),
				func(g api.Agent) string { return g.Status }); err != nil {
				return err
			}
			st.LiveJobs = statusCounts{ByStatus: map[string]int{}}
			for _, state := range liveJobStates {
				c, err := count(cl.AllJobs(ctx, client.JobListOptions{State: state, Limit: 500}), func(j api.Job) string { return j.State })
				if err != nil {
					return err
				}
				if c.Total > 0 {
					st.LiveJobs.Total += c.Total
					st.LiveJobs.ByStatus[state] = c.Total
				}
			}
			st.Expiring = []expiringCert{}
			for c, err := range cl.AllCertificates(ctx, client.CertificateListOptions{ExpiringBefore: time.Now().Add(d), Limit: 500}) {
				if err != nil {
					return err
				}
				if c.NotAfter == nil || c.Status == "revoked" {
					continue
				}
				st.Expiring = append(st.Expiring, expiringCert{Name: c.Name, ID: c.ID, Status: c.Status, NotAfter: *c.NotAfter})
			}
			slices.SortStableFunc(st.Expiring, func(x, y expiringCert) int { return x.NotAfter.Compare(y.NotAfter) })

			if err := a.emit(st, func(t *table) {
				checks := make([]string, 0, len(st.Checks))
				for _, k := range sortedKeys(anyMap(st.Checks)) {
					checks = append(checks, k+" "+st.Checks[k])
				}
				ready := st.Ready
				if len(checks) > 0 {
					ready += " (" + strings.Join(checks, ", ") + ")"
				}
				details(t,
					"SERVER", st.Server,
					"HEALTH", st.Health,
					"READY", ready,
					"CERTIFICATES", st.Certificates.String(),
					"AGENTS", st.Agents.String(),
					"LIVE JOBS", st.LiveJobs.String(),
					"EXPIRING WITHIN "+within, fmt.Sprint(len(st.Expiring)),
				)
			}); err != nil {
				return err
			}
			if a.output == "table" && len(st.Expiring) > 0 {
				fmt.Fprintln(a.streams.Out)
				t := &table{}
				t.row("EXPIRING", "STATUS", "NOT AFTER")
				for _, e := range st.Expiring {
					t.row(e.Name, e.Status, fmtTime(e.NotAfter))
				}
				if err := t.write(a.streams.Out, a.noHeaders); err != nil {
					return err
				}
			}
			if readyErr != nil {
				return fmt.Errorf("server is not ready: %w", readyErr)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&within, "within", "30d", "list certificates that expire within this time")
	return cmd
}

func anyMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (a *app) auditCommand() *cobra.Command {
	var (
		o            client.AuditEventListOptions
		since, until string
		limit        int
	)
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit trail, newest first",
		Example: `  certctl audit --since 24h
  certctl audit --action certificate.create --outcome success -o json
  certctl audit --resource www-example-com`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			var err error
			if o.Since, err = parseSince("since", since); err != nil {
				return err
			}
			if o.Until, err = parseSince("until", until); err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			if o.ResourceID != "" && !isID(o.ResourceID) && !strings.Contains(o.ResourceID, "/") {
				// A certificate's name, most likely: audit events name ids.
				if c, err := a.getCertificate(ctx, o.ResourceID); err == nil {
					o.ResourceID = c.ID
				}
			}
			o.Limit = 500
			items, err := collect(cl.AllAuditEvents(ctx, o), limit)
			if err != nil {
				return err
			}
			return a.emit(items, func(t *table) {
				t.row("TIME", "ACTOR", "ACTION", "RESOURCE", "OUTCOME")
				for _, e := range items {
					actor := e.ActorName
					if actor == "" {
						actor = e.Actor
					}
					t.row(fmtTime(e.OccurredAt), actor, e.Action, e.ResourceType+"/"+e.ResourceID, e.Outcome)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Actor, "actor", "", "only events by this actor (an API key or agent id, or system)")
	f.StringVar(&o.Action, "action", "", "only this action (certificate.create, api_key.revoke, ...)")
	f.StringVar(&o.ResourceType, "resource-type", "", "only this resource type (certificate, issuer, ...)")
	f.StringVar(&o.ResourceID, "resource", "", "only this resource (an id, a certificate's name, or kind/name of a plugin)")
	f.StringVar(&o.Outcome, "outcome", "", "only this outcome (success, failure, denied)")
	f.StringVar(&since, "since", "", "only events at or after this time (RFC 3339) or this long ago (24h, 7d)")
	f.StringVar(&until, "until", "", "only events before this time (RFC 3339) or this long ago")
	f.IntVar(&limit, "limit", 100, "show at most this many (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("outcome", cobra.FixedCompletions([]string{"success", "failure", "denied"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// parseSince reads an RFC 3339 time or a duration back from now.
func parseSince(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	d, err := parseDuration(s)
	if err != nil || d < 0 {
		return time.Time{}, usageErrorf("--%s %q: want an RFC 3339 time or a duration (24h, 7d)", flag, s)
	}
	return time.Now().Add(-d), nil
}

func (a *app) notificationsCommand() *cobra.Command {
	var (
		o     client.NotificationListOptions
		cert  string
		limit int
	)
	cmd := &cobra.Command{
		Use:     "notifications",
		Aliases: []string{"notification"},
		Short:   "List notifications and their delivery state, newest first",
		Example: `  certctl notifications --status dead         # the dead-letter queue
  certctl notifications --cert www-example-com --event certificate.expiring`,
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
			items, err := collect(cl.AllNotifications(ctx, o), limit)
			if err != nil {
				return err
			}
			return a.emit(items, func(t *table) {
				t.row("CREATED", "EVENT", "STATUS", "ATTEMPTS", "CERTIFICATE", "LAST ERROR")
				for _, n := range items {
					t.row(fmtTime(n.CreatedAt), n.Event, n.Status, fmt.Sprint(n.Attempts), deref(n.CertificateID), n.LastError)
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Status, "status", "", "only notifications in this state (pending, sent, retrying, dead, no_notifier)")
	f.StringVar(&o.Event, "event", "", "only this event (certificate.expiring, ...)")
	f.StringVar(&cert, "cert", "", "only notifications about this certificate (name or id)")
	f.IntVar(&limit, "limit", 100, "show at most this many (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions([]string{"pending", "sent", "retrying", "dead", "no_notifier"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("event", cobra.FixedCompletions(ruleEvents, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("cert", a.flagNames(certificateNames))
	return cmd
}

func (a *app) pluginsCommand() *cobra.Command {
	var kind string
	list := func(cmd *cobra.Command, _ []string) error {
		cl, err := a.client()
		if err != nil {
			return err
		}
		l, err := cl.ListPlugins(cmd.Context())
		if err != nil {
			return err
		}
		items := []api.Plugin{}
		for _, p := range l.Items {
			if kind == "" || p.Kind == kind {
				items = append(items, p)
			}
		}
		return a.emit(items, func(t *table) {
			t.row("KIND", "NAME", "VERSION", "STATUS", "DESCRIPTION")
			for _, p := range items {
				// The first sentence: the whole text is in -o json and yaml.
				desc, _, _ := strings.Cut(p.Description, ". ")
				t.row(p.Kind, p.Name, p.Version, p.Status, strings.TrimSuffix(desc, "."))
			}
		})
	}
	c := &cobra.Command{
		Use:   "plugins",
		Short: "List the connector plugins the server runs (plugins schema KIND/NAME shows one's configuration)",
		Example: `  certctl plugins
  certctl plugins --kind issuer
  certctl plugins schema notifier/webhook`,
		Aliases: []string{"plugin"},
		Args:    noArgs,
		RunE:    list,
	}
	c.Flags().StringVar(&kind, "kind", "", "only plugins of this kind (issuer, target, notifier)")
	_ = c.RegisterFlagCompletionFunc("kind", cobra.FixedCompletions([]string{"issuer", "target", "notifier"}, cobra.ShellCompDirectiveNoFileComp))

	pluginNames := func(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		cl, err := a.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
		defer cancel()
		l, err := cl.ListPlugins(ctx)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, p := range l.Items {
			out = append(out, p.Kind+"/"+p.Name)
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	schema := &cobra.Command{
		Use:               "schema KIND/NAME",
		Short:             "Show a plugin's configuration fields",
		Example:           `  certctl plugins schema issuer/local`,
		Args:              exactArgs(1, "a plugin as kind/name"),
		ValidArgsFunction: pluginNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, n, ok := strings.Cut(args[0], "/")
			if !ok {
				return usageErrorf("%q: want kind/name, such as issuer/local", args[0])
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			l, err := cl.ListPlugins(cmd.Context())
			if err != nil {
				return err
			}
			i := slices.IndexFunc(l.Items, func(p api.Plugin) bool { return p.Kind == k && p.Name == n })
			if i < 0 {
				return notFoundErrorf("no plugin %s/%s on the server (certctl plugins lists them)", k, n)
			}
			p := l.Items[i]
			return a.emit(p, func(t *table) {
				t.row("FIELD", "TYPE", "REQUIRED", "SENSITIVE", "DEFAULT", "DESCRIPTION")
				for _, f := range p.Schema.Fields {
					def := ""
					if f.Default != nil {
						def = configValue(f.Default)
					}
					typ := f.Type
					if len(f.Enum) > 0 {
						typ += " (" + strings.Join(f.Enum, "|") + ")"
					}
					t.row(f.Name, typ, fmtBool(f.Required), fmtBool(f.Sensitive), def, f.Description)
				}
			})
		},
	}
	register := &cobra.Command{
		Use:               "register KIND/NAME",
		Short:             "Accept the binary now in the server's plugin directory (admin)",
		Example:           `  certctl plugins register issuer/acme`,
		Args:              exactArgs(1, "a plugin as kind/name"),
		ValidArgsFunction: pluginNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			k, n, ok := strings.Cut(args[0], "/")
			if !ok {
				return usageErrorf("%q: want kind/name, such as issuer/acme", args[0])
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			p, err := cl.RegisterPlugin(cmd.Context(), k, n)
			if err != nil {
				return err
			}
			return a.emit(p, func(t *table) {
				details(t, "KIND", p.Kind, "NAME", p.Name, "VERSION", p.Version, "STATUS", p.Status, "SHA256", p.SHA256,
					"REGISTERED", fmtTimePtr(p.RegisteredAt))
			})
		},
	}
	c.AddCommand(schema, register)
	return c
}
