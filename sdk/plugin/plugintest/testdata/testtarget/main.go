// Command testtarget is a target plugin for the conformance kit's own
// tests: it writes the certificate to a file in the configured directory
// and reads it back to validate. "dry_run_writes" makes dry runs write
// (and report a change), which breaks the contract.
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"

	"github.com/certctl/certctl/sdk/plugin"
)

var schema = plugin.Schema{Fields: []plugin.Field{
	{Name: "dir", Type: plugin.TypeString, Required: true, Description: "Directory the certificate is written to."},
	{Name: "dry_run_writes", Type: plugin.TypeBool, Default: false, Description: "Misbehave: dry runs write."},
}}

type target struct{}

func (target) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "test", Kind: plugin.KindTarget, Version: "0.1.0", Schema: schema}, nil
}

func (target) ValidateConfig(_ context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	cfg, err := schema.Normalize(cfg)
	if err != nil {
		return err
	}
	if fi, err := os.Stat(cfg.String("dir")); err != nil || !fi.IsDir() {
		return plugin.InvalidConfig("dir", "is not a directory")
	}
	return nil
}

func (t target) DeployCertificate(ctx context.Context, req plugin.DeployRequest) (plugin.DeployResult, error) {
	if err := t.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: req.Config}); err != nil {
		return plugin.DeployResult{}, err
	}
	cfg, _ := schema.Normalize(req.Config)
	path := filepath.Join(cfg.String("dir"), "cert.pem")
	if req.DryRun && !cfg.Bool("dry_run_writes") {
		return plugin.DeployResult{Message: "would write " + path}, nil
	}
	old, _ := os.ReadFile(path)
	if bytes.Equal(old, []byte(req.CertificatePEM)) {
		return plugin.DeployResult{Message: "already deployed"}, nil
	}
	if err := os.WriteFile(path, []byte(req.CertificatePEM), 0o600); err != nil {
		return plugin.DeployResult{}, plugin.Errorf(plugin.CodePermanent, "write: %v", err)
	}
	return plugin.DeployResult{Changed: true, Message: "wrote " + path}, nil
}

func (target) ValidateDeployment(_ context.Context, req plugin.ValidateDeploymentRequest) (plugin.ValidateDeploymentResult, error) {
	cfg, err := schema.Normalize(req.Config)
	if err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	raw, err := os.ReadFile(filepath.Join(cfg.String("dir"), "cert.pem"))
	if err != nil {
		return plugin.ValidateDeploymentResult{Message: "nothing deployed"}, nil
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return plugin.ValidateDeploymentResult{Message: "not PEM"}, nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return plugin.ValidateDeploymentResult{Message: err.Error()}, nil
	}
	served := cert.SerialNumber.Text(16)
	return plugin.ValidateDeploymentResult{Valid: served == req.SerialNumber, ServedSerial: served}, nil
}

func main() { plugin.Serve(target{}) }
