package store

import (
	"context"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/certctl/certctl/server/core"
)

const policyColumns = `id, name, mode, COALESCE(renew_fraction, 0), COALESCE(days_before_expiry, 0), jitter_fraction,
	reuse_key, use_issuer_window, is_default, created_at, updated_at`

func scanPolicy(row pgx.Row) (core.RenewalPolicy, error) {
	var p core.RenewalPolicy
	err := row.Scan(&p.ID, &p.Name, &p.Mode, &p.RenewFraction, &p.DaysBeforeExpiry, &p.JitterFraction, &p.ReuseKey,
		&p.UseIssuerWindow, &p.IsDefault, &p.CreatedAt, &p.UpdatedAt)
	return p, err
}

func policyArgs(p core.RenewalPolicy) (fraction *float64, days *int) {
	if p.Mode == core.PolicyFraction {
		fraction = &p.RenewFraction
	} else {
		days = &p.DaysBeforeExpiry
	}
	return fraction, days
}

// CreatePolicy inserts a renewal policy.
func (q *Queries) CreatePolicy(ctx context.Context, p core.RenewalPolicy) error {
	fraction, days := policyArgs(p)
	_, err := q.db.Exec(ctx, `INSERT INTO renewal_policies (id, name, mode, renew_fraction, days_before_expiry,
		jitter_fraction, reuse_key, use_issuer_window, is_default, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)`, p.ID, p.Name, p.Mode, fraction, days, p.JitterFraction,
		p.ReuseKey, p.UseIssuerWindow, p.IsDefault, p.CreatedAt)
	return mapError(err, "renewal policy")
}

// UpdatePolicy writes a renewal policy.
func (q *Queries) UpdatePolicy(ctx context.Context, p core.RenewalPolicy) error {
	fraction, days := policyArgs(p)
	tag, err := q.db.Exec(ctx, `UPDATE renewal_policies SET name = $2, mode = $3, renew_fraction = $4,
		days_before_expiry = $5, jitter_fraction = $6, reuse_key = $7, use_issuer_window = $8, is_default = $9,
		updated_at = $10 WHERE id = $1`, p.ID, p.Name, p.Mode, fraction, days, p.JitterFraction, p.ReuseKey,
		p.UseIssuerWindow, p.IsDefault, p.UpdatedAt)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "renewal policy")
}

// ClearDefaultPolicy makes no policy the default (before another becomes it).
func (q *Queries) ClearDefaultPolicy(ctx context.Context) error {
	_, err := q.db.Exec(ctx, `UPDATE renewal_policies SET is_default = false WHERE is_default`)
	return mapError(err, "renewal policy")
}

// GetPolicy returns a renewal policy.
func (q *Queries) GetPolicy(ctx context.Context, id uuid.UUID) (core.RenewalPolicy, error) {
	p, err := scanPolicy(q.db.QueryRow(ctx, `SELECT `+policyColumns+` FROM renewal_policies WHERE id = $1`, id))
	return p, mapError(err, "renewal policy")
}

// GetDefaultPolicy returns the default renewal policy.
func (q *Queries) GetDefaultPolicy(ctx context.Context) (core.RenewalPolicy, error) {
	p, err := scanPolicy(q.db.QueryRow(ctx, `SELECT `+policyColumns+` FROM renewal_policies WHERE is_default`))
	return p, mapError(err, "default renewal policy")
}

// ListPolicies returns a page of renewal policies.
func (q *Queries) ListPolicies(ctx context.Context, p core.Page) ([]core.RenewalPolicy, bool, error) {
	var w where
	rows, err := q.db.Query(ctx, `SELECT `+policyColumns+` FROM renewal_policies`+pageClause(&w, p, false), w.args...)
	if err != nil {
		return nil, false, mapError(err, "renewal policies")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (core.RenewalPolicy, error) { return scanPolicy(r) })
	if err != nil {
		return nil, false, mapError(err, "renewal policies")
	}
	items, more := trimPage(items, p)
	return items, more, nil
}

// DeletePolicy deletes a renewal policy no certificate uses.
func (q *Queries) DeletePolicy(ctx context.Context, id uuid.UUID) error {
	tag, err := q.db.Exec(ctx, `DELETE FROM renewal_policies WHERE id = $1`, id)
	if err == nil && tag.RowsAffected() == 0 {
		err = pgx.ErrNoRows
	}
	return mapError(err, "renewal policy")
}
