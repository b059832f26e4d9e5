package cli

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
)

// certsReissue starts a bulk re-issue (a CA-distrust day): every
// certificate a filter selects, moved to --to-issuer when given.
func (a *app) certsReissue() *cobra.Command {
	var (
		bulk         bulkFilter
		toIssuer     string
		reason       string
		maxPerSecond float64
		wait         bool
		every        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "reissue --status/--issuer/--target/--name-prefix/--expiring-within ... [--to-issuer ISSUER]",
		Short: "Re-issue and redeploy every certificate a filter selects, optionally moved to another issuer, as a background operation",
		Example: `  certctl certs reissue --issuer distrusted-ca --to-issuer new-ca --reason "CA distrusted" --wait
  certctl certs reissue --name-prefix shop- --reason "key compromise"       # same issuer
  certctl certs reissue --issuer old-acme --to-issuer new-acme --max-per-second 5`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if !bulk.set() {
				return usageErrorf("give filters (--status, --issuer, --target, --name-prefix, --expiring-within)")
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			issuerID, targetID, before, err := bulk.resolve(ctx, a)
			if err != nil {
				return err
			}
			req := api.ReissueRequest{Status: bulk.status, IssuerID: issuerID, TargetID: targetID, ExpiringBefore: before,
				NamePrefix: bulk.prefix, Reason: reason}
			if toIssuer != "" {
				v, err := a.getIssuer(ctx, toIssuer)
				if err != nil {
					return err
				}
				req.ToIssuerID = &v.ID
			}
			if cmd.Flags().Changed("max-per-second") {
				req.MaxPerSecond = &maxPerSecond
			}
			o, err := cl.ReissueCertificates(ctx, req)
			if err != nil {
				return err
			}
			if !wait {
				return a.printOperation(o)
			}
			return a.watchOperation(ctx, cl, o.ID, every)
		},
	}
	bulk.add(cmd, a)
	f := cmd.Flags()
	f.StringVar(&toIssuer, "to-issuer", "", "move the certificates to this issuer (name or id) first; without it each is re-issued by its own")
	f.StringVar(&reason, "reason", "", "why, for the audit trail")
	f.Float64Var(&maxPerSecond, "max-per-second", 0, "start at most this many issuances a second (an external CA's rate limit)")
	f.BoolVar(&wait, "wait", false, "follow the operation's progress until it ends")
	f.DurationVar(&every, "every", 2*time.Second, "with --wait: how often to print the progress")
	_ = cmd.RegisterFlagCompletionFunc("to-issuer", a.flagNames(issuerNames))
	return cmd
}

func (a *app) operationsCommand() *cobra.Command {
	c := group("operations", "Follow and cancel bulk operations (certctl certs reissue)", "operation", "ops")
	c.AddCommand(a.operationsList(), a.operationsWatch(),
		idAction(a, "get ID", "Show a bulk operation and its progress", "certctl operations get 0195b1de-...", "an operation id",
			(*client.Client).GetOperation, a.printOperation),
		idAction(a, "cancel ID", "Stop a bulk operation from starting more issuances", "certctl operations cancel 0195b1de-...",
			"an operation id", (*client.Client).CancelOperation, a.printOperation))
	return c
}

func (a *app) operationsList() *cobra.Command {
	var (
		o     client.OperationListOptions
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List bulk operations, newest first",
		Example: `  certctl operations list
  certctl operations list --status running`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			o.Limit = 500
			if limit > 0 && limit < 500 {
				o.Limit = limit
			}
			items, err := collect(cl.AllOperations(cmd.Context(), o), limit)
			if err != nil {
				return err
			}
			return a.emit(items, func(t *table) {
				t.row("ID", "KIND", "STATUS", "MATCHED", "STARTED", "CREATED BY", "CREATED", "FINISHED")
				for _, op := range items {
					t.row(op.ID, op.Kind, op.Status, fmt.Sprintf("%d/%d", op.Matched, op.EstimatedTotal), strconv.Itoa(op.Started),
						op.CreatedBy, fmtTime(op.CreatedAt), fmtTimePtr(op.FinishedAt))
				}
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Status, "status", "", "only operations in this status (running, done, cancelled, failed)")
	f.IntVar(&limit, "limit", 50, "list at most this many (0: all)")
	return cmd
}

func (a *app) operationsWatch() *cobra.Command {
	var every time.Duration
	cmd := &cobra.Command{
		Use:     "watch ID",
		Short:   "Print a bulk operation's progress until it ends",
		Example: `  certctl operations watch 0195b1de-... --every 5s`,
		Args:    exactArgs(1, "an operation id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			return a.watchOperation(cmd.Context(), cl, args[0], every)
		},
	}
	cmd.Flags().DurationVar(&every, "every", 2*time.Second, "how often to print the progress")
	return cmd
}

// watchOperation prints a line of progress every interval until the
// operation ends, then the operation. With -o json or yaml only the
// final operation is printed.
func (a *app) watchOperation(ctx context.Context, cl *client.Client, id string, every time.Duration) error {
	o, err := cl.WaitOperation(ctx, id, every, func(o *api.Operation) {
		if a.output == "table" && o.Status == "running" {
			eta := "-"
			if o.ETASeconds != nil {
				eta = (time.Duration(*o.ETASeconds) * time.Second).String()
			}
			fmt.Fprintf(a.streams.Err, "%s matched %d/%d, issued %d, failed %d, outstanding %d, deferred %d, remaining %d, eta %s\n",
				time.Now().Format(time.TimeOnly), o.Matched, o.EstimatedTotal, o.Issued, o.Failed, o.Outstanding, o.Deferred,
				o.Remaining, eta)
		}
	})
	if err != nil {
		return err
	}
	return a.printOperation(o)
}

func (a *app) printOperation(o *api.Operation) error {
	return a.emit(o, func(t *table) {
		to := "(each certificate's own)"
		if o.ToIssuerID != nil {
			to = *o.ToIssuerID
		}
		eta := "-"
		if o.ETASeconds != nil {
			eta = (time.Duration(*o.ETASeconds) * time.Second).String()
		}
		details(t,
			"ID", o.ID,
			"KIND", o.Kind,
			"STATUS", o.Status,
			"TO ISSUER", to,
			"REASON", o.Reason,
			"CREATED BY", o.CreatedBy,
			"MATCHED", fmt.Sprintf("%d of about %d", o.Matched, o.EstimatedTotal),
			"STARTED", strconv.Itoa(o.Started),
			"ADOPTED", strconv.Itoa(o.Adopted),
			"SKIPPED", strconv.Itoa(o.Skipped),
			"DEFERRED", strconv.Itoa(o.Deferred),
			"OUTSTANDING", strconv.Itoa(o.Outstanding),
			"ISSUED", strconv.Itoa(o.Issued),
			"FAILED", strconv.Itoa(o.Failed),
			"DEPLOYMENTS", fmt.Sprintf("%d done, %d failed, %d under way", o.DeploymentsDone, o.DeploymentsFailed, o.DeploymentsActive),
			"REMAINING", strconv.Itoa(o.Remaining),
			"ETA", eta,
			"LAST ERROR", o.LastError,
			"CREATED", fmtTime(o.CreatedAt),
			"FINISHED", fmtTimePtr(o.FinishedAt),
		)
	})
}
