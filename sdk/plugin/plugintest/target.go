// This file holds the target checks: a dry run changes nothing, and
// optionally a real deployment is idempotent and found live.

package plugintest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/sdk/keys"
)

// TargetCases say what to ask of a target plugin.
type TargetCases struct {
	// Config is the configuration to deploy with; nil means ValidConfig.
	// Point it at files or a server the test controls.
	Config plugin.Config
	// CertificatePEM, ChainPEM and PrivateKeyPEM are what is deployed;
	// empty means a fresh ECDSA P-256 certificate for CommonName
	// (default plugintest.example.com) from a throwaway CA.
	CertificatePEM, ChainPEM, PrivateKeyPEM string
	CommonName                              string
	// Deploy also deploys for real, twice: the second deployment must
	// succeed and report Changed false.
	Deploy bool
	// ValidateDeployment, with Deploy, then checks that ValidateDeployment
	// finds the deployed certificate's serial live.
	ValidateDeployment bool
}

func (s *Session) targetChecks() []Check {
	c := TargetCases{}
	if s.Options.Target != nil {
		c = *s.Options.Target
	}
	checks := []Check{{"dry_run", func(ctx context.Context) error { return s.checkDryRun(ctx, c) }}}
	if c.Deploy {
		checks = append(checks, Check{"deploy", func(ctx context.Context) error { return s.checkDeploy(ctx, c) }})
		if c.ValidateDeployment {
			checks = append(checks, Check{"validate_deployment", func(ctx context.Context) error {
				return s.checkValidateDeployment(ctx, c)
			}})
		}
	}
	return checks
}

// deployRequest builds the request the target checks send.
func (s *Session) deployRequest(c TargetCases) (plugin.DeployRequest, error) {
	cfg := c.Config
	if cfg == nil {
		cfg = s.Options.ValidConfig
	}
	cfg, err := s.Info.Schema.Normalize(cfg)
	if err != nil {
		return plugin.DeployRequest{}, fmt.Errorf("the target configuration does not fit the plugin's schema: %w", err)
	}
	req := plugin.DeployRequest{Config: cfg, CertificatePEM: c.CertificatePEM, ChainPEM: c.ChainPEM,
		PrivateKeyPEM: c.PrivateKeyPEM, Metadata: map[string]string{"certificate_name": "plugintest"}}
	if req.CertificatePEM == "" {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.testCert == nil {
			cn := c.CommonName
			if cn == "" {
				cn = "plugintest.example.com"
			}
			if s.testCert, err = newTestCertificate(cn); err != nil {
				return req, err
			}
		}
		req.CertificatePEM, req.ChainPEM, req.PrivateKeyPEM = s.testCert.cert, s.testCert.chain, s.testCert.key
	}
	return req, nil
}

// checkDryRun deploys with DryRun: it must succeed and change nothing.
func (s *Session) checkDryRun(ctx context.Context, c TargetCases) error {
	req, err := s.deployRequest(c)
	if err != nil {
		return err
	}
	req.DryRun = true
	res, err := s.Process.Target().DeployCertificate(ctx, req)
	if err != nil {
		return fmt.Errorf("DeployCertificate with DryRun: %w", err)
	}
	if res.Changed {
		return errors.New("DeployCertificate with DryRun reported Changed true: a dry run must change nothing")
	}
	return nil
}

// checkDeploy deploys twice: both succeed, the second changes nothing.
func (s *Session) checkDeploy(ctx context.Context, c TargetCases) error {
	req, err := s.deployRequest(c)
	if err != nil {
		return err
	}
	if _, err := s.Process.Target().DeployCertificate(ctx, req); err != nil {
		return fmt.Errorf("DeployCertificate: %w", err)
	}
	res, err := s.Process.Target().DeployCertificate(ctx, req)
	if err != nil {
		return fmt.Errorf("DeployCertificate of what is already deployed: %w", err)
	}
	if res.Changed {
		return errors.New("deploying what is already deployed reported Changed true: deployments must be idempotent")
	}
	return nil
}

// checkValidateDeployment checks that the deployed serial is found live.
func (s *Session) checkValidateDeployment(ctx context.Context, c TargetCases) error {
	req, err := s.deployRequest(c)
	if err != nil {
		return err
	}
	certs, err := keys.ParseCertificates(req.CertificatePEM)
	if err != nil {
		return fmt.Errorf("CertificatePEM: %w", err)
	}
	serial := certs[0].SerialNumber
	res, err := s.Process.Target().ValidateDeployment(ctx, plugin.ValidateDeploymentRequest{Config: req.Config,
		SerialNumber: serial.Text(16)})
	if err != nil {
		return fmt.Errorf("ValidateDeployment: %w", err)
	}
	served, ok := new(big.Int).SetString(strings.ReplaceAll(res.ServedSerial, ":", ""), 16)
	if !res.Valid || !ok || served.Cmp(serial) != 0 {
		return fmt.Errorf("ValidateDeployment found Valid %t, serial %q (%s), want the deployed serial %s",
			res.Valid, res.ServedSerial, res.Message, serial.Text(16))
	}
	return nil
}

// testCertificate is a certificate, its chain and key, as PEM.
type testCertificate struct{ cert, chain, key string }

// newTestCertificate makes a throwaway CA and a server certificate for cn.
func newTestCertificate(cn string) (*testCertificate, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	caTmpl := &x509.Certificate{Subject: pkix.Name{CommonName: "plugintest CA"}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		return nil, err
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{Subject: pkix.Name{CommonName: cn}, DNSNames: []string{cn}, NotBefore: now.Add(-time.Hour),
		NotAfter: now.Add(24 * time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &testCertificate{
		cert:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		chain: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})),
		key:   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
	}, nil
}
