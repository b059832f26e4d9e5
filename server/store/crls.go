package store

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// CRL is the current CRL of an issuer.
type CRL struct {
	IssuerID   uuid.UUID
	Number     int64
	ThisUpdate time.Time
	NextUpdate time.Time
	DER        []byte
	Entries    int
	Dirty      bool
}

// GetCRL returns an issuer's current CRL, and whether there is one.
func (q *Queries) GetCRL(ctx context.Context, issuerID uuid.UUID) (CRL, bool, error) {
	var c CRL
	err := q.db.QueryRow(ctx, `SELECT issuer_id, number, this_update, next_update, der, entries, dirty FROM crls
		WHERE issuer_id = $1`, issuerID).Scan(&c.IssuerID, &c.Number, &c.ThisUpdate, &c.NextUpdate, &c.DER, &c.Entries, &c.Dirty)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, false, nil
	}
	return c, err == nil, mapError(err, "CRL")
}

// SaveCRL stores a newly signed CRL unless another server stored a newer
// one meanwhile (prevNumber is the number the caller started from).
func (q *Queries) SaveCRL(ctx context.Context, c CRL, prevNumber int64, existed bool) error {
	var err error
	if existed {
		_, err = q.db.Exec(ctx, `UPDATE crls SET number = $2, this_update = $3, next_update = $4, der = $5, entries = $6,
			dirty = false WHERE issuer_id = $1 AND number = $7`, c.IssuerID, c.Number, c.ThisUpdate, c.NextUpdate, c.DER,
			c.Entries, prevNumber)
	} else {
		_, err = q.db.Exec(ctx, `INSERT INTO crls (issuer_id, number, this_update, next_update, der, entries, dirty)
			VALUES ($1, $2, $3, $4, $5, $6, false) ON CONFLICT (issuer_id) DO NOTHING`, c.IssuerID, c.Number, c.ThisUpdate,
			c.NextUpdate, c.DER, c.Entries)
	}
	return mapError(err, "CRL")
}

// MarkCRLDirty notes that an issuer's CRL misses a revocation.
func (q *Queries) MarkCRLDirty(ctx context.Context, issuerID uuid.UUID) error {
	_, err := q.db.Exec(ctx, `UPDATE crls SET dirty = true WHERE issuer_id = $1`, issuerID)
	return mapError(err, "CRL")
}

// RevokedEntry is one revoked certificate of an issuer.
type RevokedEntry struct {
	SerialNumber string
	RevokedAt    time.Time
	Reason       string
}

// RevokedVersions lists the revoked certificates of an issuer that have not
// expired at now: an expired certificate may leave the CRL (RFC 5280 3.3).
func (q *Queries) RevokedVersions(ctx context.Context, issuerID uuid.UUID, now time.Time) ([]RevokedEntry, error) {
	rows, err := q.db.Query(ctx, `SELECT serial_number, revoked_at, COALESCE(revocation_reason, '') FROM certificate_versions
		WHERE issuer_id = $1 AND status = 'revoked' AND not_after > $2 ORDER BY revoked_at, serial_number`, issuerID, now)
	if err != nil {
		return nil, mapError(err, "revoked versions")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (RevokedEntry, error) {
		var e RevokedEntry
		err := r.Scan(&e.SerialNumber, &e.RevokedAt, &e.Reason)
		return e, err
	})
	return out, mapError(err, "revoked versions")
}

// RevokeVersion marks a version revoked.
func (q *Queries) RevokeVersion(ctx context.Context, id uuid.UUID, reason string, now time.Time) error {
	_, err := q.db.Exec(ctx, `UPDATE certificate_versions SET status = 'revoked', revoked_at = $2, revocation_reason = $3
		WHERE id = $1 AND status <> 'revoked'`, id, now, reason)
	return mapError(err, "certificate version")
}
