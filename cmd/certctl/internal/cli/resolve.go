package cli

// resolve.go finds resources by id or by name, so that people can write
// `certctl certs get www-example-com` rather than a UUID, and completes
// names for the shells.

import (
	"context"
	"fmt"
	"iter"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// isID says s is a resource id (a UUID) rather than a name.
func isID(s string) bool { return uuidPattern.MatchString(s) }

// byName walks a list for the one item called name. None is a not-found
// error (exit 3); two are an error that asks for the id.
func byName[T any](seq iter.Seq2[T, error], kind, name string, nameOf, idOf func(T) string) (T, error) {
	var found []T
	for it, err := range seq {
		if err != nil {
			var zero T
			return zero, err
		}
		if nameOf(it) == name {
			found = append(found, it)
		}
	}
	var zero T
	switch len(found) {
	case 0:
		return zero, notFoundErrorf("no %s named %q", kind, name)
	case 1:
		return found[0], nil
	}
	ids := make([]string, len(found))
	for i, f := range found {
		ids[i] = idOf(f)
	}
	return zero, fmt.Errorf("%d %ss are named %q: give the id (%s)", len(found), kind, name, strings.Join(ids, ", "))
}

// getByRef returns the resource ref names: an id is read directly, a
// name found through the SDK's Find method (IsNotFound for none).
func getByRef[T any](a *app, ctx context.Context, ref string,
	get, find func(*client.Client, context.Context, string) (*T, error)) (*T, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	if isID(ref) {
		return get(cl, ctx, ref)
	}
	return find(cl, ctx, ref)
}

func (a *app) getCertificate(ctx context.Context, ref string) (*api.Certificate, error) {
	return getByRef(a, ctx, ref, (*client.Client).GetCertificate, (*client.Client).FindCertificate)
}

func (a *app) getIssuer(ctx context.Context, ref string) (*api.Issuer, error) {
	return getByRef(a, ctx, ref, (*client.Client).GetIssuer, (*client.Client).FindIssuer)
}

func (a *app) getTarget(ctx context.Context, ref string) (*api.Target, error) {
	return getByRef(a, ctx, ref, (*client.Client).GetTarget, (*client.Client).FindTarget)
}

func (a *app) getNotifier(ctx context.Context, ref string) (*api.Notifier, error) {
	return getByRef(a, ctx, ref, (*client.Client).GetNotifier, (*client.Client).FindNotifier)
}

func (a *app) getPolicy(ctx context.Context, ref string) (*api.RenewalPolicy, error) {
	return getByRef(a, ctx, ref, (*client.Client).GetRenewalPolicy, (*client.Client).FindRenewalPolicy)
}

func (a *app) getAgent(ctx context.Context, ref string) (*api.Agent, error) {
	return getByRef(a, ctx, ref, (*client.Client).GetAgent, (*client.Client).FindAgent)
}

// The SDK has no Find for rules and API keys; API key names need not be
// unique, so two of one name ask for the id.

func (a *app) getRule(ctx context.Context, ref string) (*api.NotificationRule, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	if isID(ref) {
		return cl.GetNotificationRule(ctx, ref)
	}
	v, err := byName(cl.AllNotificationRules(ctx, client.ListOptions{Limit: 500}), "notification rule", ref,
		func(v api.NotificationRule) string { return v.Name }, func(v api.NotificationRule) string { return v.ID })
	return &v, err
}

func (a *app) getAPIKey(ctx context.Context, ref string) (*api.APIKey, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	if isID(ref) {
		return cl.GetAPIKey(ctx, ref)
	}
	v, err := byName(cl.AllAPIKeys(ctx, client.ListOptions{Limit: 500}), "API key", ref,
		func(v api.APIKey) string { return v.Name }, func(v api.APIKey) string { return v.ID })
	return &v, err
}

// optionalID resolves ref with get when it is set, and returns its id.
func optionalID[T any](ctx context.Context, ref string, get func(context.Context, string) (*T, error), id func(*T) string) (string, error) {
	if ref == "" {
		return "", nil
	}
	v, err := get(ctx, ref)
	if err != nil {
		return "", err
	}
	return id(v), nil
}

// Completion of names. Each asks the server for at most one page: a shell
// waits for the answer, and a long list helps nobody.

const completionLimit = 100

// completeNames returns a ValidArgsFunction that completes the first
// argument with the names list returns; nothing after that.
func (a *app) completeNames(list func(ctx context.Context, cl *client.Client, prefix string) ([]string, error)) cobra.CompletionFunc {
	names := a.flagNames(list)
	return func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return names(cmd, args, toComplete)
	}
}

// flagNames completes a flag's value with the names list returns.
func (a *app) flagNames(list func(ctx context.Context, cl *client.Client, prefix string) ([]string, error)) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		cl, err := a.client()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), 10*time.Second)
		defer cancel()
		names, err := list(ctx, cl, toComplete)
		if err != nil {
			cobra.CompErrorln(err.Error())
			return nil, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveError
		}
		var out []cobra.Completion
		for _, n := range names {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// pageNames returns the names of a page's items.
func pageNames[T any](l api.List[T], err error, name func(T) string) ([]string, error) {
	if err != nil {
		return nil, err
	}
	names := make([]string, len(l.Items))
	for i, v := range l.Items {
		names[i] = name(v)
	}
	return names, nil
}

func certificateNames(ctx context.Context, cl *client.Client, prefix string) ([]string, error) {
	l, err := cl.ListCertificates(ctx, client.CertificateListOptions{NamePrefix: prefix, Limit: completionLimit})
	return pageNames(l, err, func(v api.Certificate) string { return v.Name })
}

func agentNames(ctx context.Context, cl *client.Client, _ string) ([]string, error) {
	l, err := cl.ListAgents(ctx, client.AgentListOptions{Limit: completionLimit})
	return pageNames(l, err, func(v api.Agent) string { return v.Name })
}

func issuerNames(ctx context.Context, cl *client.Client, _ string) ([]string, error) {
	l, err := cl.ListIssuers(ctx, client.IssuerListOptions{Limit: completionLimit})
	return pageNames(l, err, func(v api.Issuer) string { return v.Name })
}

func targetNames(ctx context.Context, cl *client.Client, _ string) ([]string, error) {
	l, err := cl.ListTargets(ctx, client.TargetListOptions{Limit: completionLimit})
	return pageNames(l, err, func(v api.Target) string { return v.Name })
}

func notifierNames(ctx context.Context, cl *client.Client, _ string) ([]string, error) {
	l, err := cl.ListNotifiers(ctx, client.NotifierListOptions{Limit: completionLimit})
	return pageNames(l, err, func(v api.Notifier) string { return v.Name })
}

func policyNames(ctx context.Context, cl *client.Client, _ string) ([]string, error) {
	l, err := cl.ListRenewalPolicies(ctx, client.ListOptions{Limit: completionLimit})
	return pageNames(l, err, func(v api.RenewalPolicy) string { return v.Name })
}

// parseDuration reads a Go duration, or a whole number of days ("30d").
func parseDuration(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// parseLabels reads key=value pairs.
func parseLabels(flag string, pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--%s %q: want key=value", flag, p)
		}
		m[k] = v
	}
	return m, nil
}
