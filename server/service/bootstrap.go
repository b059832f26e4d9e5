package service

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/secrets"
	"github.com/certctl/certctl/server/store"
)

// Settings names.
const (
	settingKeyCheck      = "encryption_key_check"
	settingDefaultIssuer = "default_local_issuer"
	settingDefaultACME   = "default_acme_issuer"
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

// acmeIssuerType is the type of the ACME issuer plugin.
const acmeIssuerType = "acme"

// ACME directory presets for DefaultACME.DirectoryURL.
var acmeDirectoryPresets = map[string]string{
	"":                    "https://acme-v02.api.letsencrypt.org/directory",
	"letsencrypt":         "https://acme-v02.api.letsencrypt.org/directory",
	"letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}

// ACMEDirectoryURL resolves a directory setting: a preset name
// ("letsencrypt", the default, or "letsencrypt-staging") or an https URL.
func ACMEDirectoryURL(v string) (string, error) {
	if u, ok := acmeDirectoryPresets[strings.ToLower(strings.TrimSpace(v))]; ok {
		return u, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%q is neither an ACME directory URL nor a preset (letsencrypt, letsencrypt-staging)", v)
	}
	return v, nil
}

// DefaultACME is the default ACME issuer of a new installation.
type DefaultACME struct {
	Email        string // the account's contact; setting it agrees to the CA's terms of service
	DirectoryURL string // a URL or a preset (see ACMEDirectoryURL)
	CABundle     string // PEM roots to trust for the directory (a private or test CA), "" for the system's
}

// EnsureDefaultACMEIssuer creates, once in the database's life, an ACME
// issuer named "acme" with the account contact d.Email and the CA's terms
// agreed (agree_tos): the operator agreed by setting the email. Like the
// local issuer, it is not created again once deleted or renamed, nor when
// an issuer of that name exists. When the issuer cannot be created (the
// CA is unreachable, refuses the account), nothing is recorded and the
// next start tries again. It returns the issuer when it created one.
func (s *Service) EnsureDefaultACMEIssuer(ctx context.Context, d DefaultACME) (*core.Issuer, error) {
	dir, err := ACMEDirectoryURL(d.DirectoryURL)
	if err != nil {
		return nil, err
	}
	var marker map[string]string
	found, err := s.store.Q().GetSetting(ctx, settingDefaultACME, &marker)
	if err != nil || found {
		return nil, err
	}
	cfg := map[string]any{"directory_url": dir, "email": d.Email, "agree_tos": true}
	if d.CABundle != "" {
		cfg["ca_bundle"] = d.CABundle
	}
	sys := core.WithActor(ctx, core.SystemActor)
	iss, err := s.CreateIssuer(sys, IssuerInput{Name: "acme", Type: acmeIssuerType, Config: cfg})
	var created *core.Issuer
	switch {
	case err == nil:
		marker, created = map[string]string{"issuer_id": iss.ID.String()}, &iss
	case errIs(err, core.ECONFLICT): // an issuer called "acme" exists already
		marker = map[string]string{"skipped": "an issuer named acme existed"}
	default:
		return nil, fmt.Errorf("create the default ACME issuer: %w", err)
	}
	return created, s.store.Q().PutSetting(ctx, settingDefaultACME, marker, s.clock())
}
