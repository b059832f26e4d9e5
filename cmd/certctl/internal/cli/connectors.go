package cli

// connectors.go: certctl issuers, targets and notifiers — connector
// instances, which share a shape (name, type, config checked by the
// plugin's schema, secret fields never returned) and so share their
// commands here.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// connView is what the commands need of an issuer, target or notifier.
type connView struct {
	ID, Name, Type string
	AgentID        *string // targets
	Enabled        *bool   // notifiers
	Config         map[string]any
	SecretFields   []string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	raw            any // the API object, printed by -o json and yaml
}

// connChange is a create or update.
type connChange struct {
	Name    string
	Type    string
	AgentID *string
	Enabled *bool
	Config  map[string]any
}

// connOps adapts one connector kind's SDK calls.
type connOps struct {
	kind    string // the plugin kind: issuer, target, notifier
	plural  string
	short   string
	aliases []string
	example string // a create example
	list    func(ctx context.Context, cl *client.Client, typ, agentID string) ([]connView, error)
	get     func(ctx context.Context, ref string) (connView, error)
	create  func(ctx context.Context, cl *client.Client, ch connChange) (connView, error)
	update  func(ctx context.Context, cl *client.Client, id string, ch connChange) (connView, error)
	delete  func(ctx context.Context, cl *client.Client, id string) error
	names   func(ctx context.Context, cl *client.Client, prefix string) ([]string, error)
}

func issuerView(v *api.Issuer) connView {
	return connView{ID: v.ID, Name: v.Name, Type: v.Type, Config: v.Config, SecretFields: v.SecretFields,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, raw: v}
}

func targetView(v *api.Target) connView {
	return connView{ID: v.ID, Name: v.Name, Type: v.Type, AgentID: v.AgentID, Config: v.Config, SecretFields: v.SecretFields,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, raw: v}
}

func notifierView(v *api.Notifier) connView {
	return connView{ID: v.ID, Name: v.Name, Type: v.Type, Enabled: &v.Enabled, Config: v.Config, SecretFields: v.SecretFields,
		CreatedAt: v.CreatedAt, UpdatedAt: v.UpdatedAt, raw: v}
}

// viewOf turns a call's reply into a connView, passing its error through:
// viewOf(issuerView)(cl.CreateIssuer(ctx, req)).
func viewOf[T any](view func(*T) connView) func(*T, error) (connView, error) {
	return func(v *T, err error) (connView, error) {
		if err != nil {
			return connView{}, err
		}
		return view(v), nil
	}
}

func views[T any](items []T, view func(*T) connView) []connView {
	out := make([]connView, len(items))
	for i := range items {
		out[i] = view(&items[i])
	}
	return out
}

func (a *app) issuersCommand() *cobra.Command {
	return a.connectorCommand(connOps{
		kind: "issuer", plural: "issuers", short: "Manage issuers (certificate authorities)", aliases: []string{"issuer"},
		example: `certctl issuers create corp-ca --type local --set ca_key_type=ecdsa-p384 --set validity=30d`,
		list: func(ctx context.Context, cl *client.Client, typ, _ string) ([]connView, error) {
			items, err := collect(cl.AllIssuers(ctx, client.IssuerListOptions{Type: typ, Limit: 500}), 0)
			return views(items, issuerView), err
		},
		get: func(ctx context.Context, ref string) (connView, error) {
			return viewOf(issuerView)(a.getIssuer(ctx, ref))
		},
		create: func(ctx context.Context, cl *client.Client, ch connChange) (connView, error) {
			return viewOf(issuerView)(cl.CreateIssuer(ctx, api.IssuerRequest{Name: ch.Name, Type: ch.Type, Config: ch.Config}))
		},
		update: func(ctx context.Context, cl *client.Client, id string, ch connChange) (connView, error) {
			return viewOf(issuerView)(cl.UpdateIssuer(ctx, id, api.IssuerRequest{Name: ch.Name, Type: ch.Type, Config: ch.Config}))
		},
		delete: func(ctx context.Context, cl *client.Client, id string) error { return cl.DeleteIssuer(ctx, id) },
		names:  issuerNames,
	})
}

func (a *app) targetsCommand() *cobra.Command {
	return a.connectorCommand(connOps{
		kind: "target", plural: "targets", short: "Manage deployment targets", aliases: []string{"target"},
		example: `certctl targets create web-1-nginx --type nginx --agent web-1 \
    --set certificate_path=/etc/nginx/tls/web.crt --set key_path=/etc/nginx/tls/web.key`,
		list: func(ctx context.Context, cl *client.Client, typ, agentID string) ([]connView, error) {
			items, err := collect(cl.AllTargets(ctx, client.TargetListOptions{Type: typ, AgentID: agentID, Limit: 500}), 0)
			return views(items, targetView), err
		},
		get: func(ctx context.Context, ref string) (connView, error) {
			return viewOf(targetView)(a.getTarget(ctx, ref))
		},
		create: func(ctx context.Context, cl *client.Client, ch connChange) (connView, error) {
			return viewOf(targetView)(cl.CreateTarget(ctx, api.TargetRequest{Name: ch.Name, Type: ch.Type, AgentID: ch.AgentID, Config: ch.Config}))
		},
		update: func(ctx context.Context, cl *client.Client, id string, ch connChange) (connView, error) {
			return viewOf(targetView)(cl.UpdateTarget(ctx, id, api.TargetRequest{Name: ch.Name, Type: ch.Type, AgentID: ch.AgentID, Config: ch.Config}))
		},
		delete: func(ctx context.Context, cl *client.Client, id string) error { return cl.DeleteTarget(ctx, id) },
		names:  targetNames,
	})
}

func (a *app) notifiersCommand() *cobra.Command {
	c := a.connectorCommand(connOps{
		kind: "notifier", plural: "notifiers", short: "Manage notifiers (e-mail, webhooks, chat, paging)", aliases: []string{"notifier"},
		example: `certctl notifiers create ops-hook --type webhook --set url=https://hooks.example.com/certctl \
    --set-file secret=/run/secrets/hook-secret`,
		list: func(ctx context.Context, cl *client.Client, typ, _ string) ([]connView, error) {
			items, err := collect(cl.AllNotifiers(ctx, client.NotifierListOptions{Type: typ, Limit: 500}), 0)
			return views(items, notifierView), err
		},
		get: func(ctx context.Context, ref string) (connView, error) {
			return viewOf(notifierView)(a.getNotifier(ctx, ref))
		},
		create: func(ctx context.Context, cl *client.Client, ch connChange) (connView, error) {
			return viewOf(notifierView)(cl.CreateNotifier(ctx, api.NotifierRequest{Name: ch.Name, Type: ch.Type, Enabled: ch.Enabled, Config: ch.Config}))
		},
		update: func(ctx context.Context, cl *client.Client, id string, ch connChange) (connView, error) {
			return viewOf(notifierView)(cl.UpdateNotifier(ctx, id, api.NotifierRequest{Name: ch.Name, Type: ch.Type, Enabled: ch.Enabled, Config: ch.Config}))
		},
		delete: func(ctx context.Context, cl *client.Client, id string) error { return cl.DeleteNotifier(ctx, id) },
		names:  notifierNames,
	})
	c.AddCommand(&cobra.Command{
		Use:               "test NAME|ID",
		Short:             "Send a test notification through a notifier",
		Example:           `  certctl notifiers test ops-hook`,
		Args:              exactArgs(1, "a notifier name or id"),
		ValidArgsFunction: a.completeNames(notifierNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			n, err := a.getNotifier(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			res, err := cl.TestNotifier(cmd.Context(), n.ID)
			if err != nil {
				return err
			}
			return a.emit(res, func(t *table) {
				details(t, "NOTIFIER", n.Name, "DELIVERED", fmtBool(res.Delivered), "MESSAGE ID", res.MessageID)
			})
		},
	})
	return c
}

// connectorCommand builds list, get, create, update and delete for one
// connector kind.
func (a *app) connectorCommand(ops connOps) *cobra.Command {
	c := group(ops.plural, ops.short, ops.aliases...)
	nameArg := a.completeNames(ops.names)
	typeCompletion := func(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		cl, err := a.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		l, err := cl.ListPlugins(cmd.Context())
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, p := range l.Items {
			if p.Kind == ops.kind {
				out = append(out, cobra.CompletionWithDesc(p.Name, p.Description))
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}

	printOne := func(ctx context.Context, v connView) error {
		agent := deref(v.AgentID)
		if agent != "" && a.output == "table" {
			if g, err := a.getAgent(ctx, agent); err == nil {
				agent = g.Name
			}
		}
		return a.emit(v.raw, func(t *table) {
			pairs := []string{"ID", v.ID, "NAME", v.Name, "TYPE", v.Type}
			if ops.kind == "target" {
				pairs = append(pairs, "AGENT", agent)
			}
			if v.Enabled != nil {
				pairs = append(pairs, "ENABLED", fmtBool(*v.Enabled))
			}
			pairs = append(pairs, "SECRET FIELDS", strings.Join(v.SecretFields, ","), "CREATED", fmtTime(v.CreatedAt), "UPDATED", fmtTime(v.UpdatedAt))
			details(t, pairs...)
			for _, k := range sortedKeys(v.Config) {
				t.row("config."+k, configValue(v.Config[k]))
			}
		})
	}

	// list
	var listType, listAgent string
	var listLimit int
	list := &cobra.Command{
		Use:     "list",
		Short:   "List " + ops.plural,
		Example: "  certctl " + ops.plural + " list",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cl, err := a.client()
			if err != nil {
				return err
			}
			agentID, err := optionalID(ctx, listAgent, a.getAgent, func(v *api.Agent) string { return v.ID })
			if err != nil {
				return err
			}
			items, err := ops.list(ctx, cl, listType, agentID)
			if err != nil {
				return err
			}
			if listLimit > 0 && len(items) > listLimit {
				items = items[:listLimit]
			}
			raws := make([]any, len(items))
			for i, v := range items {
				raws[i] = v.raw
			}
			var agents map[string]string
			if ops.kind == "target" && a.output == "table" {
				agents = map[string]string{}
				for g, err := range cl.AllAgents(ctx, client.AgentListOptions{Limit: 500}) {
					if err != nil {
						break
					}
					agents[g.ID] = g.Name
				}
			}
			return a.emit(raws, func(t *table) {
				header := []string{"NAME", "TYPE"}
				if ops.kind == "target" {
					header = append(header, "AGENT")
				}
				if ops.kind == "notifier" {
					header = append(header, "ENABLED")
				}
				t.row(append(header, "ID", "UPDATED")...)
				for _, v := range items {
					r := []string{v.Name, v.Type}
					if ops.kind == "target" {
						r = append(r, nameOr(agents, deref(v.AgentID)))
					}
					if v.Enabled != nil {
						r = append(r, fmtBool(*v.Enabled))
					}
					t.row(append(r, v.ID, fmtTime(v.UpdatedAt))...)
				}
			})
		},
	}
	list.Flags().StringVar(&listType, "type", "", "only "+ops.plural+" of this plugin type")
	list.Flags().IntVar(&listLimit, "limit", 0, "list at most this many (0: all)")
	_ = list.RegisterFlagCompletionFunc("type", typeCompletion)
	if ops.kind == "target" {
		list.Flags().StringVar(&listAgent, "agent", "", "only targets bound to this agent (name or id)")
		_ = list.RegisterFlagCompletionFunc("agent", a.flagNames(agentNames))
	}

	get := &cobra.Command{
		Use:               "get NAME|ID",
		Short:             "Show a " + ops.kind + " (secret fields are never shown)",
		Example:           "  certctl " + ops.plural + " get NAME",
		Args:              exactArgs(1, "a "+ops.kind+" name or id"),
		ValidArgsFunction: nameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := ops.get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return printOne(cmd.Context(), v)
		},
	}

	// create and update share the configuration flags.
	type changeFlags struct {
		typ, agent, configFile, rename string
		noAgent, enabled, disabled     bool
		set, setFile, unset            []string
	}
	addConfigFlags := func(cmd *cobra.Command, o *changeFlags) {
		f := cmd.Flags()
		f.StringArrayVar(&o.set, "set", nil, "configuration field key=value, typed by the plugin's schema (repeatable)")
		f.StringArrayVar(&o.setFile, "set-file", nil, "configuration field key=path: the file's content (for secrets and PEM) (repeatable)")
		f.StringVar(&o.configFile, "config-file", "", "configuration as a YAML or JSON object (--set and --set-file override its fields)")
		if ops.kind == "target" {
			f.StringVar(&o.agent, "agent", "", "the agent that deploys to this target (name or id)")
			_ = cmd.RegisterFlagCompletionFunc("agent", a.flagNames(agentNames))
		}
		if ops.kind == "notifier" {
			f.BoolVar(&o.disabled, "disabled", false, "do not send notifications through it")
		}
	}
	buildChange := func(ctx context.Context, o *changeFlags, typ string) (connChange, error) {
		cfg, err := a.buildConfig(ctx, ops.kind, typ, o.configFile, o.set, o.setFile, o.unset)
		if err != nil {
			return connChange{}, err
		}
		ch := connChange{Type: typ, Config: cfg}
		if o.agent != "" {
			g, err := a.getAgent(ctx, o.agent)
			if err != nil {
				return connChange{}, err
			}
			ch.AgentID = &g.ID
		}
		return ch, nil
	}

	var co changeFlags
	create := &cobra.Command{
		Use:     "create NAME --type TYPE",
		Short:   "Create a " + ops.kind,
		Example: "  " + ops.example,
		Args:    exactArgs(1, "the "+ops.kind+"'s name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cl, err := a.client()
			if err != nil {
				return err
			}
			ch, err := buildChange(ctx, &co, co.typ)
			if err != nil {
				return err
			}
			ch.Name = args[0]
			if ops.kind == "notifier" {
				enabled := !co.disabled
				ch.Enabled = &enabled
			}
			v, err := ops.create(ctx, cl, ch)
			if err != nil {
				return err
			}
			return printOne(cmd.Context(), v)
		},
	}
	create.Flags().StringVar(&co.typ, "type", "", "the plugin type (required; certctl plugins lists them)")
	_ = create.MarkFlagRequired("type")
	_ = create.RegisterFlagCompletionFunc("type", typeCompletion)
	addConfigFlags(create, &co)

	var uo changeFlags
	update := &cobra.Command{
		Use:   "update NAME|ID",
		Short: "Change a " + ops.kind + ": configuration fields not given keep their values, secrets included",
		Example: "  certctl " + ops.plural + " update NAME --set key=value\n" +
			"  certctl " + ops.plural + " update NAME --unset key    # back to the field's default",
		Args:              exactArgs(1, "a "+ops.kind+" name or id"),
		ValidArgsFunction: nameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cur, err := ops.get(ctx, args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			ch, err := buildChange(ctx, &uo, cur.Type)
			if err != nil {
				return err
			}
			ch.Name = cur.Name
			if uo.rename != "" {
				ch.Name = uo.rename
			}
			if ops.kind == "target" && ch.AgentID == nil && !uo.noAgent {
				ch.AgentID = cur.AgentID // the API unbinds a target whose agent_id is left out
			}
			if ops.kind == "notifier" {
				switch {
				case uo.enabled && uo.disabled:
					return usageErrorf("--enabled and --disabled together")
				case uo.enabled:
					ch.Enabled = ptrTo(true)
				case uo.disabled:
					ch.Enabled = ptrTo(false)
				default:
					ch.Enabled = cur.Enabled
				}
			}
			v, err := ops.update(ctx, cl, cur.ID, ch)
			if err != nil {
				return err
			}
			return printOne(cmd.Context(), v)
		},
	}
	update.Flags().StringVar(&uo.rename, "name", "", "rename it")
	update.Flags().StringArrayVar(&uo.unset, "unset", nil, "return a configuration field to its default (repeatable)")
	addConfigFlags(update, &uo)
	if ops.kind == "target" {
		update.Flags().BoolVar(&uo.noAgent, "no-agent", false, "unbind the target from its agent")
	}
	if ops.kind == "notifier" {
		update.Flags().BoolVar(&uo.enabled, "enabled", false, "send notifications through it again")
	}

	del := &cobra.Command{
		Use:               "delete NAME|ID",
		Short:             "Delete a " + ops.kind,
		Example:           "  certctl " + ops.plural + " delete NAME",
		Args:              exactArgs(1, "a "+ops.kind+" name or id"),
		ValidArgsFunction: nameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			v, err := ops.get(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			if err := ops.delete(cmd.Context(), cl, v.ID); err != nil {
				return err
			}
			return a.emitDeleted(ops.kind, v.ID, v.Name)
		},
	}
	c.AddCommand(list, get, create, update, del)
	return c
}

func ptrTo[T any](v T) *T { return &v }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// configValue shows a configuration value in a table cell; a PEM block
// shows as its first line.
func configValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		if strings.HasPrefix(x, "-----BEGIN ") {
			first, _, _ := strings.Cut(x, "\n")
			return first + " ..."
		}
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(v)
}

// buildConfig makes a connector configuration from a file, --set,
// --set-file and --unset. Values of --set take the type the plugin's
// schema gives their field, so that `--set port=8443` is a number and
// `--set verify=false` a boolean; a field the schema does not know stays a
// string, and the server says what is wrong with it.
func (a *app) buildConfig(ctx context.Context, kind, typ, file string, set, setFile, unset []string) (map[string]any, error) {
	cfg := map[string]any{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--config-file: %w", err)
		}
		if len(bytes.TrimSpace(data)) > 0 {
			if err := yaml.Unmarshal(data, &cfg); err != nil {
				return nil, usageErrorf("--config-file %s: want a YAML or JSON object: %v", file, err)
			}
		}
	}
	var fields map[string]string
	if len(set) > 0 {
		var err error
		if fields, err = a.schemaTypes(ctx, kind, typ); err != nil {
			return nil, err
		}
	}
	for _, kv := range set {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--set %q: want key=value", kv)
		}
		val, err := typedValue(fields[k], v)
		if err != nil {
			return nil, usageErrorf("--set %s: %v", k, err)
		}
		cfg[k] = val
	}
	for _, kp := range setFile {
		k, p, ok := strings.Cut(kp, "=")
		if !ok || k == "" || p == "" {
			return nil, usageErrorf("--set-file %q: want key=path", kp)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("--set-file %s: %w", k, err)
		}
		s := string(data)
		if !strings.HasPrefix(s, "-----BEGIN ") {
			s = strings.TrimRight(s, "\r\n") // a secret file's final newline is not part of the secret
		}
		cfg[k] = s
	}
	for _, k := range unset {
		cfg[k] = nil
	}
	return cfg, nil
}

// schemaTypes returns the field types of a plugin's schema; an unknown
// plugin has none (the server refuses the type itself).
func (a *app) schemaTypes(ctx context.Context, kind, typ string) (map[string]string, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	l, err := cl.ListPlugins(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, p := range l.Items {
		if p.Kind == kind && p.Name == typ {
			for _, f := range p.Schema.Fields {
				out[f.Name] = f.Type
			}
		}
	}
	return out, nil
}

// typedValue converts a --set value to its schema type.
func typedValue(typ, v string) (any, error) {
	switch typ {
	case "int":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q is not a whole number", v)
		}
		return n, nil
	case "bool":
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, fmt.Errorf("%q is not true or false", v)
		}
		return b, nil
	case "string_list":
		if v == "" {
			return []string{}, nil
		}
		return strings.Split(v, ","), nil
	}
	return v, nil
}
