package cli

// policies.go: certctl policies (renewal policies), certctl rules
// (notification rules) and certctl keys (API keys).

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

func (a *app) policiesCommand() *cobra.Command {
	c := group("policies", "Manage renewal policies", "policy", "renewal-policies")
	nameArg := a.completeNames(policyNames)

	printOne := func(p *api.RenewalPolicy) error {
		return a.emit(p, func(t *table) {
			details(t,
				"ID", p.ID,
				"NAME", p.Name,
				"MODE", p.Mode,
				"RENEW FRACTION", strconv.FormatFloat(p.RenewFraction, 'f', -1, 64),
				"DAYS BEFORE EXPIRY", strconv.Itoa(p.DaysBeforeExpiry),
				"JITTER FRACTION", strconv.FormatFloat(p.JitterFraction, 'f', -1, 64),
				"REUSE KEY", fmtBool(p.ReuseKey),
				"USE ISSUER WINDOW", fmtBool(p.UseIssuerWindow),
				"DEFAULT", fmtBool(p.IsDefault),
				"CREATED", fmtTime(p.CreatedAt),
				"UPDATED", fmtTime(p.UpdatedAt),
			)
		})
	}
	var limit int
	list := &cobra.Command{
		Use:     "list",
		Short:   "List renewal policies",
		Example: `  certctl policies list`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			items, err := collect(cl.AllRenewalPolicies(cmd.Context(), client.ListOptions{Limit: 500}), limit)
			if err != nil {
				return err
			}
			return a.emit(items, func(t *table) {
				t.row("NAME", "MODE", "RENEW AT", "JITTER", "DEFAULT", "ID")
				for _, p := range items {
					when := fmt.Sprintf("%.3g%% of lifetime left", p.RenewFraction*100)
					if p.Mode == "days_before" {
						when = strconv.Itoa(p.DaysBeforeExpiry) + " days before expiry"
					}
					t.row(p.Name, p.Mode, when, strconv.FormatFloat(p.JitterFraction, 'f', -1, 64), fmtBool(p.IsDefault), p.ID)
				}
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 0, "list at most this many (0: all)")

	get := &cobra.Command{
		Use: "get NAME|ID", Short: "Show a renewal policy", Example: `  certctl policies get default`,
		Args: exactArgs(1, "a policy name or id"), ValidArgsFunction: nameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.getPolicy(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printOne(p)
		},
	}

	// policyFlags are the fields of a policy; update starts from the
	// current values and changes those given (PUT replaces the policy).
	type policyFlags struct {
		mode                              string
		fraction, jitter                  float64
		days                              int
		reuseKey, issuerWindow, isDefault bool
	}
	addFlags := func(cmd *cobra.Command, o *policyFlags) {
		f := cmd.Flags()
		f.StringVar(&o.mode, "mode", "fraction", "fraction (renew when this fraction of the lifetime remains) or days_before")
		f.Float64Var(&o.fraction, "renew-fraction", 0.33, "with --mode fraction: the fraction of the lifetime left when renewal starts")
		f.IntVar(&o.days, "days-before", 30, "with --mode days_before: days before expiry when renewal starts")
		f.Float64Var(&o.jitter, "jitter", 0.05, "fraction of the lifetime to spread renewals over")
		f.BoolVar(&o.reuseKey, "reuse-key", false, "renew with the same key")
		f.BoolVar(&o.issuerWindow, "use-issuer-window", true, "follow the CA's suggested renewal window (ACME ARI) when it gives one")
		f.BoolVar(&o.isDefault, "default", false, "make it the default policy")
		_ = cmd.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"fraction", "days_before"}, cobra.ShellCompDirectiveNoFileComp))
	}
	toRequest := func(name string, o *policyFlags) api.RenewalPolicyRequest {
		r := api.RenewalPolicyRequest{Name: name, Mode: o.mode, JitterFraction: &o.jitter, ReuseKey: o.reuseKey,
			UseIssuerWindow: &o.issuerWindow, IsDefault: o.isDefault}
		if o.mode == "days_before" {
			r.DaysBeforeExpiry = o.days
		} else {
			r.RenewFraction = o.fraction
		}
		return r
	}

	var co policyFlags
	create := &cobra.Command{
		Use: "create NAME", Short: "Create a renewal policy",
		Example: `  certctl policies create short-lived --mode days_before --days-before 10
  certctl policies create half --renew-fraction 0.5 --default`,
		Args: exactArgs(1, "the policy's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			p, err := cl.CreateRenewalPolicy(cmd.Context(), toRequest(args[0], &co))
			if err != nil {
				return err
			}
			return printOne(p)
		},
	}
	addFlags(create, &co)

	var uo policyFlags
	var rename string
	update := &cobra.Command{
		Use: "update NAME|ID", Short: "Change a renewal policy (fields not given keep their values)",
		Example: `  certctl policies update short-lived --days-before 14`,
		Args:    exactArgs(1, "a policy name or id"), ValidArgsFunction: nameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cur, err := a.getPolicy(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			f := cmd.Flags()
			o := policyFlags{mode: cur.Mode, fraction: cur.RenewFraction, jitter: cur.JitterFraction, days: cur.DaysBeforeExpiry,
				reuseKey: cur.ReuseKey, issuerWindow: cur.UseIssuerWindow, isDefault: cur.IsDefault}
			if f.Changed("mode") {
				o.mode = uo.mode
			}
			if f.Changed("renew-fraction") {
				o.fraction = uo.fraction
			}
			if f.Changed("days-before") {
				o.days = uo.days
			}
			if f.Changed("jitter") {
				o.jitter = uo.jitter
			}
			if f.Changed("reuse-key") {
				o.reuseKey = uo.reuseKey
			}
			if f.Changed("use-issuer-window") {
				o.issuerWindow = uo.issuerWindow
			}
			if f.Changed("default") {
				o.isDefault = uo.isDefault
			}
			name := cur.Name
			if rename != "" {
				name = rename
			}
			cl, _ := a.client()
			p, err := cl.UpdateRenewalPolicy(cmd.Context(), cur.ID, toRequest(name, &o))
			if err != nil {
				return err
			}
			return printOne(p)
		},
	}
	addFlags(update, &uo)
	update.Flags().StringVar(&rename, "name", "", "rename it")

	del := &cobra.Command{
		Use: "delete NAME|ID", Short: "Delete a renewal policy", Example: `  certctl policies delete short-lived`,
		Args: exactArgs(1, "a policy name or id"), ValidArgsFunction: nameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := a.getPolicy(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			if err := cl.DeleteRenewalPolicy(cmd.Context(), p.ID); err != nil {
				return err
			}
			return a.emitDeleted("renewal policy", p.ID, p.Name)
		},
	}
	c.AddCommand(list, get, create, update, del)
	return c
}

// ruleEvents are the events a notification rule can route (docs/api.md).
var ruleEvents = []string{"certificate.expiring", "certificate.issued", "certificate.renewed", "certificate.renewal_failed",
	"certificate.revoked", "deployment.failed", "agent.offline"}

func (a *app) rulesCommand() *cobra.Command {
	c := group("rules", "Manage notification rules (which events go to which notifier)", "rule", "notification-rules")
	ruleNames := func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return a.completeNames(func(ctx context.Context, cl *client.Client, _ string) ([]string, error) {
			l, err := cl.ListNotificationRules(ctx, client.ListOptions{Limit: completionLimit})
			return pageNames(l, err, func(v api.NotificationRule) string { return v.Name })
		})(cmd, args, toComplete)
	}
	notifierName := func(ctx context.Context, id string) string {
		if n, err := a.getNotifier(ctx, id); err == nil {
			return n.Name
		}
		return id
	}
	printOne := func(ctx context.Context, r *api.NotificationRule) error {
		notifier := r.NotifierID
		if a.output == "table" {
			notifier = notifierName(ctx, r.NotifierID)
		}
		return a.emit(r, func(t *table) {
			details(t,
				"ID", r.ID,
				"NAME", r.Name,
				"NOTIFIER", notifier,
				"EVENTS", joinComma(r.Events),
				"EXPIRY DAYS", fmtInts(r.ExpiryDays),
				"CERTIFICATE LABELS", fmtLabels(r.CertificateLabels),
				"ENABLED", fmtBool(r.Enabled),
				"CREATED", fmtTime(r.CreatedAt),
				"UPDATED", fmtTime(r.UpdatedAt),
			)
		})
	}
	var limit int
	list := &cobra.Command{
		Use: "list", Short: "List notification rules", Example: `  certctl rules list`, Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			items, err := collect(cl.AllNotificationRules(cmd.Context(), client.ListOptions{Limit: 500}), limit)
			if err != nil {
				return err
			}
			names := map[string]string{}
			if a.output == "table" {
				for n, err := range cl.AllNotifiers(cmd.Context(), client.NotifierListOptions{Limit: 500}) {
					if err != nil {
						break
					}
					names[n.ID] = n.Name
				}
			}
			return a.emit(items, func(t *table) {
				t.row("NAME", "NOTIFIER", "EVENTS", "ENABLED", "ID")
				for _, r := range items {
					t.row(r.Name, nameOr(names, r.NotifierID), joinComma(r.Events), fmtBool(r.Enabled), r.ID)
				}
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 0, "list at most this many (0: all)")

	get := &cobra.Command{
		Use: "get NAME|ID", Short: "Show a notification rule", Example: `  certctl rules get expiring-to-ops`,
		Args: exactArgs(1, "a rule name or id"), ValidArgsFunction: ruleNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.getRule(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printOne(cmd.Context(), r)
		},
	}

	type ruleFlags struct {
		notifier          string
		events, labels    []string
		expiryDays        []int
		enabled, disabled bool
	}
	addFlags := func(cmd *cobra.Command, o *ruleFlags) {
		f := cmd.Flags()
		f.StringVar(&o.notifier, "notifier", "", "the notifier to send through (name or id)")
		f.StringArrayVar(&o.events, "event", nil, "event to send: "+strings.Join(ruleEvents, ", ")+" (repeatable)")
		_ = cmd.RegisterFlagCompletionFunc("event", cobra.FixedCompletions(ruleEvents, cobra.ShellCompDirectiveNoFileComp))
		f.IntSliceVar(&o.expiryDays, "expiry-days", nil, "days before expiry to warn at (default 30,14,7,1)")
		f.StringArrayVar(&o.labels, "cert-label", nil, "only certificates with this label key=value (repeatable)")
		f.BoolVar(&o.disabled, "disabled", false, "keep the rule but send nothing")
		_ = cmd.RegisterFlagCompletionFunc("notifier", a.flagNames(notifierNames))
	}

	var co ruleFlags
	create := &cobra.Command{
		Use: "create NAME --notifier NOTIFIER --event EVENT", Short: "Create a notification rule",
		Example: `  certctl rules create expiring-to-ops --notifier ops-hook --event certificate.expiring --expiry-days 14,3`,
		Args:    exactArgs(1, "the rule's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			labels, err := parseLabels("cert-label", co.labels)
			if err != nil {
				return err
			}
			n, err := a.getNotifier(ctx, co.notifier)
			if err != nil {
				return err
			}
			cl, _ := a.client()
			enabled := !co.disabled
			r, err := cl.CreateNotificationRule(ctx, api.NotificationRuleRequest{Name: args[0], NotifierID: n.ID, Events: co.events,
				ExpiryDays: co.expiryDays, CertificateLabels: labels, Enabled: &enabled})
			if err != nil {
				return err
			}
			return printOne(cmd.Context(), r)
		},
	}
	addFlags(create, &co)
	_ = create.MarkFlagRequired("notifier")

	var uo ruleFlags
	var rename string
	update := &cobra.Command{
		Use: "update NAME|ID", Short: "Change a notification rule (fields not given keep their values)",
		Example: `  certctl rules update expiring-to-ops --disabled`,
		Args:    exactArgs(1, "a rule name or id"), ValidArgsFunction: ruleNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cur, err := a.getRule(ctx, args[0])
			if err != nil {
				return err
			}
			f := cmd.Flags()
			req := api.NotificationRuleRequest{Name: cur.Name, NotifierID: cur.NotifierID, Events: cur.Events,
				ExpiryDays: cur.ExpiryDays, CertificateLabels: cur.CertificateLabels, Enabled: &cur.Enabled}
			if rename != "" {
				req.Name = rename
			}
			if f.Changed("notifier") {
				n, err := a.getNotifier(ctx, uo.notifier)
				if err != nil {
					return err
				}
				req.NotifierID = n.ID
			}
			if f.Changed("event") {
				req.Events = uo.events
			}
			if f.Changed("expiry-days") {
				req.ExpiryDays = uo.expiryDays
			}
			if f.Changed("cert-label") {
				if req.CertificateLabels, err = parseLabels("cert-label", uo.labels); err != nil {
					return err
				}
			}
			switch {
			case uo.enabled && uo.disabled:
				return usageErrorf("--enabled and --disabled together")
			case uo.enabled:
				req.Enabled = ptrTo(true)
			case uo.disabled:
				req.Enabled = ptrTo(false)
			}
			cl, _ := a.client()
			r, err := cl.UpdateNotificationRule(ctx, cur.ID, req)
			if err != nil {
				return err
			}
			return printOne(cmd.Context(), r)
		},
	}
	addFlags(update, &uo)
	update.Flags().BoolVar(&uo.enabled, "enabled", false, "send again")
	update.Flags().StringVar(&rename, "name", "", "rename it")

	del := &cobra.Command{
		Use: "delete NAME|ID", Short: "Delete a notification rule", Example: `  certctl rules delete expiring-to-ops`,
		Args: exactArgs(1, "a rule name or id"), ValidArgsFunction: ruleNames,
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := a.getRule(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			if err := cl.DeleteNotificationRule(cmd.Context(), r.ID); err != nil {
				return err
			}
			return a.emitDeleted("notification rule", r.ID, r.Name)
		},
	}
	c.AddCommand(list, get, create, update, del)
	return c
}

func (a *app) keysCommand() *cobra.Command {
	c := group("keys", "Manage API keys (admin)", "key", "api-keys")
	printOne := func(k *api.APIKey) error {
		return a.emit(k, func(t *table) {
			pairs := []string{
				"ID", k.ID,
				"NAME", k.Name,
				"ROLE", k.Role,
				"PREFIX", k.Prefix,
				"EXPIRES", fmtTimePtr(k.ExpiresAt),
				"REVOKED", fmtTimePtr(k.RevokedAt),
				"LAST USED", fmtTimePtr(k.LastUsedAt),
				"CREATED BY", k.CreatedBy,
				"CREATED", fmtTime(k.CreatedAt),
			}
			if k.Key != "" {
				pairs = append(pairs, "KEY", k.Key)
			}
			details(t, pairs...)
		})
	}
	var limit int
	list := &cobra.Command{
		Use: "list", Short: "List API keys, newest first (without their secrets)", Example: `  certctl keys list`, Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			items, err := collect(cl.AllAPIKeys(cmd.Context(), client.ListOptions{Limit: 500}), limit)
			if err != nil {
				return err
			}
			return a.emit(items, func(t *table) {
				t.row("NAME", "ROLE", "PREFIX", "EXPIRES", "REVOKED", "LAST USED", "ID")
				for _, k := range items {
					t.row(k.Name, k.Role, k.Prefix, fmtTimePtr(k.ExpiresAt), fmtTimePtr(k.RevokedAt), fmtTimePtr(k.LastUsedAt), k.ID)
				}
			})
		},
	}
	list.Flags().IntVar(&limit, "limit", 0, "list at most this many (0: all)")

	get := &cobra.Command{
		Use: "get NAME|ID", Short: "Show an API key (without its secret)", Example: `  certctl keys get ci`,
		Args: exactArgs(1, "a key name or id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := a.getAPIKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printOne(k)
		},
	}

	var (
		role, expiresIn, keyFile string
	)
	create := &cobra.Command{
		Use:   "create NAME --role ROLE",
		Short: "Create an API key; its secret is shown once (or written to --key-file)",
		Example: `  certctl keys create ci --role operator --expires-in 90d
  certctl keys create ci --role operator --key-file ~/.certctl-ci-key`,
		Args: exactArgs(1, "the key's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.APIKeyRequest{Name: args[0], Role: role}
			if expiresIn != "" {
				d, err := parseDuration(expiresIn)
				if err != nil || d <= 0 {
					return usageErrorf("--expires-in %q: want a positive duration (90d, 12h)", expiresIn)
				}
				t := time.Now().Add(d).UTC().Truncate(time.Second)
				req.ExpiresAt = &t
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			k, err := cl.CreateAPIKey(cmd.Context(), req)
			if err != nil {
				return err
			}
			if keyFile != "" {
				if err := writeNewFile(keyFile, []byte(k.Key+"\n"), 0o600); err != nil {
					return fmt.Errorf("API key %s was created but not saved: %w", k.ID, err)
				}
				k.Key = ""
			}
			return printOne(k)
		},
	}
	create.Flags().StringVar(&role, "role", "", "viewer, operator or admin (required)")
	create.Flags().StringVar(&expiresIn, "expires-in", "", "expire after this long (90d, 12h; default never)")
	create.Flags().StringVar(&keyFile, "key-file", "", "write the key to this new file (mode 0600) instead of printing it")
	_ = create.MarkFlagRequired("role")
	_ = create.RegisterFlagCompletionFunc("role", cobra.FixedCompletions([]string{"viewer", "operator", "admin"}, cobra.ShellCompDirectiveNoFileComp))

	revoke := &cobra.Command{
		Use: "revoke NAME|ID", Aliases: []string{"delete"}, Short: "Revoke an API key", Example: `  certctl keys revoke ci`,
		Args: exactArgs(1, "a key name or id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			k, err := a.getAPIKey(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			k, err = cl.RevokeAPIKey(cmd.Context(), k.ID)
			if err != nil {
				return err
			}
			return printOne(k)
		},
	}
	c.AddCommand(list, get, create, revoke)
	return c
}
