package console

// Issuers and plugins, and the create form generated from an issuer
// plugin's configuration schema.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
)

type pluginsData struct {
	Items []core.PluginStatus
}

func (pluginsData) title() (string, string) { return "Plugins", "plugins" }

func (c *Console) plugins(w http.ResponseWriter, r *http.Request) {
	items, err := c.svc.ListPlugins(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "plugins", pluginsData{Items: items})
}

type issuersData struct {
	Items []core.Issuer
	Next  string
	First string
}

func (issuersData) title() (string, string) { return "Issuers", "issuers" }

func (c *Console) issuers(w http.ResponseWriter, r *http.Request) {
	after, err := queryID(r, "after")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	items, more, err := c.svc.ListIssuers(r.Context(), core.IssuerFilter{Page: core.Page{Limit: c.perPage, After: after}})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := issuersData{Items: items}
	if more {
		d.Next = withQuery(r, "after", items[len(items)-1].ID.String())
	}
	if after != nil {
		d.First = withQuery(r, "after", "")
	}
	c.render(w, r, http.StatusOK, "issuers", d)
}

// formField is a schema field as the form shows it.
type formField struct {
	plugin.Field
	ID    string
	Input string // text, number, password, checkbox, select, textarea
	Value string // what the user entered (never for sensitive fields)
	Check bool
	Set   bool // a sensitive field that has a stored value (editing)
}

type connectorFormData struct {
	ID      string // set when editing
	Kind    plugin.Kind
	Path    string              // "/issuers", "/targets" or "/notifiers"
	Types   []core.PluginStatus // plugins of the kind to choose from
	Type    string
	Name    string
	Agents  []core.Agent // targets: the agents to choose from
	Agent   string
	Enabled bool // notifiers
	Fields  []formField
	Error   string
}

func (d connectorFormData) title() (string, string) {
	if d.ID != "" {
		return "Edit " + string(d.Kind) + " " + d.Name, strings.TrimPrefix(d.Path, "/")
	}
	return "New " + string(d.Kind), strings.TrimPrefix(d.Path, "/")
}

// connectorKinds maps the console's connector paths to plugin kinds.
var connectorKinds = map[string]plugin.Kind{"issuers": plugin.KindIssuer, "targets": plugin.KindTarget,
	"notifiers": plugin.KindNotifier}

// kindPlugins returns the plugins of a kind the server runs.
func (c *Console) kindPlugins(r *http.Request, kind plugin.Kind) ([]core.PluginStatus, error) {
	all, err := c.svc.ListPlugins(r.Context())
	if err != nil {
		return nil, err
	}
	var out []core.PluginStatus
	for _, p := range all {
		if p.Kind == string(kind) {
			out = append(out, p)
		}
	}
	return out, nil
}

// pluginSchema decodes the configuration schema a plugin declared, which
// the server keeps as the plugin SDK encoded it.
func pluginSchema(p core.PluginStatus) (plugin.Schema, error) {
	var s plugin.Schema
	if len(p.Schema) == 0 {
		return s, nil
	}
	if err := json.Unmarshal(p.Schema, &s); err != nil {
		return s, fmt.Errorf("plugin %s %q: decode its schema: %w", p.Kind, p.Name, err)
	}
	return s, nil
}

// formFields lays out a schema as form inputs, with the values the user
// entered (sensitive ones are never sent back to the browser).
func formFields(s plugin.Schema, r *http.Request, current map[string]any, sealed []string) []formField {
	var out []formField
	for _, f := range s.Fields {
		ff := formField{Field: f, ID: "cfg-" + f.Name}
		pem := strings.HasSuffix(f.Name, "_pem")
		switch {
		case f.Sensitive && !pem:
			ff.Input = "password"
		case pem || f.Type == plugin.TypeStringList:
			// PEM spans lines, which a password input cannot hold; a
			// secret one is still never filled back in.
			ff.Input = "textarea"
		case len(f.Enum) > 0:
			ff.Input = "select"
		case f.Type == plugin.TypeBool:
			ff.Input = "checkbox"
		case f.Type == plugin.TypeInt:
			ff.Input = "number"
		default:
			ff.Input = "text"
		}
		ff.Set = slices.Contains(sealed, f.Name)
		if v, ok := current[f.Name]; ok && r.Method != http.MethodPost && !f.Sensitive {
			if b, ok := v.(bool); ok {
				ff.Check = b
			} else {
				ff.Value = defaultText(v)
			}
		} else if r.Method == http.MethodPost && !f.Sensitive {
			ff.Value = r.PostFormValue("cfg." + f.Name)
			ff.Check = ff.Value != ""
		} else if f.Default != nil && !f.Sensitive {
			if b, ok := f.Default.(bool); ok {
				ff.Check = b
			} else {
				ff.Value = defaultText(f.Default)
			}
		}
		out = append(out, ff)
	}
	return out
}

func defaultText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []any:
		var lines []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				lines = append(lines, s)
			}
		}
		return strings.Join(lines, "\n")
	case []string:
		return strings.Join(x, "\n")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return ""
}

// configFrom reads a schema form into a configuration: empty optional
// fields are left out (the plugin applies its defaults).
func configFrom(s plugin.Schema, r *http.Request) (map[string]any, error) {
	cfg := map[string]any{}
	for _, f := range s.Fields {
		raw := strings.TrimSpace(r.PostFormValue("cfg." + f.Name))
		if f.Type == plugin.TypeBool {
			cfg[f.Name] = raw != ""
			continue
		}
		if raw == "" {
			continue
		}
		switch f.Type {
		case plugin.TypeInt:
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil {
				return nil, core.Invalid(f.Name, "%q is not a whole number", raw)
			}
			cfg[f.Name] = n
		case plugin.TypeStringList:
			var list []string
			for _, line := range strings.Split(raw, "\n") {
				if line = strings.TrimSpace(line); line != "" {
					list = append(list, line)
				}
			}
			cfg[f.Name] = list
		default:
			cfg[f.Name] = raw
		}
	}
	return cfg, nil
}

// newConnector shows the form that creates an issuer, target or notifier:
// first the plugin to use, then the fields of its schema.
func (c *Console) newConnector(w http.ResponseWriter, r *http.Request) {
	c.connectorForm(w, r, http.StatusOK, "")
}

func (c *Console) connectorForm(w http.ResponseWriter, r *http.Request, status int, msg string) {
	section, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	kind, ok := connectorKinds[section]
	if !ok {
		c.notFound(w, r)
		return
	}
	types, err := c.kindPlugins(r, kind)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := connectorFormData{Kind: kind, Path: "/" + section, Types: types, Type: r.FormValue("type"),
		Name: strings.TrimSpace(r.FormValue("name")), Agent: r.FormValue("agent_id"), Error: msg,
		Enabled: r.Method != http.MethodPost || r.PostFormValue("enabled") != ""}
	var current map[string]any
	var sealed []string
	if r.PathValue("id") != "" {
		st, err := c.storedConnector(r, kind)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.ID, d.Type, current, sealed = st.id, st.typ, st.config, st.sealed
		if r.Method != http.MethodPost {
			d.Name, d.Agent, d.Enabled = st.name, st.agent, st.enabled
		}
	}
	if kind == plugin.KindTarget {
		if d.Agents, _, err = c.svc.ListAgents(r.Context(), core.AgentFilter{Page: core.Page{Limit: core.MaxPageLimit}}); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	if d.Type != "" {
		i := slices.IndexFunc(types, func(p core.PluginStatus) bool { return p.Name == d.Type })
		if i < 0 {
			c.fail(w, r, core.Invalid("type", "there is no %s plugin %q", kind, d.Type))
			return
		}
		schema, err := pluginSchema(types[i])
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.Fields = formFields(schema, r, current, sealed)
	}
	c.render(w, r, status, "connector_new", d)
}

func (c *Console) createConnector(w http.ResponseWriter, r *http.Request) {
	section, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	kind, ok := connectorKinds[section]
	if !ok {
		c.notFound(w, r)
		return
	}
	types, err := c.kindPlugins(r, kind)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	typ := r.PostFormValue("type")
	var id *uuid.UUID
	if r.PathValue("id") != "" {
		st, err := c.storedConnector(r, kind)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		u := uuid.MustParse(st.id)
		id, typ = &u, st.typ
	}
	i := slices.IndexFunc(types, func(p core.PluginStatus) bool { return p.Name == typ })
	if i < 0 {
		c.fail(w, r, core.Invalid("type", "there is no %s plugin %q", kind, typ))
		return
	}
	schema, err := pluginSchema(types[i])
	if err != nil {
		c.fail(w, r, err)
		return
	}
	name := strings.TrimSpace(r.PostFormValue("name"))
	cfg, err := configFrom(schema, r)
	if err == nil {
		switch kind {
		case plugin.KindIssuer:
			in := service.IssuerInput{Name: name, Type: typ, Config: cfg}
			if id != nil {
				_, err = c.svc.UpdateIssuer(r.Context(), *id, in)
			} else {
				_, err = c.svc.CreateIssuer(r.Context(), in)
			}
		case plugin.KindTarget:
			in := service.TargetInput{Name: name, Type: typ, Config: cfg}
			if v := r.PostFormValue("agent_id"); v != "" {
				id, perr := uuid.Parse(v)
				if perr != nil {
					err = core.Invalid("agent_id", "%q is not an agent id", v)
					break
				}
				in.AgentID = &id
			}
			if err == nil && id != nil {
				_, err = c.svc.UpdateTarget(r.Context(), *id, in)
			} else if err == nil {
				_, err = c.svc.CreateTarget(r.Context(), in)
			}
		case plugin.KindNotifier:
			enabled := r.PostFormValue("enabled") != ""
			in := service.NotifierInput{Name: name, Type: typ, Config: cfg, Enabled: &enabled}
			if id != nil {
				_, err = c.svc.UpdateNotifier(r.Context(), *id, in)
			} else {
				_, err = c.svc.CreateNotifier(r.Context(), in)
			}
		}
		if err == nil {
			done := " created."
			if id != nil {
				done = " saved."
			}
			c.back(w, r, "/"+section, strings.ToUpper(string(kind[:1]))+string(kind[1:])+" "+name+done)
			return
		}
	}
	if code := core.ErrorCode(err); code != core.EINVALID && code != core.ECONFLICT && code != core.ENOTFOUND {
		c.fail(w, r, err)
		return
	}
	c.connectorForm(w, r, http.StatusUnprocessableEntity, fieldMessage(err))
}

type targetsData struct {
	Items  []core.Target
	Agents map[string]string // agent names by id
	Next   string
	First  string
}

func (targetsData) title() (string, string) { return "Targets", "targets" }

func (c *Console) targets(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	after, err := queryID(r, "after")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	items, more, err := c.svc.ListTargets(ctx, core.TargetFilter{Page: core.Page{Limit: c.perPage, After: after}})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := targetsData{Items: items, Agents: map[string]string{}}
	for _, t := range items {
		if t.AgentID == nil {
			continue
		}
		id := t.AgentID.String()
		if _, ok := d.Agents[id]; ok {
			continue
		}
		d.Agents[id] = id[:8]
		if a, err := c.svc.GetAgent(ctx, *t.AgentID); err == nil {
			d.Agents[id] = a.Name
		}
	}
	if more {
		d.Next = withQuery(r, "after", items[len(items)-1].ID.String())
	}
	if after != nil {
		d.First = withQuery(r, "after", "")
	}
	c.render(w, r, http.StatusOK, "targets", d)
}

type notifiersData struct {
	Notifiers []core.Notifier
	Rules     []core.NotificationRule
	Names     map[string]string // notifier names by id
	Events    []string          // the events a rule may name
	Error     string            // why the new rule was refused
}

func (notifiersData) title() (string, string) { return "Notifiers and rules", "notifiers" }

func (c *Console) notifiers(w http.ResponseWriter, r *http.Request) {
	c.showNotifiers(w, r, http.StatusOK, "")
}

func (c *Console) showNotifiers(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	d := notifiersData{Names: map[string]string{}, Events: service.Events, Error: msg}
	var err error
	if d.Notifiers, _, err = c.svc.ListNotifiers(ctx, core.NotifierFilter{Page: core.Page{Limit: core.MaxPageLimit}}); err != nil {
		c.fail(w, r, err)
		return
	}
	for _, n := range d.Notifiers {
		d.Names[n.ID.String()] = n.Name
	}
	if d.Rules, _, err = c.svc.ListRules(ctx, core.Page{Limit: core.MaxPageLimit}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, status, "notifiers", d)
}

// createRule adds a notification rule from the form on the notifiers page.
func (c *Console) createRule(w http.ResponseWriter, r *http.Request) {
	in := service.NotificationRuleInput{Name: strings.TrimSpace(r.PostFormValue("name")), Events: r.PostForm["events"]}
	enabled := r.PostFormValue("enabled") != ""
	in.Enabled = &enabled
	notifier, err := uuid.Parse(r.PostFormValue("notifier_id"))
	if err != nil {
		c.showNotifiers(w, r, http.StatusUnprocessableEntity, "Choose a notifier.")
		return
	}
	in.NotifierID = notifier
	for _, f := range strings.FieldsFunc(r.PostFormValue("expiry_days"), func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil {
			c.showNotifiers(w, r, http.StatusUnprocessableEntity, "expiry_days: "+strconv.Quote(f)+" is not a number of days.")
			return
		}
		in.ExpiryDays = append(in.ExpiryDays, n)
	}
	if _, err := c.svc.CreateRule(r.Context(), in); err != nil {
		if code := core.ErrorCode(err); code != core.EINVALID && code != core.ECONFLICT && code != core.ENOTFOUND {
			c.fail(w, r, err)
			return
		}
		c.showNotifiers(w, r, http.StatusUnprocessableEntity, fieldMessage(err))
		return
	}
	c.back(w, r, "/notifiers", "Rule "+in.Name+" created.")
}

func (c *Console) deleteRule(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.svc.DeleteRule(r.Context(), id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/notifiers", "Rule deleted.")
}

// storedConnector is an existing issuer, target or notifier, as its edit
// form needs it.
type storedConnector struct {
	id, name, typ, agent string
	config               map[string]any
	sealed               []string // names of its stored sensitive fields
	enabled              bool
}

func (c *Console) storedConnector(r *http.Request, kind plugin.Kind) (storedConnector, error) {
	id, err := pathID(r)
	if err != nil {
		return storedConnector{}, err
	}
	ctx := r.Context()
	switch kind {
	case plugin.KindIssuer:
		x, err := c.svc.GetIssuer(ctx, id)
		return storedConnector{id: x.ID.String(), name: x.Name, typ: x.Type, config: x.Config, sealed: x.Secret.Fields}, err
	case plugin.KindTarget:
		x, err := c.svc.GetTarget(ctx, id)
		st := storedConnector{id: x.ID.String(), name: x.Name, typ: x.Type, config: x.Config, sealed: x.Secret.Fields}
		if x.AgentID != nil {
			st.agent = x.AgentID.String()
		}
		return st, err
	default:
		x, err := c.svc.GetNotifier(ctx, id)
		return storedConnector{id: x.ID.String(), name: x.Name, typ: x.Type, config: x.Config, sealed: x.Secret.Fields,
			enabled: x.Enabled}, err
	}
}

// deleteConnector deletes an issuer, target or notifier; the service
// refuses one still in use (an issuer with certificates, say) and says so.
func (c *Console) deleteConnector(w http.ResponseWriter, r *http.Request) {
	section, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	kind := connectorKinds[section]
	st, err := c.storedConnector(r, kind)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	id := uuid.MustParse(st.id)
	switch kind {
	case plugin.KindIssuer:
		err = c.svc.DeleteIssuer(r.Context(), id)
	case plugin.KindTarget:
		err = c.svc.DeleteTarget(r.Context(), id)
	default:
		err = c.svc.DeleteNotifier(r.Context(), id)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/"+section, strings.ToUpper(string(kind[:1]))+string(kind[1:])+" "+st.name+" deleted.")
}
