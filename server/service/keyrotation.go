package service

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/store"
)

// rotationBatch is how many rows a rotation reads at a time. Each row is
// then re-sealed in a transaction of its own, so that no lock is held for
// longer than one row takes.
const rotationBatch = 100

// KeyRotation is what RotateEncryptionKey did.
type KeyRotation struct {
	KeyID          string   // the current key, which sealed everything re-sealed
	PreviousKeyIDs []string // the keys configured to open only
	Resealed       int      // values sealed again with the current key
	AlreadyCurrent int      // values that were sealed with it already
	// Failed names the values ("issuer:<id>", ...) that no configured key
	// opens. While any is left, the key check marker stays as it was, so
	// servers with the current key alone still refuse to start.
	Failed []string
	// Complete is true when every value and the key check marker are
	// sealed with the current key: the previous keys can be dropped.
	Complete bool
}

// RotateEncryptionKey re-seals every sealed value (sensitive connector
// fields, server-held private keys, the key check marker) with the
// current key, for an admin. Servers keep serving meanwhile: each row is
// locked, re-read and re-sealed in a short transaction of its own, so a
// concurrent update either comes before (and is re-sealed) or after (and
// was sealed with the current key). It is idempotent and resumable: values
// already sealed with the current key are left alone, so it can be run
// again after a crash or from several replicas at once.
//
// Every server must have the new key as current (and the old one as
// previous) before this runs: a server that still seals with the old key
// would write values the pass then has to re-seal again.
func (s *Service) RotateEncryptionKey(ctx context.Context) (KeyRotation, error) {
	const action = "encryption_key.rotate"
	a, err := s.authorize(ctx, core.RoleAdmin, action, "encryption_key", "")
	if err != nil {
		return KeyRotation{}, err
	}
	if s.box == nil {
		return KeyRotation{}, core.Errorf(core.EINTERNAL, "no encryption key configured")
	}
	out := KeyRotation{KeyID: s.box.KeyID(), PreviousKeyIDs: s.box.PreviousKeyIDs(), Failed: []string{}}
	for _, c := range store.SealedColumns {
		if err := s.rotateColumn(ctx, c, &out); err != nil {
			s.auditOutside(ctx, a, action, "encryption_key", out.KeyID, core.OutcomeFailure,
				map[string]any{"error": core.ErrorMessage(err), "resealed": out.Resealed})
			return out, err
		}
	}
	err = s.mutate(ctx, change{role: core.RoleAdmin, action: action, resourceType: "encryption_key", resourceID: out.KeyID},
		func(q *store.Queries) (string, map[string]any, error) {
			details := map[string]any{"key_id": out.KeyID, "previous_key_ids": out.PreviousKeyIDs,
				"resealed": out.Resealed, "already_current": out.AlreadyCurrent, "failed": len(out.Failed)}
			if len(out.Failed) > 0 {
				return "", details, nil
			}
			// The marker goes last: until every value is re-sealed, a server
			// with the new key alone must keep refusing to start.
			var kc keyCheck
			found, err := q.GetSetting(ctx, settingKeyCheck, &kc)
			if err != nil {
				return "", nil, err
			}
			raw, decErr := base64.StdEncoding.DecodeString(kc.Sealed)
			if found && decErr == nil && s.box.IsCurrent(raw) {
				out.Complete = true
				return "", details, nil
			}
			sealed := s.box.Seal([]byte("certctl"), "settings:"+settingKeyCheck)
			if err := q.PutSetting(ctx, settingKeyCheck, keyCheck{KeyID: out.KeyID,
				Sealed: base64.StdEncoding.EncodeToString(sealed)}, s.clock()); err != nil {
				return "", nil, err
			}
			out.Complete = true
			return "", details, nil
		})
	if err != nil {
		return out, err
	}
	s.logger.InfoContext(ctx, "encryption key rotation", "key_id", out.KeyID, "resealed", out.Resealed,
		"already_current", out.AlreadyCurrent, "failed", len(out.Failed), "complete", out.Complete)
	return out, nil
}

// rotateColumn re-seals the values of one column, row by row.
func (s *Service) rotateColumn(ctx context.Context, c store.SealedColumn, out *KeyRotation) error {
	after := uuid.Nil
	for {
		page, err := s.store.Q().ListSealed(ctx, c, after, rotationBatch)
		if err != nil {
			return err
		}
		for _, v := range page {
			after = v.ID
			if s.box.IsCurrent(v.Sealed) {
				out.AlreadyCurrent++
				continue
			}
			context := c.ContextPrefix + v.ID.String()
			var resealed, current, failed bool
			err := s.store.InTx(ctx, func(q *store.Queries) error {
				resealed, current, failed = false, false, false
				sealed, found, err := q.LockSealed(ctx, c, v.ID)
				if err != nil || !found || len(sealed) == 0 {
					return err // gone or emptied meanwhile: nothing to do
				}
				if s.box.IsCurrent(sealed) { // re-written meanwhile
					current = true
					return nil
				}
				plain, err := s.box.Open(sealed, context)
				if err != nil {
					failed = true
					return nil
				}
				resealed = true
				return q.SetSealed(ctx, c, v.ID, s.box.Seal(plain, context))
			})
			if err != nil {
				return fmt.Errorf("re-seal %s: %w", context, err)
			}
			switch {
			case resealed:
				out.Resealed++
			case current:
				out.AlreadyCurrent++
			case failed:
				out.Failed = append(out.Failed, context)
			}
		}
		if len(page) < rotationBatch {
			return nil
		}
	}
}
