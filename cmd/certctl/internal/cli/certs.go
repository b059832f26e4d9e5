package cli

// certs.go: certctl certs — managed certificates, their versions,
// deployments, renewal, revocation, files and waits.

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"

	"github.com/certctl/certctl/sdk/keys"
)

func (a *app) certsCommand() *cobra.Command {
	c := group("certs", "Manage certificates", "certificates", "cert")
	c.AddCommand(a.certsList(), a.certsGet(), a.certsCreate(), a.certsUpdate(), a.certsDelete(), a.certsRenew(), a.certsRevoke(), a.certsReissue(),
		a.certsDownload(), a.certsWait(), a.certsVersions(), a.certsDeployments(), a.certsRenewal())
	return c
}

// certArg is the completion of a certificate name as first argument.
func (a *app) certArg() cobra.CompletionFunc { return a.completeNames(certificateNames) }

func (a *app) certsList() *cobra.Command {
	var o struct {
		status, issuer, target, prefix, health, expiring string
		limit                                            int
	}
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List certificates",
		Example: `  certctl certs list
  certctl certs list --status failed
  certctl certs list --expiring-within 30d -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cl, err := a.client()
			if err != nil {
				return err
			}
			opts := client.CertificateListOptions{Status: o.status, NamePrefix: o.prefix, DeploymentHealth: o.health, Limit: 500}
			if opts.IssuerID, err = optionalID(ctx, o.issuer, a.getIssuer, func(v *api.Issuer) string { return v.ID }); err != nil {
				return err
			}
			if opts.TargetID, err = optionalID(ctx, o.target, a.getTarget, func(v *api.Target) string { return v.ID }); err != nil {
				return err
			}
			if o.expiring != "" {
				d, err := parseDuration(o.expiring)
				if err != nil {
					return usageErrorf("--expiring-within: %v", err)
				}
				opts.ExpiringBefore = time.Now().Add(d)
			}
			items, err := collect(cl.AllCertificates(ctx, opts), o.limit)
			if err != nil {
				return err
			}
			issuers := a.issuerNamesByID(ctx, cl)
			return a.emit(items, func(t *table) {
				t.row("NAME", "STATUS", "COMMON NAME", "ISSUER", "NOT AFTER", "NEXT RENEWAL", "DEPLOYED")
				for _, c := range items {
					t.row(c.Name, c.Status, c.CommonName, nameOr(issuers, c.IssuerID), fmtTimePtr(c.NotAfter),
						fmtTimePtr(c.NextRenewalAt), deployed(c.DeploymentHealth))
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.status, "status", "", "only certificates in this status (pending, issuing, active, renewing, failed, expired, revoked)")
	f.StringVar(&o.issuer, "issuer", "", "only certificates of this issuer (name or id)")
	f.StringVar(&o.target, "target", "", "only certificates deployed to this target (name or id)")
	f.StringVar(&o.prefix, "name-prefix", "", "only certificates whose name starts with this")
	f.StringVar(&o.health, "deployment-health", "", "only certificates whose deployments are failed, pending or succeeded")
	f.StringVar(&o.expiring, "expiring-within", "", "only certificates that expire within this time (30d, 72h)")
	f.IntVar(&o.limit, "limit", 0, "list at most this many (0: all)")
	_ = cmd.RegisterFlagCompletionFunc("status", cobra.FixedCompletions(
		[]string{"pending", "issuing", "active", "renewing", "failed", "expired", "revoked"}, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("issuer", a.flagNames(issuerNames))
	_ = cmd.RegisterFlagCompletionFunc("target", a.flagNames(targetNames))
	return cmd
}

// issuerNamesByID maps issuer ids to names for tables; a failure leaves
// the ids showing.
func (a *app) issuerNamesByID(ctx context.Context, cl *client.Client) map[string]string {
	if a.output != "table" {
		return nil
	}
	m := map[string]string{}
	for v, err := range cl.AllIssuers(ctx, client.IssuerListOptions{Limit: 500}) {
		if err != nil {
			return m
		}
		m[v.ID] = v.Name
	}
	return m
}

func nameOr(names map[string]string, id string) string {
	if n, ok := names[id]; ok {
		return n
	}
	return id
}

func deployed(h api.DeploymentHealth) string {
	if h.Total == 0 {
		return ""
	}
	s := fmt.Sprintf("%d/%d", h.Succeeded, h.Total)
	if h.Failed > 0 {
		s += fmt.Sprintf(" (%d failed)", h.Failed)
	}
	return s
}

// collect gathers up to limit items (0: all).
func collect[T any](seq func(yield func(T, error) bool), limit int) ([]T, error) {
	out := []T{}
	for it, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, it)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out, nil
}

// printCertificate prints one certificate.
func (a *app) printCertificate(ctx context.Context, c *api.Certificate) error {
	var issuer, policy string
	var targets []string
	if a.output == "table" {
		issuer = c.IssuerID
		if cl, err := a.client(); err == nil {
			if v, err := cl.GetIssuer(ctx, c.IssuerID); err == nil {
				issuer = v.Name
			}
			for _, id := range c.TargetIDs {
				name := id
				if v, err := cl.GetTarget(ctx, id); err == nil {
					name = v.Name
				}
				targets = append(targets, name)
			}
			if c.RenewalPolicyID != nil {
				policy = *c.RenewalPolicyID
				if v, err := cl.GetRenewalPolicy(ctx, policy); err == nil {
					policy = v.Name
				}
			}
		}
	}
	return a.emit(c, func(t *table) {
		h := c.DeploymentHealth
		details(t,
			"ID", c.ID,
			"NAME", c.Name,
			"STATUS", c.Status,
			"COMMON NAME", c.CommonName,
			"SANS", joinComma(c.SANs),
			"ISSUER", issuer,
			"TARGETS", joinComma(targets),
			"KEY TYPE", c.KeyType,
			"KEY MODE", c.KeyMode,
			"RENEWAL POLICY", policy,
			"PROFILE", c.Profile,
			"LABELS", fmtLabels(c.Labels),
			"CURRENT VERSION", deref(c.CurrentVersionID),
			"NOT AFTER", fmtTimePtr(c.NotAfter),
			"NEXT RENEWAL", fmtTimePtr(c.NextRenewalAt),
			"DEPLOYMENTS", fmt.Sprintf("%d total, %d succeeded, %d pending, %d in progress, %d failed",
				h.Total, h.Succeeded, h.Pending, h.InProgress, h.Failed),
			"LAST ERROR", c.LastError,
			"CREATED", fmtTime(c.CreatedAt),
			"UPDATED", fmtTime(c.UpdatedAt),
		)
	})
}

func joinComma(v []string) string {
	out := ""
	for i, s := range v {
		if i > 0 {
			out += ","
		}
		out += s
	}
	return out
}

func (a *app) certsGet() *cobra.Command {
	return &cobra.Command{
		Use:               "get NAME|ID",
		Short:             "Show a certificate",
		Example:           `  certctl certs get www-example-com`,
		Args:              exactArgs(1, "a certificate name or id"),
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.getCertificate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			return a.printCertificate(cmd.Context(), c)
		},
	}
}

// waitFlags are the flags of a command that may wait.
type waitFlags struct {
	wait    bool
	goal    string
	timeout time.Duration
}

func (w *waitFlags) add(cmd *cobra.Command, withWait bool, defaultGoal string) {
	f := cmd.Flags()
	if withWait {
		f.BoolVar(&w.wait, "wait", false, "wait until it is done, showing progress on stderr")
	}
	if defaultGoal != "" {
		f.StringVar(&w.goal, "for", defaultGoal, "what to wait for: issued, or deployed (to every target)")
		_ = cmd.RegisterFlagCompletionFunc("for", cobra.FixedCompletions([]string{goalIssued, goalDeployed}, cobra.ShellCompDirectiveNoFileComp))
	}
	f.DurationVar(&w.timeout, "timeout", 5*time.Minute, "how long to wait at most (then exit status 6)")
}

func (a *app) certsCreate() *cobra.Command {
	var o struct {
		cn, issuer, keyType, keyMode, policy, profile string
		sans, targets, labels                         []string
		w                                             waitFlags
	}
	cmd := &cobra.Command{
		Use:   "create NAME --cn COMMON-NAME --issuer ISSUER",
		Short: "Declare a certificate; its issuance starts at once",
		Example: `  certctl certs create www-example-com --cn www.example.com --san example.com --issuer local --wait
  certctl certs create web --cn web.example.com --issuer local --target web-1-nginx --wait --for deployed
  certctl certs create api --cn api.example.com --issuer acme --profile shortlived --wait`,
		Args: exactArgs(1, "the certificate's name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if o.w.wait {
				if _, err := a.checkGoal(o.w.goal); err != nil {
					return err
				}
			}
			labels, err := parseLabels("label", o.labels)
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			req := api.CertificateRequest{Name: args[0], CommonName: o.cn, SANs: o.sans, KeyType: o.keyType, KeyMode: o.keyMode,
				Labels: labels, Profile: o.profile}
			if req.IssuerID, err = optionalID(ctx, o.issuer, a.getIssuer, func(v *api.Issuer) string { return v.ID }); err != nil {
				return err
			}
			for _, t := range o.targets {
				tg, err := a.getTarget(ctx, t)
				if err != nil {
					return err
				}
				req.TargetIDs = append(req.TargetIDs, tg.ID)
			}
			if o.policy != "" {
				p, err := a.getPolicy(ctx, o.policy)
				if err != nil {
					return err
				}
				req.RenewalPolicyID = &p.ID
			}
			c, err := cl.CreateCertificate(ctx, req)
			if err != nil {
				return err
			}
			return a.finishCertificate(ctx, cl, c, o.w)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cn, "cn", "", "common name (required)")
	f.StringArrayVar(&o.sans, "san", nil, "subject alternative name: DNS name, IP address, e-mail address or URI (repeatable)")
	f.StringVar(&o.issuer, "issuer", "", "issuer name or id (required)")
	f.StringArrayVar(&o.targets, "target", nil, "target to deploy to, name or id (repeatable)")
	f.StringVar(&o.keyType, "key-type", "", "ecdsa-p256 (default), ecdsa-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519")
	f.StringVar(&o.keyMode, "key-mode", "", "agent (the agent makes the key) or server; the default depends on the targets")
	f.StringVar(&o.policy, "policy", "", "renewal policy name or id (default: the default policy)")
	f.StringVar(&o.profile, "profile", "", profileUsage+" (default: the issuer's)")
	f.StringArrayVar(&o.labels, "label", nil, "label key=value (repeatable)")
	o.w.add(cmd, true, goalIssued)
	_ = cmd.MarkFlagRequired("cn")
	_ = cmd.MarkFlagRequired("issuer")
	_ = cmd.RegisterFlagCompletionFunc("issuer", a.flagNames(issuerNames))
	_ = cmd.RegisterFlagCompletionFunc("target", a.flagNames(targetNames))
	_ = cmd.RegisterFlagCompletionFunc("policy", a.flagNames(policyNames))
	_ = cmd.RegisterFlagCompletionFunc("key-type", cobra.FixedCompletions(
		keys.Types, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("key-mode", cobra.FixedCompletions([]string{"agent", "server"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (a *app) certsUpdate() *cobra.Command {
	var o struct {
		cn, issuer, keyType, keyMode, policy, profile string
		sans, targets, labels                         []string
		noTargets, defaultPolicy                      bool
		w                                             waitFlags
	}
	cmd := &cobra.Command{
		Use:   "update NAME|ID",
		Short: "Change a certificate's declaration (fields not given keep their values)",
		Long: `Change a certificate's declaration. Fields not given keep their values;
--san, --target and --label replace the whole list when given. A change
of names, key type or key mode starts a new issuance. When the targets
change and --key-mode is not given, the server picks the key mode again
(agent when the targets are on an agent, server otherwise). A new
--profile applies from the next issuance or renewal (certs renew to apply
it now); --profile "" goes back to the issuer's default.`,
		Example: `  certctl certs update web --san web.example.com --san www.example.com --wait
  certctl certs update web --target web-1-nginx --target web-2-nginx --wait --for deployed
  certctl certs update web --default-policy
  certctl certs update api --profile shortlived`,
		Args:              exactArgs(1, "a certificate name or id"),
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			f := cmd.Flags()
			if o.w.wait {
				if _, err := a.checkGoal(o.w.goal); err != nil {
					return err
				}
			}
			if o.noTargets && f.Changed("target") {
				return usageErrorf("--target and --no-targets together")
			}
			if o.defaultPolicy && f.Changed("policy") {
				return usageErrorf("--policy and --default-policy together")
			}
			cur, err := a.getCertificate(ctx, args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			req := client.CertificateRequestFrom(*cur)
			if f.Changed("cn") {
				req.CommonName = o.cn
			}
			if f.Changed("san") {
				req.SANs = o.sans
			}
			if f.Changed("key-type") {
				req.KeyType = o.keyType
			}
			if f.Changed("key-mode") {
				req.KeyMode = o.keyMode
			}
			if f.Changed("profile") {
				req.Profile = o.profile
			}
			if f.Changed("label") {
				if req.Labels, err = parseLabels("label", o.labels); err != nil {
					return err
				}
			}
			if f.Changed("issuer") {
				iss, err := a.getIssuer(ctx, o.issuer)
				if err != nil {
					return err
				}
				req.IssuerID = iss.ID
			}
			if o.noTargets {
				req.TargetIDs = []string{}
			}
			if f.Changed("target") {
				req.TargetIDs = nil
				for _, t := range o.targets {
					tg, err := a.getTarget(ctx, t)
					if err != nil {
						return err
					}
					req.TargetIDs = append(req.TargetIDs, tg.ID)
				}
			}
			if (o.noTargets || f.Changed("target")) && !f.Changed("key-mode") {
				req.KeyMode = "" // the server picks it for the new targets
			}
			if o.defaultPolicy {
				req.RenewalPolicyID = nil
			}
			if f.Changed("policy") {
				p, err := a.getPolicy(ctx, o.policy)
				if err != nil {
					return err
				}
				req.RenewalPolicyID = &p.ID
			}
			c, err := cl.UpdateCertificate(ctx, cur.ID, req)
			if err != nil {
				return err
			}
			return a.finishCertificate(ctx, cl, c, o.w)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.cn, "cn", "", "common name")
	f.StringArrayVar(&o.sans, "san", nil, "subject alternative name (repeatable; replaces the list)")
	f.StringVar(&o.issuer, "issuer", "", "issuer name or id")
	f.StringArrayVar(&o.targets, "target", nil, "target name or id (repeatable; replaces the list)")
	f.BoolVar(&o.noTargets, "no-targets", false, "deploy it nowhere")
	f.StringVar(&o.keyType, "key-type", "", "ecdsa-p256, ecdsa-p384, rsa-2048, rsa-3072, rsa-4096 or ed25519")
	f.StringVar(&o.keyMode, "key-mode", "", "agent or server")
	f.StringVar(&o.policy, "policy", "", "renewal policy name or id")
	f.BoolVar(&o.defaultPolicy, "default-policy", false, "follow the default renewal policy")
	f.StringVar(&o.profile, "profile", "", profileUsage+` ("" for the issuer's default; applies from the next issuance)`)
	f.StringArrayVar(&o.labels, "label", nil, "label key=value (repeatable; replaces the labels)")
	o.w.add(cmd, true, goalIssued)
	_ = cmd.RegisterFlagCompletionFunc("issuer", a.flagNames(issuerNames))
	_ = cmd.RegisterFlagCompletionFunc("target", a.flagNames(targetNames))
	_ = cmd.RegisterFlagCompletionFunc("policy", a.flagNames(policyNames))
	return cmd
}

// profileUsage is the help of --profile.
const profileUsage = "the CA's certificate profile to issue with, such as an ACME profile (tlsserver, shortlived)"

// finishCertificate prints a certificate a command changed, after
// waiting for it when --wait asks; a wait that fails prints it as it
// stood, then returns the wait's error.
func (a *app) finishCertificate(ctx context.Context, cl *client.Client, c *api.Certificate, w waitFlags) error {
	var err error
	if w.wait {
		c, err = a.waitCertificate(ctx, cl, c, w.goal, w.timeout)
	}
	if perr := a.printCertificate(ctx, c); err == nil {
		err = perr
	}
	return err
}

// finishJob is finishCertificate for a job.
func (a *app) finishJob(ctx context.Context, cl *client.Client, j *api.Job, w waitFlags) error {
	var err error
	if w.wait {
		j, err = a.waitJob(ctx, cl, j, w.timeout)
	}
	if perr := a.printJob(j); err == nil {
		err = perr
	}
	return err
}

// checkGoal checks --for before anything is changed on the server.
func (a *app) checkGoal(goal string) (string, error) {
	switch goal {
	case goalIssued, goalDeployed:
		return goal, nil
	}
	return "", usageErrorf("--for %q: use issued or deployed", goal)
}

func (a *app) certsDelete() *cobra.Command {
	return &cobra.Command{
		Use:               "delete NAME|ID",
		Short:             "Delete a certificate with its versions and deployment records (deployed files stay)",
		Example:           `  certctl certs delete www-example-com`,
		Args:              exactArgs(1, "a certificate name or id"),
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.getCertificate(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			if err := cl.DeleteCertificate(cmd.Context(), c.ID); err != nil {
				return err
			}
			return a.emitDeleted("certificate", c.ID, c.Name)
		},
	}
}

// emitDeleted reports a deletion.
func (a *app) emitDeleted(kind, id, name string) error {
	v := map[string]any{"kind": kind, "id": id, "name": name, "deleted": true}
	if a.output == "table" {
		_, err := fmt.Fprintf(a.streams.Out, "%s %s deleted\n", kind, name)
		return err
	}
	return a.emit(v, nil)
}

// printJob prints one job.
func (a *app) printJob(j *api.Job) error {
	return a.emit(j, func(t *table) {
		details(t,
			"ID", j.ID,
			"KIND", j.Kind,
			"STATE", j.State,
			"CERTIFICATE", deref(j.CertificateID),
			"TARGET", deref(j.TargetID),
			"AGENT", deref(j.AgentID),
			"ATTEMPT", fmt.Sprintf("%d/%d", j.Attempt, j.MaxAttempts),
			"TRIGGER", j.Trigger,
			"WAITING FOR", j.WaitingFor,
			"LAST ERROR", j.LastError,
			"RUN AT", fmtTime(j.RunAt),
			"CREATED", fmtTime(j.CreatedAt),
			"FINISHED", fmtTimePtr(j.FinishedAt),
		)
	})
}

// bulkFilter selects certificates for a bulk renewal or revocation.
type bulkFilter struct {
	status, issuer, target, prefix, expiring string
}

func (b *bulkFilter) add(cmd *cobra.Command, a *app) {
	f := cmd.Flags()
	f.StringVar(&b.status, "status", "", "without NAME: every certificate in this status")
	f.StringVar(&b.issuer, "issuer", "", "without NAME: every certificate of this issuer (name or id)")
	f.StringVar(&b.target, "target", "", "without NAME: every certificate deployed to this target (name or id)")
	f.StringVar(&b.prefix, "name-prefix", "", "without NAME: every certificate whose name starts with this")
	f.StringVar(&b.expiring, "expiring-within", "", "without NAME: every certificate that expires within this time (30d)")
	_ = cmd.RegisterFlagCompletionFunc("issuer", a.flagNames(issuerNames))
	_ = cmd.RegisterFlagCompletionFunc("target", a.flagNames(targetNames))
}

func (b *bulkFilter) set() bool {
	return b.status != "" || b.issuer != "" || b.target != "" || b.prefix != "" || b.expiring != ""
}

// resolve turns the filter's names into ids and its duration into a time.
func (b *bulkFilter) resolve(ctx context.Context, a *app) (issuerID, targetID *string, before *time.Time, err error) {
	if b.issuer != "" {
		v, err := a.getIssuer(ctx, b.issuer)
		if err != nil {
			return nil, nil, nil, err
		}
		issuerID = &v.ID
	}
	if b.target != "" {
		v, err := a.getTarget(ctx, b.target)
		if err != nil {
			return nil, nil, nil, err
		}
		targetID = &v.ID
	}
	if b.expiring != "" {
		d, err := parseDuration(b.expiring)
		if err != nil {
			return nil, nil, nil, usageErrorf("--expiring-within: %v", err)
		}
		t := time.Now().Add(d)
		before = &t
	}
	return issuerID, targetID, before, nil
}

// checkBulk checks that a command got either one certificate or a filter.
func (b *bulkFilter) check(args []string, w waitFlags) error {
	switch {
	case len(args) > 1:
		return usageErrorf("expected one certificate name or id, got %d", len(args))
	case len(args) == 1 && b.set():
		return usageErrorf("give a certificate or filters (--status, --issuer, ...), not both")
	case len(args) == 0 && !b.set():
		return usageErrorf("give a certificate name or id, or filters (--status, --issuer, --target, --name-prefix, --expiring-within)")
	case len(args) == 0 && w.wait:
		return usageErrorf("--wait waits for one certificate; certctl jobs get JOB --wait waits for each job of a bulk action")
	}
	return nil
}

func (a *app) printBulk(res *api.BulkResult) error {
	if res.JobIDs == nil {
		res.JobIDs = []string{}
	}
	return a.emit(res, func(t *table) {
		details(t, "MATCHED", fmt.Sprint(res.Matched), "STARTED", fmt.Sprint(res.Started), "SKIPPED", fmt.Sprint(res.Skipped),
			"JOBS", joinComma(res.JobIDs))
	})
}

func (a *app) certsRenew() *cobra.Command {
	var (
		w    waitFlags
		bulk bulkFilter
	)
	cmd := &cobra.Command{
		Use:   "renew NAME|ID | --status/--issuer/--target/--name-prefix/--expiring-within ...",
		Short: "Renew a certificate now (or issue one never issued), or every certificate a filter selects",
		Example: `  certctl certs renew www-example-com --wait
  certctl certs renew --issuer old-ca                # every certificate the old CA signed
  certctl certs renew --status failed --name-prefix shop-`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := bulk.check(args, w); err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				issuerID, targetID, before, err := bulk.resolve(ctx, a)
				if err != nil {
					return err
				}
				res, err := cl.BulkRenewCertificates(ctx, api.BulkRenewRequest{Status: bulk.status, IssuerID: issuerID, TargetID: targetID,
					ExpiringBefore: before, NamePrefix: bulk.prefix})
				if err != nil {
					return err
				}
				return a.printBulk(res)
			}
			c, err := a.getCertificate(ctx, args[0])
			if err != nil {
				return err
			}
			j, err := cl.RenewCertificate(ctx, c.ID)
			if err != nil {
				return err
			}
			return a.finishJob(ctx, cl, j, w)
		},
	}
	w.add(cmd, true, "")
	bulk.add(cmd, a)
	return cmd
}

func (a *app) certsRevoke() *cobra.Command {
	var (
		reason, version string
		w               waitFlags
		bulk            bulkFilter
	)
	cmd := &cobra.Command{
		Use:   "revoke NAME|ID | --status/--issuer/--target/--name-prefix/--expiring-within ...",
		Short: "Revoke a certificate's current version (or --version), or that of every certificate a filter selects",
		Example: `  certctl certs revoke www-example-com --reason superseded --wait
  certctl certs revoke www-example-com --reason keyCompromise --version 0195b1de-...
  certctl certs revoke --issuer compromised-ca --reason cACompromise`,
		Args:              cobra.ArbitraryArgs,
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if err := bulk.check(args, w); err != nil {
				return err
			}
			if len(args) == 0 && version != "" {
				return usageErrorf("--version names a version of one certificate")
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			if len(args) == 0 {
				issuerID, targetID, before, err := bulk.resolve(ctx, a)
				if err != nil {
					return err
				}
				res, err := cl.BulkRevokeCertificates(ctx, api.BulkRevokeRequest{Status: bulk.status, IssuerID: issuerID, TargetID: targetID,
					ExpiringBefore: before, NamePrefix: bulk.prefix, Reason: api.RevocationReason(reason)})
				if err != nil {
					return err
				}
				return a.printBulk(res)
			}
			c, err := a.getCertificate(ctx, args[0])
			if err != nil {
				return err
			}
			req := api.RevokeRequest{Reason: api.RevocationReason(reason)}
			if version != "" {
				req.VersionID = &version
			}
			j, err := cl.RevokeCertificate(ctx, c.ID, req)
			if err != nil {
				return err
			}
			return a.finishJob(ctx, cl, j, w)
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "RFC 5280 reason: unspecified (default), keyCompromise, superseded, cessationOfOperation, ...")
	cmd.Flags().StringVar(&version, "version", "", "revoke this version id instead of the current one")
	w.add(cmd, true, "")
	bulk.add(cmd, a)
	reasons := make([]string, 0, len(api.RevocationReasons))
	for r := range api.RevocationReasons {
		reasons = append(reasons, r)
	}
	slices.Sort(reasons)
	_ = cmd.RegisterFlagCompletionFunc("reason", cobra.FixedCompletions(reasons, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

func (a *app) certsWait() *cobra.Command {
	var w waitFlags
	cmd := &cobra.Command{
		Use:   "wait NAME|ID",
		Short: "Wait until a certificate is issued (or deployed), showing progress on stderr",
		Example: `  certctl certs wait www-example-com
  certctl certs wait web --for deployed --timeout 10m`,
		Args:              exactArgs(1, "a certificate name or id"),
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if _, err := a.checkGoal(w.goal); err != nil {
				return err
			}
			c, err := a.getCertificate(ctx, args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			w.wait = true
			return a.finishCertificate(ctx, cl, c, w)
		},
	}
	w.add(cmd, false, goalIssued)
	return cmd
}

func (a *app) certsVersions() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:               "versions NAME|ID",
		Short:             "List a certificate's issued versions, newest first",
		Example:           `  certctl certs versions www-example-com`,
		Args:              exactArgs(1, "a certificate name or id"),
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.getCertificate(ctx, args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			items, err := collect(cl.AllCertificateVersions(ctx, c.ID, client.ListOptions{Limit: 500}), limit)
			if err != nil {
				return err
			}
			return a.emit(items, func(t *table) {
				t.row("ID", "SERIAL", "STATUS", "NOT BEFORE", "NOT AFTER", "SERVER KEY")
				for _, v := range items {
					t.row(v.ID, v.SerialNumber, v.Status, fmtTime(v.NotBefore), fmtTime(v.NotAfter), fmtBool(v.HasPrivateKey))
				}
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most this many (0: all)")
	return cmd
}

func (a *app) certsDeployments() *cobra.Command {
	var limit int
	cmd := &cobra.Command{
		Use:               "deployments NAME|ID",
		Short:             "List a certificate's deployments, newest first",
		Example:           `  certctl certs deployments web`,
		Args:              exactArgs(1, "a certificate name or id"),
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.getCertificate(ctx, args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			items, err := collect(cl.AllDeployments(ctx, c.ID, client.ListOptions{Limit: 500}), limit)
			if err != nil {
				return err
			}
			return a.emit(items, func(t *table) {
				t.row("ID", "TARGET", "VERSION", "STATUS", "VERIFIED", "MESSAGE")
				for _, d := range items {
					t.row(d.ID, d.TargetID, d.VersionID, d.Status, fmtTimePtr(d.VerifiedAt), d.Message)
				}
			})
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most this many (0: all)")
	return cmd
}

func (a *app) certsRenewal() *cobra.Command {
	return &cobra.Command{
		Use:               "renewal NAME|ID",
		Short:             "Say when and why a certificate renews next",
		Example:           `  certctl certs renewal www-example-com`,
		Args:              exactArgs(1, "a certificate name or id"),
		ValidArgsFunction: a.certArg(),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			c, err := a.getCertificate(ctx, args[0])
			if err != nil {
				return err
			}
			cl, _ := a.client()
			ex, err := cl.ExplainRenewal(ctx, c.ID)
			if err != nil {
				return err
			}
			return a.emit(ex, func(t *table) {
				details(t,
					"CERTIFICATE", c.Name,
					"STATUS", ex.Status,
					"POLICY", ex.Policy.Name,
					"NOT AFTER", fmtTimePtr(ex.NotAfter),
					"NEXT RENEWAL", fmtTimePtr(ex.NextRenewalAt),
					"DUE", strconv.FormatBool(ex.Due),
					"REASON", ex.Reason,
					"JOB", deref(ex.JobID),
					"LAST ERROR", ex.LastError,
				)
			})
		},
	}
}
