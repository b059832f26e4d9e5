package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/tlsprobe"
	"github.com/certctl/certctl/sdk/plugin"
)

// probeTimeout bounds the TLS handshake with verify_address.
const probeTimeout = 10 * time.Second

// verifyResult is what the verify script reports.
type verifyResult struct {
	BindingFound     bool   `json:"binding_found"`
	Thumbprint       string `json:"thumbprint"`
	Store            string `json:"store"`
	CertificateFound bool   `json:"certificate_found"`
	Serial           string `json:"serial"` // as .NET writes it: big-endian hexadecimal
	Subject          string `json:"subject"`
	NotAfter         string `json:"not_after"`
}

// ValidateDeployment checks that the binding serves the certificate with
// req.SerialNumber: the certificate IIS has on the binding is read
// through WinRM, and with verify_address the served one with a TLS
// handshake too. A binding with another certificate, or none, is Valid
// false; a host that cannot be reached is an error.
func (t *target) ValidateDeployment(ctx context.Context, req plugin.ValidateDeploymentRequest) (plugin.ValidateDeploymentResult, error) {
	if err := ctx.Err(); err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	c, err := readConfig(req.Config)
	if err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	want, err := tlsprobe.ParseSerial(req.SerialNumber)
	if err != nil {
		return plugin.ValidateDeploymentResult{}, plugin.Errorf(plugin.CodeInvalidInput, "%v", err)
	}
	r, err := openRemote(ctx, c, t.log.With("address", c.endpoint.String(), "site", c.site))
	if err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	defer r.close()
	var v verifyResult
	if err := r.run(ctx, verifyScript(c), &v); err != nil {
		return plugin.ValidateDeploymentResult{}, scriptFailure(c, err)
	}
	where := fmt.Sprintf("the https binding %s of site %q", c.bindingInformation(), c.site)
	switch {
	case !v.BindingFound:
		return plugin.ValidateDeploymentResult{Message: where + " does not exist"}, nil
	case v.Thumbprint == "":
		return plugin.ValidateDeploymentResult{Message: where + " has no certificate"}, nil
	case !v.CertificateFound:
		return plugin.ValidateDeploymentResult{Message: fmt.Sprintf("%s names certificate %s, which is not in LocalMachine\\%s",
			where, v.Thumbprint, storeName(v.Store))}, nil
	}
	bound, err := tlsprobe.ParseSerial(v.Serial)
	if err != nil {
		return plugin.ValidateDeploymentResult{}, plugin.Errorf(plugin.CodePermanent, "the host reported the bound certificate's %v", err)
	}
	described := fmt.Sprintf("certificate %s (%s, expires %s)", v.Thumbprint, v.Subject, expiry(v.NotAfter))
	if bound.Cmp(want) != 0 {
		return plugin.ValidateDeploymentResult{ServedSerial: tlsprobe.FormatSerial(bound),
			Message: fmt.Sprintf("%s has serial %s, %s, not the expected %s", where, tlsprobe.FormatSerial(bound), described,
				tlsprobe.FormatSerial(want))}, nil
	}
	msg := fmt.Sprintf("%s has serial %s, %s", where, tlsprobe.FormatSerial(bound), described)
	if c.verifyAddress == "" {
		return plugin.ValidateDeploymentResult{Valid: true, ServedSerial: tlsprobe.FormatSerial(bound), Message: msg}, nil
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	leaf, err := tlsprobe.Leaf(pctx, c.verifyAddress, serverName(c))
	if ctxErr := ctx.Err(); ctxErr != nil {
		return plugin.ValidateDeploymentResult{}, ctxErr
	}
	if err != nil {
		return plugin.ValidateDeploymentResult{}, plugin.Errorf(plugin.CodeTransient, "%s: %v", fieldVerifyAddress, err)
	}
	served := tlsprobe.FormatSerial(leaf.SerialNumber)
	if leaf.SerialNumber.Cmp(want) != 0 {
		return plugin.ValidateDeploymentResult{ServedSerial: served,
			Message: fmt.Sprintf("%s, but %s serves serial %s", msg, c.verifyAddress, served)}, nil
	}
	return plugin.ValidateDeploymentResult{Valid: true, ServedSerial: served,
		Message: fmt.Sprintf("%s, and %s serves it", msg, c.verifyAddress)}, nil
}

// serverName is the SNI of the verification handshake: the binding's
// host name, unless it is a wildcard.
func serverName(c config) string {
	if strings.HasPrefix(c.bindingHost, "*") {
		return ""
	}
	return c.bindingHost
}

func storeName(s string) string {
	if s == "" {
		return "My"
	}
	return s
}

// expiry shows the NotAfter the host reported as a date.
func expiry(s string) string {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC().Format(time.DateOnly)
	}
	return s
}
