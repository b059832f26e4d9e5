package filetarget

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/pemfile"
	"github.com/certctl/certctl/plugins/target/internal/tlsprobe"
	"github.com/certctl/certctl/sdk/plugin"
)

// Timing of ValidateDeployment's attempts.
const (
	probeTimeout = 10 * time.Second       // one connection and handshake
	probeEvery   = 250 * time.Millisecond // between attempts
)

// ValidateDeployment checks that the server serves the certificate with
// req.SerialNumber, with a TLS handshake to verify_address. Servers
// reload asynchronously, so a server that refuses connections or serves
// another certificate is asked again until verify_timeout has passed. A
// server that cannot be reached is a transient error; one that serves
// another certificate is Valid false. Without verify_address, the
// certificate file on disk is checked instead.
//
// An interrupted deployment to the configuration's files (the plugin was
// killed before it reloaded the server) is completed or rolled back
// first (recover.go), and the message starts by saying which: this is how
// a restarted agent finishes the deployments it had started.
func (t *Target) ValidateDeployment(ctx context.Context, req plugin.ValidateDeploymentRequest) (plugin.ValidateDeploymentResult, error) {
	if err := ctx.Err(); err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	c, err := t.readConfig(req.Config)
	if err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	want, err := tlsprobe.ParseSerial(req.SerialNumber)
	if err != nil {
		return plugin.ValidateDeploymentResult{}, plugin.Errorf(plugin.CodeInvalidInput, "%v", err)
	}
	recovered, err := t.recoverFor(ctx, c)
	if err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	res, err := t.checkLive(ctx, c, want)
	if err == nil && recovered.Outcome != "" {
		res.Message = recovered.String() + "; now " + res.Message
	}
	return res, err
}

// checkLive compares the served certificate's serial with want, or the
// file's without verify_address.
func (t *Target) checkLive(ctx context.Context, c config, want *big.Int) (plugin.ValidateDeploymentResult, error) {
	leafPath := c.cfg.String(t.spec.LeafField)
	if c.verifyAddress == "" {
		return checkFile(leafPath, want)
	}
	sni := c.verifyServerName
	if sni == "" {
		sni = defaultServerName(leafPath)
	}
	deadline := time.Now().Add(c.verifyTimeout)
	for {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		leaf, err := tlsprobe.Leaf(pctx, c.verifyAddress, sni)
		cancel()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return plugin.ValidateDeploymentResult{}, ctxErr
		}
		if err == nil && leaf.SerialNumber.Cmp(want) == 0 {
			return plugin.ValidateDeploymentResult{Valid: true, ServedSerial: tlsprobe.FormatSerial(leaf.SerialNumber),
				Message: fmt.Sprintf("%s serves serial %s (%s)", c.verifyAddress, tlsprobe.FormatSerial(leaf.SerialNumber), describe(leaf))}, nil
		}
		if !time.Now().Add(probeEvery).Before(deadline) {
			if err != nil {
				return plugin.ValidateDeploymentResult{}, plugin.Errorf(plugin.CodeTransient, "%s: %v", FieldVerifyAddress, err)
			}
			return plugin.ValidateDeploymentResult{ServedSerial: tlsprobe.FormatSerial(leaf.SerialNumber),
				Message: fmt.Sprintf("%s serves serial %s (%s), not the expected %s", c.verifyAddress,
					tlsprobe.FormatSerial(leaf.SerialNumber), describe(leaf), tlsprobe.FormatSerial(want))}, nil
		}
		select {
		case <-ctx.Done():
			return plugin.ValidateDeploymentResult{}, ctx.Err()
		case <-time.After(probeEvery):
		}
	}
}

// checkFile compares the serial of the certificate file on disk.
func checkFile(path string, want *big.Int) (plugin.ValidateDeploymentResult, error) {
	leaf, err := pemfile.ReadLeaf(path)
	if errors.Is(err, fs.ErrNotExist) {
		return plugin.ValidateDeploymentResult{Message: path + " does not exist"}, nil
	}
	if err != nil {
		return plugin.ValidateDeploymentResult{}, plugin.Errorf(plugin.CodePermanent, "read %s: %v", path, err)
	}
	served := tlsprobe.FormatSerial(leaf.SerialNumber)
	note := " (verify_address is not set: the file was checked, not what the server serves)"
	if leaf.SerialNumber.Cmp(want) != 0 {
		return plugin.ValidateDeploymentResult{ServedSerial: served,
			Message: fmt.Sprintf("%s holds serial %s, not the expected %s%s", path, served, tlsprobe.FormatSerial(want), note)}, nil
	}
	return plugin.ValidateDeploymentResult{Valid: true, ServedSerial: served,
		Message: fmt.Sprintf("%s holds serial %s%s", path, served, note)}, nil
}

// defaultServerName is the first DNS name (not a wildcard) of the
// certificate deployed at path, or "" for none.
func defaultServerName(path string) string {
	leaf, err := pemfile.ReadLeaf(path)
	if err != nil {
		return ""
	}
	for _, n := range leaf.DNSNames {
		if !strings.Contains(n, "*") {
			return n
		}
	}
	return ""
}

// describe names a certificate for messages.
func describe(c *x509.Certificate) string {
	name := c.Subject.CommonName
	if name == "" && len(c.DNSNames) > 0 {
		name = c.DNSNames[0]
	}
	return fmt.Sprintf("CN=%q, expires %s", name, c.NotAfter.UTC().Format(time.DateOnly))
}
