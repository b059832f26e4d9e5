package service

import (
	"context"
	"encoding/base64"
	"fmt"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/secrets"
	"github.com/certctl/certctl/server/store"
)

// Settings names.
const (
	settingKeyCheck      = "encryption_key_check"
	settingDefaultIssuer = "default_local_issuer"
)

type keyCheck struct {
	KeyID  string `json:"key_id"`
	Sealed string `json:"sealed"`
}

// CheckEncryptionKey makes sure the server's encryption key is the one the
// database's secrets were sealed with: the first server to start records a
// sealed marker, later ones must open it, with the current key or a
// previous one (the marker is re-sealed last by RotateEncryptionKey). A
// server with another key would fail to read every sensitive field, so it
// refuses to start instead.
func (s *Service) CheckEncryptionKey(ctx context.Context) error {
	if s.box == nil {
		return nil
	}
	return s.store.InTx(ctx, func(q *store.Queries) error {
		var kc keyCheck
		found, err := q.GetSetting(ctx, settingKeyCheck, &kc)
		if err != nil {
			return err
		}
		if !found {
			sealed := s.box.Seal([]byte("certctl"), "settings:"+settingKeyCheck)
			return q.PutSetting(ctx, settingKeyCheck, keyCheck{KeyID: s.box.KeyID(),
				Sealed: base64.StdEncoding.EncodeToString(sealed)}, s.clock())
		}
		raw, err := base64.StdEncoding.DecodeString(kc.Sealed)
		if err == nil {
			_, err = s.box.Open(raw, "settings:"+settingKeyCheck)
		}
		if err != nil {
			return fmt.Errorf("the encryption key (id %s, previous %v) is not the one this database's secrets were sealed with (id %s): "+
				"give every server the same key, in CERTCTL_ENCRYPTION_KEY or the data directory's %s; while a key "+
				"is rotated, the old one goes in CERTCTL_ENCRYPTION_KEY_PREVIOUS until the rotation is complete",
				s.box.KeyID(), s.box.PreviousKeyIDs(), kc.KeyID, secrets.KeyFileName)
		}
		return nil
	})
}

// EnsureDefaultIssuer creates, once in the database's life, a local-CA
// issuer named "local", so that a new installation can issue at once. If
// an admin deletes or renames it later, it is not created again. It
// returns whether it created one. Like every local issuer created without a
// crl_url, it gets <PublicURL>/crl/local.crl when Options.PublicURL is set.
func (s *Service) EnsureDefaultIssuer(ctx context.Context) (bool, error) {
	var marker map[string]string
	found, err := s.store.Q().GetSetting(ctx, settingDefaultIssuer, &marker)
	if err != nil || found {
		return false, err
	}
	sys := core.WithActor(ctx, core.SystemActor)
	iss, err := s.CreateIssuer(sys, IssuerInput{Name: "local", Type: localIssuerType, Config: map[string]any{}})
	switch {
	case err == nil:
		marker = map[string]string{"issuer_id": iss.ID.String()}
	case errIs(err, core.ECONFLICT): // an issuer called "local" exists already
		marker = map[string]string{"skipped": "an issuer named local existed"}
	default:
		return false, fmt.Errorf("create the default local issuer: %w", err)
	}
	if err := s.store.Q().PutSetting(ctx, settingDefaultIssuer, marker, s.clock()); err != nil {
		return false, err
	}
	return err == nil, nil
}
