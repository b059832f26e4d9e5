package main

import (
	"context"
	"fmt"
	"math/big"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/tlsprobe"
	"github.com/certctl/certctl/sdk/plugin"
)

// Timing of the verify_address handshakes.
const (
	verifyWindow = 5 * time.Second        // how long a server serving another certificate is asked again
	probeEvery   = 250 * time.Millisecond // between attempts
	probeTimeout = 10 * time.Second       // one connection and handshake at most
)

// ValidateDeployment reads the client-SSL profile back, follows its
// certKeyChain to the installed certificate object, and compares that
// certificate's serial with req.SerialNumber. With verify_address it
// then also completes a TLS handshake there and compares the served
// certificate's serial, asking again for a few seconds while the BIG-IP
// still serves another one. A BIG-IP or virtual server that cannot be
// reached is a transient error; another certificate is Valid false.
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
	cl := newClient(c, t.log)
	if err := cl.login(ctx); err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	defer cl.logout(ctx)
	res, err := t.validate(ctx, cl, c, want)
	return res, classify(err)
}

// validate compares what the BIG-IP has, and serves, with want.
func (t *target) validate(ctx context.Context, cl *client, c config, want *big.Int) (plugin.ValidateDeploymentResult, error) {
	wantText := tlsprobe.FormatSerial(want)
	prof, err := cl.getProfile(ctx, c.profile)
	if err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	if prof == nil {
		return plugin.ValidateDeploymentResult{Message: fmt.Sprintf("client-SSL profile %s does not exist on %s", c.profile, c.base)}, nil
	}
	entry := prof.defaultEntry()
	if entry == nil || entry.Cert == "" || entry.Cert == "none" {
		return plugin.ValidateDeploymentResult{Message: fmt.Sprintf("%s references no certificate", c.profile)}, nil
	}
	obj, err := cl.getCert(ctx, entry.Cert)
	if err != nil {
		return plugin.ValidateDeploymentResult{}, err
	}
	if obj == nil {
		return plugin.ValidateDeploymentResult{Message: fmt.Sprintf("%s references %s, which does not exist", c.profile, entry.Cert)}, nil
	}
	have := objectSerial(obj, c.prefix)
	if have == nil {
		return plugin.ValidateDeploymentResult{}, plugin.Errorf(plugin.CodePermanent,
			"cannot read the serial number of %s (the BIG-IP reports %q)", entry.Cert, obj.SerialNumber)
	}
	haveText := tlsprobe.FormatSerial(have)
	if have.Cmp(want) != 0 {
		return plugin.ValidateDeploymentResult{ServedSerial: haveText,
			Message: fmt.Sprintf("%s references %s, serial %s, not the expected %s", c.profile, entry.Cert, haveText, wantText)}, nil
	}
	onBox := fmt.Sprintf("%s references %s, serial %s", c.profile, entry.Cert, haveText)
	if obj.ExpirationString != "" {
		onBox += " (expires " + obj.ExpirationString + ")"
	}
	if c.verifyAddress == "" {
		return plugin.ValidateDeploymentResult{Valid: true, ServedSerial: haveText, Message: onBox}, nil
	}
	return probe(ctx, c, leafDNSName(obj), want, onBox)
}

// probe completes TLS handshakes with verify_address until it serves
// want or verifyWindow has passed.
func probe(ctx context.Context, c config, sni string, want *big.Int, onBox string) (plugin.ValidateDeploymentResult, error) {
	deadline := time.Now().Add(verifyWindow)
	for {
		pctx, cancel := context.WithTimeout(ctx, min(probeTimeout, c.timeout))
		leaf, err := tlsprobe.Leaf(pctx, c.verifyAddress, sni)
		cancel()
		if ctxErr := ctx.Err(); ctxErr != nil {
			return plugin.ValidateDeploymentResult{}, ctxErr
		}
		if err == nil && leaf.SerialNumber.Cmp(want) == 0 {
			return plugin.ValidateDeploymentResult{Valid: true, ServedSerial: tlsprobe.FormatSerial(leaf.SerialNumber),
				Message: fmt.Sprintf("%s; %s serves it", onBox, c.verifyAddress)}, nil
		}
		if !time.Now().Add(probeEvery).Before(deadline) {
			if err != nil {
				return plugin.ValidateDeploymentResult{}, plugin.Errorf(plugin.CodeTransient, "%s: %v", fieldVerifyAddress, err)
			}
			served := tlsprobe.FormatSerial(leaf.SerialNumber)
			return plugin.ValidateDeploymentResult{ServedSerial: served,
				Message: fmt.Sprintf("%s, but %s serves serial %s (CN=%q), not the expected %s", onBox, c.verifyAddress,
					served, leaf.Subject.CommonName, tlsprobe.FormatSerial(want))}, nil
		}
		select {
		case <-ctx.Done():
			return plugin.ValidateDeploymentResult{}, ctx.Err()
		case <-time.After(probeEvery):
		}
	}
}
