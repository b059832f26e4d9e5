package main

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/issuer/acme/dns01"
	"github.com/certctl/certctl/sdk/plugin"
)

// Configuration fields. The DNS-01 ones (dns_*) come from dns01.SchemaFields.
const (
	fieldDirectoryURL      = "directory_url"
	fieldEmail             = "email"
	fieldAgreeTOS          = "agree_tos"
	fieldAccountKey        = "account_key"
	fieldAccountURL        = "account_url"
	fieldEABKeyID          = "eab_key_id"
	fieldEABHMACKey        = "eab_hmac_key"
	fieldChallenge         = "challenge"
	fieldHTTP01Solver      = "http01_solver"
	fieldProfile           = "profile"
	fieldPreferredChain    = "preferred_chain"
	fieldCABundle          = "ca_bundle"
	fieldValidationTimeout = "validation_timeout"
)

// Challenge types the plugin solves.
const (
	challengeHTTP01 = "http-01"
	challengeDNS01  = "dns-01"
)

// Directory presets: names accepted in directory_url for well-known CAs.
var directoryPresets = map[string]string{
	"letsencrypt":         "https://acme-v02.api.letsencrypt.org/directory",
	"letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}

// defaultValidationTimeout is how long one call waits for the CA to
// validate challenges or issue a finalized order before it answers pending.
const defaultValidationTimeout = 30 * time.Second

func schema() plugin.Schema {
	fields := []plugin.Field{
		{Name: fieldDirectoryURL, Type: plugin.TypeString, Required: true,
			Description: `The CA's ACME directory URL (https), or a preset: "letsencrypt" (Let's Encrypt production) or "letsencrypt-staging".`},
		{Name: fieldEmail, Type: plugin.TypeString,
			Description: "Contact e-mail address of the ACME account (the CA writes about expiring certificates and policy changes)."},
		{Name: fieldAgreeTOS, Type: plugin.TypeBool, Default: false,
			Description: "Agree to the CA's terms of service; CAs that publish terms refuse accounts without it."},
		{Name: fieldAccountKey, Type: plugin.TypeString, Sensitive: true,
			Description: "The ACME account's private key (PEM). Unset: an ECDSA P-256 key is generated when the issuer is created, kept and reused."},
		{Name: fieldAccountURL, Type: plugin.TypeString,
			Description: "The ACME account's URL at the CA, filled in when the issuer is created or updated."},
		{Name: fieldEABKeyID, Type: plugin.TypeString,
			Description: "External account binding key ID, for CAs that require one (ZeroSSL, Google Trust Services, Sectigo...)."},
		{Name: fieldEABHMACKey, Type: plugin.TypeString, Sensitive: true,
			Description: "External account binding HMAC key, base64url as the CA gives it."},
		{Name: fieldChallenge, Type: plugin.TypeString, Default: challengeHTTP01, Enum: []string{challengeHTTP01, challengeDNS01},
			Description: `How control of the names is proved: "http-01" (presented by the certificate's agent or by certctl's server) or "dns-01" (TXT records published through the dns_* settings; needed for wildcards).`},
		{Name: fieldHTTP01Solver, Type: plugin.TypeString, Default: plugin.SolverAuto,
			Enum:        []string{plugin.SolverAuto, plugin.SolverAgent, plugin.SolverServer},
			Description: `Who serves HTTP-01 challenges: "" (the agent of the certificate's targets, else the server), "agent" or "server".`},
		{Name: fieldProfile, Type: plugin.TypeString,
			Description: `ACME certificate profile to order (e.g. Let's Encrypt's "classic", "tlsserver", "shortlived"), when the CA offers profiles. Unset: the CA's default.`},
		{Name: fieldPreferredChain, Type: plugin.TypeString,
			Description: "Common name of the root (or top issuer) of the chain to prefer when the CA offers alternate chains, e.g. \"ISRG Root X1\". Unset or not offered: the CA's default chain."},
		{Name: fieldCABundle, Type: plugin.TypeString,
			Description: "PEM certificates trusted for the ACME server's TLS, for a private CA (step-ca, Pebble). Unset: the system's roots."},
		{Name: fieldValidationTimeout, Type: plugin.TypeDuration, Default: defaultValidationTimeout.String(),
			Description: "How long one call waits for the CA to validate challenges or issue a finalized order before answering pending (the host calls again)."},
	}
	return plugin.Schema{Fields: append(fields, dns01.SchemaFields()...)}
}

// settings is a configuration read and checked.
type settings struct {
	directoryURL      string
	email             string
	agreeTOS          bool
	accountKey        crypto.Signer // nil before Provision
	accountKeyPEM     string
	accountURL        string
	eabKeyID          string
	eabHMAC           []byte
	challenge         string
	solver            string
	profile           string
	preferredChain    string
	caBundle          *x509.CertPool // nil: system roots
	validationTimeout time.Duration
	dns               dns01.Config
}

// loadSettings reads cfg. A configuration with no account key is accepted
// (Provision makes one); operations check for it themselves.
func loadSettings(cfg plugin.Config) (*settings, error) {
	s := &settings{
		email:          strings.TrimSpace(cfg.String(fieldEmail)),
		agreeTOS:       cfg.Bool(fieldAgreeTOS),
		accountKeyPEM:  cfg.String(fieldAccountKey),
		accountURL:     strings.TrimSpace(cfg.String(fieldAccountURL)),
		eabKeyID:       strings.TrimSpace(cfg.String(fieldEABKeyID)),
		challenge:      cfg.String(fieldChallenge),
		solver:         cfg.String(fieldHTTP01Solver),
		profile:        strings.TrimSpace(cfg.String(fieldProfile)),
		preferredChain: strings.TrimSpace(cfg.String(fieldPreferredChain)),
	}
	dir, err := directoryURL(cfg.String(fieldDirectoryURL))
	if err != nil {
		return nil, err
	}
	s.directoryURL = dir
	if s.email != "" && (strings.ContainsAny(s.email, " \t\r\n,<>") || !strings.Contains(s.email, "@")) {
		return nil, plugin.InvalidConfig(fieldEmail, "%q is not an e-mail address", s.email)
	}
	if s.accountKeyPEM != "" {
		if s.accountKey, err = parseAccountKey(s.accountKeyPEM); err != nil {
			return nil, plugin.InvalidConfig(fieldAccountKey, "%v", err)
		}
	}
	if s.accountURL != "" {
		if u, err := url.Parse(s.accountURL); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			return nil, plugin.InvalidConfig(fieldAccountURL, "must be the account's http(s) URL at the CA")
		}
		if s.accountKey == nil {
			return nil, plugin.InvalidConfig(fieldAccountKey, "is required with %s: an account is used with its key", fieldAccountURL)
		}
	}
	hmacKey := strings.TrimSpace(cfg.String(fieldEABHMACKey))
	switch {
	case s.eabKeyID != "" && hmacKey == "":
		return nil, plugin.InvalidConfig(fieldEABHMACKey, "is required with %s", fieldEABKeyID)
	case s.eabKeyID == "" && hmacKey != "":
		return nil, plugin.InvalidConfig(fieldEABKeyID, "is required with %s", fieldEABHMACKey)
	case hmacKey != "":
		// CAs hand the key out base64url without padding; accept padding
		// and the standard alphabet too, as people paste what they get.
		k, err := decodeBase64Any(hmacKey)
		if err != nil || len(k) == 0 {
			return nil, plugin.InvalidConfig(fieldEABHMACKey, "is not base64url (the HMAC key as the CA gives it)")
		}
		s.eabHMAC = k
	}
	if s.challenge == "" {
		s.challenge = challengeHTTP01
	}
	if !slices.Contains([]string{challengeHTTP01, challengeDNS01}, s.challenge) {
		return nil, plugin.InvalidConfig(fieldChallenge, "must be %s or %s", challengeHTTP01, challengeDNS01)
	}
	if !slices.Contains([]string{plugin.SolverAuto, plugin.SolverAgent, plugin.SolverServer}, s.solver) {
		return nil, plugin.InvalidConfig(fieldHTTP01Solver, `must be "", "agent" or "server"`)
	}
	if pem := cfg.String(fieldCABundle); strings.TrimSpace(pem) != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(pem)) {
			return nil, plugin.InvalidConfig(fieldCABundle, "holds no PEM certificate")
		}
		s.caBundle = pool
	}
	s.validationTimeout = cfg.Duration(fieldValidationTimeout)
	if _, set := cfg[fieldValidationTimeout]; !set {
		s.validationTimeout = defaultValidationTimeout
	}
	if s.validationTimeout <= 0 || s.validationTimeout > 10*time.Minute {
		return nil, plugin.InvalidConfig(fieldValidationTimeout, "must be more than 0 and at most 10m")
	}
	if s.dns, err = dns01.FromConfig(cfg); err != nil {
		return nil, err
	}
	if s.challenge == challengeDNS01 {
		if !s.dns.Enabled() {
			return nil, plugin.InvalidConfig(dns01.FieldProvider, "is required with %s %q: say how TXT records are published",
				fieldChallenge, challengeDNS01)
		}
		if _, err := dns01.New(s.dns); err != nil {
			return nil, asConfigError(err, dns01.FieldProvider)
		}
	}
	return s, nil
}

// asConfigError returns err as an invalid_config error, naming field when
// err names none.
func asConfigError(err error, field string) error {
	var pe *plugin.Error
	if errors.As(err, &pe) {
		return err
	}
	return plugin.InvalidConfig(field, "%v", err)
}

// directoryURL resolves a preset and checks the URL.
func directoryURL(v string) (string, error) {
	v = strings.TrimSpace(v)
	if p, ok := directoryPresets[strings.ToLower(v)]; ok {
		return p, nil
	}
	u, err := url.Parse(v)
	if v == "" || err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		return "", plugin.InvalidConfig(fieldDirectoryURL, "must be the CA's ACME directory URL (https://...) or one of the presets letsencrypt, letsencrypt-staging")
	}
	if u.User != nil {
		return "", plugin.InvalidConfig(fieldDirectoryURL, "must not carry credentials")
	}
	return v, nil
}

// parseAccountKey reads a PEM private key: PKCS#8, SEC 1 (EC) or PKCS#1 (RSA).
func parseAccountKey(text string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(text))
	if block == nil {
		return nil, errors.New("is not a PEM private key")
	}
	var key any
	var err error
	switch block.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	}
	if err != nil {
		return nil, errors.New("does not parse as a private key")
	}
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() && k.Curve != elliptic.P384() {
			return nil, errors.New("an ECDSA account key must be on P-256 or P-384")
		}
		return k, nil
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return nil, errors.New("an RSA account key must have at least 2048 bits")
		}
		return k, nil
	case ed25519.PrivateKey:
		return nil, errors.New("Ed25519 account keys are not supported by ACME CAs: use ECDSA P-256")
	}
	return nil, fmt.Errorf("unsupported key type %T", key)
}

// newAccountKey makes an ECDSA P-256 account key and its PEM (PKCS#8).
func newAccountKey(ctx context.Context) (crypto.Signer, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", err
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("generate account key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, "", fmt.Errorf("encode account key: %w", err)
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

func decodeBase64Any(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}
