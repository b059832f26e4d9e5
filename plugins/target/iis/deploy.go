package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/tlsprobe"
	"github.com/certctl/certctl/sdk/plugin"
)

// Results of the scripts, as their Write-Result prints them.
type (
	probeResult struct {
		SiteID             int    `json:"site_id"`
		BindingFound       bool   `json:"binding_found"`
		Thumbprint         string `json:"thumbprint"` // of the certificate on the binding now, "" for none
		Store              string `json:"store"`
		CertificateInStore bool   `json:"certificate_in_store"` // the new certificate, with its key
	}
	uploadResult struct {
		Length int64 `json:"length"`
	}
	importResult struct {
		Thumbprint string `json:"thumbprint"`
		ChainMoved int    `json:"chain_moved"`
	}
	bindResult struct {
		Thumbprint string `json:"thumbprint"`
		Store      string `json:"store"`
		Created    bool   `json:"created"`
	}
	restoreResult struct {
		Thumbprint         string `json:"thumbprint"`
		CertificateRemoved bool   `json:"certificate_removed"`
	}
)

// DeployCertificate installs the certificate in the host's store and
// binds it to the site; see the package comment for the steps. It
// changes nothing when the binding already has the certificate, and puts
// the previous certificate back on the binding when binding fails.
func (t *target) DeployCertificate(ctx context.Context, req plugin.DeployRequest) (plugin.DeployResult, error) {
	if err := ctx.Err(); err != nil {
		return plugin.DeployResult{}, err
	}
	c, err := readConfig(req.Config)
	if err != nil {
		return plugin.DeployResult{}, err
	}
	m, err := readMaterial(req.CertificatePEM, req.ChainPEM, req.PrivateKeyPEM)
	if err != nil {
		return plugin.DeployResult{}, err
	}
	unlock, err := t.locks.Lock(ctx, c.lockKey())
	if err != nil {
		return plugin.DeployResult{}, err
	}
	defer unlock()

	start := time.Now()
	log := t.log.With("address", c.endpoint.String(), "site", c.site, "binding", c.bindingInformation(),
		"thumbprint", m.thumbprint, "dry_run", req.DryRun)
	r, err := openRemote(ctx, c, log)
	if err != nil {
		return plugin.DeployResult{}, err
	}
	defer r.close()

	var p probeResult
	if err := r.run(ctx, probeScript(c, m.thumbprint), &p); err != nil {
		return plugin.DeployResult{}, scriptFailure(c, err)
	}
	meta := map[string]string{
		"address": c.endpoint.String(), "site": c.site, "binding": c.bindingInformation(), "store": c.store,
		"thumbprint": m.thumbprint, "serial": tlsprobe.FormatSerial(m.leaf.SerialNumber), "previous_thumbprint": p.Thumbprint,
	}
	already := p.BindingFound && strings.EqualFold(p.Thumbprint, m.thumbprint) && sameStore(p.Store, c.store)
	if req.DryRun {
		return plugin.DeployResult{Message: dryRunMessage(c, p, m, already), Metadata: meta}, nil
	}
	if already {
		log.Info("the binding already has the certificate")
		return plugin.DeployResult{Metadata: meta, Message: fmt.Sprintf("the https binding %s of site %q already has certificate %s",
			c.bindingInformation(), c.site, m.thumbprint)}, nil
	}

	imported := false
	if !p.CertificateInStore {
		if err := t.importCertificate(ctx, r, c, m, log); err != nil {
			return plugin.DeployResult{}, err
		}
		imported = true
	}
	var b bindResult
	err = r.run(ctx, bindScript(c, m.thumbprint), &b)
	if err == nil && !strings.EqualFold(b.Thumbprint, m.thumbprint) {
		err = plugin.Errorf(plugin.CodePermanent, "after binding, the https binding %s reads back certificate %q, not %s",
			c.bindingInformation(), b.Thumbprint, m.thumbprint)
	}
	if err != nil {
		return plugin.DeployResult{}, t.restore(ctx, r, c, p, m.thumbprint, imported, scriptFailure(c, err), log)
	}
	meta["imported"] = fmt.Sprint(imported)
	meta["duration"] = time.Since(start).Round(time.Millisecond).String()
	log.Info("bound the certificate", "previous_thumbprint", p.Thumbprint, "imported", imported, "created_binding", b.Created)
	previous := "no certificate"
	if p.Thumbprint != "" {
		previous = "certificate " + p.Thumbprint
	}
	return plugin.DeployResult{Changed: true, Metadata: meta,
		Message: fmt.Sprintf("bound certificate %s (serial %s) to the https binding %s of site %q on %s, replacing %s",
			m.thumbprint, tlsprobe.FormatSerial(m.leaf.SerialNumber), c.bindingInformation(), c.site, c.endpoint.Host, previous)}, nil
}

// importCertificate sends the PFX in chunks and imports it. The
// temporary files are deleted by the import script, or here when the
// upload fails before it ran.
func (t *target) importCertificate(ctx context.Context, r *remote, c config, m *material, log *slog.Logger) error {
	password, err := newPassword()
	if err != nil {
		return plugin.Errorf(plugin.CodePermanent, "generate the PFX password: %v", err)
	}
	pfx, err := m.encodePFX(c.pfxEncryption, password)
	if err != nil {
		return err
	}
	encoded := base64.StdEncoding.EncodeToString(pfx)
	tempName, err := newTempName()
	if err != nil {
		return plugin.Errorf(plugin.CodePermanent, "generate a file name: %v", err)
	}
	chunks := splitChunks(encoded, chunkSize(tempName))
	r.addSecret(password, encoded)
	r.addSecret(chunks...)
	log.Info("uploading the PFX", "bytes", len(pfx), "chunks", len(chunks))

	cleanup := func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		if err := r.run(cctx, cleanupScript(tempName), nil); err != nil {
			log.Warn("deleting the temporary PFX files failed", "err", err)
		}
	}
	var sent int64
	for i, chunk := range chunks {
		var u uploadResult
		if err := r.run(ctx, uploadScript(tempName, chunk, i > 0), &u); err != nil {
			cleanup()
			return scriptFailure(c, err)
		}
		sent += int64(len(chunk))
		if u.Length != sent {
			cleanup()
			return plugin.Errorf(plugin.CodeTransient, "uploading the PFX: the temporary file holds %d bytes after chunk %d of %d, want %d",
				u.Length, i+1, len(chunks), sent)
		}
	}
	var imp importResult
	if err := r.run(ctx, importScript(c, tempName, m.thumbprint, password), &imp); err != nil {
		var se *scriptError
		if !errors.As(err, &se) || se.kind == kindNoResult {
			cleanup() // the script may not have reached its finally
		}
		return scriptFailure(c, err)
	}
	if !strings.EqualFold(imp.Thumbprint, m.thumbprint) {
		return plugin.Errorf(plugin.CodePermanent, "Import-PfxCertificate reported certificate %q, not %s", imp.Thumbprint, m.thumbprint)
	}
	log.Info("imported the certificate", "store", c.store, "chain_moved_to_ca", imp.ChainMoved)
	return nil
}

// restore undoes a failed bind, even when the caller has given up (a
// binding must not be left without its certificate), and returns cause
// with what the restoration did.
func (t *target) restore(ctx context.Context, r *remote, c config, p probeResult, thumbprint string, imported bool, cause error, log *slog.Logger) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.timeout)
	defer cancel()
	var res restoreResult
	if err := r.run(rctx, restoreScript(c, p, thumbprint, imported), &res); err != nil {
		log.Error("binding failed, and restoring the previous certificate failed too", "err", err)
		return appendMessage(cause, fmt.Sprintf("; restoring the previous certificate failed too, so the binding may be left without it: %v", err))
	}
	var did string
	switch {
	case !p.BindingFound:
		did = "the binding it created was removed"
	case p.Thumbprint == "":
		did = "the binding is back without a certificate"
	default:
		did = "certificate " + p.Thumbprint + " is back on the binding"
	}
	if !strings.EqualFold(res.Thumbprint, p.Thumbprint) {
		did = fmt.Sprintf("restoring left certificate %q on the binding, not the previous %q", res.Thumbprint, p.Thumbprint)
	}
	if res.CertificateRemoved {
		did += ", and the imported certificate was deleted"
	}
	log.Warn("binding failed; restored the previous state", "previous_thumbprint", p.Thumbprint, "certificate_removed", res.CertificateRemoved)
	return appendMessage(cause, "; "+did)
}

// scriptFailure turns a failure a script reported into a plugin error,
// worded from its kind; other errors are returned as they are.
func scriptFailure(c config, err error) error {
	var se *scriptError
	if !errors.As(err, &se) {
		return err
	}
	host := c.endpoint.Host
	switch se.kind {
	case kindSiteNotFound:
		return plugin.InvalidConfig(fieldSite, "IIS on %s has no site named %q", host, c.site)
	case kindStoreNotFound:
		return plugin.InvalidConfig(fieldStore, "the certificate store LocalMachine\\%s does not exist on %s", c.store, host)
	case kindAccessDenied:
		return plugin.InvalidConfig(fieldUsername, "%s was denied access on %s (the account must be a local administrator): %s",
			c.username, host, se.message)
	case kindMismatch:
		return plugin.Errorf(plugin.CodePermanent, "Import-PfxCertificate on %s did not yield the certificate being deployed", host)
	case kindNoPrivateKey:
		return plugin.Errorf(plugin.CodePermanent, "Import-PfxCertificate on %s imported the certificate without its private key", host)
	case kindNoBinding:
		return plugin.Errorf(plugin.CodePermanent, "the %s script on %s found no https binding %s on site %q", se.op, host,
			c.bindingInformation(), c.site)
	case kindModuleMissing:
		return plugin.Errorf(plugin.CodePermanent, "the IIS WebAdministration PowerShell module cannot be loaded on %s "+
			"(is IIS installed with its Management Scripts and Tools?): %s", host, se.message)
	}
	return plugin.Errorf(plugin.CodePermanent, "%v", se)
}

// appendMessage adds to an error's message, keeping its code.
func appendMessage(err error, suffix string) error {
	var pe *plugin.Error
	if errors.As(err, &pe) {
		return &plugin.Error{Code: pe.Code, Field: pe.Field, Message: pe.Message + suffix}
	}
	return fmt.Errorf("%w%s", err, suffix)
}

// sameStore compares store names as Windows does; IIS leaves the name
// empty for My.
func sameStore(bound, want string) bool {
	if bound == "" {
		bound = "My"
	}
	return strings.EqualFold(bound, want)
}

func dryRunMessage(c config, p probeResult, m *material, already bool) string {
	msg := fmt.Sprintf("dry run on %s: site %q exists, store LocalMachine\\%s is writable; ", c.endpoint.Host, c.site, c.store)
	switch {
	case already:
		return msg + "the https binding " + c.bindingInformation() + " already has certificate " + m.thumbprint + ": nothing to do"
	case !p.BindingFound:
		msg += "the https binding " + c.bindingInformation() + " does not exist and would be created"
	case p.Thumbprint == "":
		msg += "the https binding " + c.bindingInformation() + " has no certificate"
	default:
		msg += "the https binding " + c.bindingInformation() + " has certificate " + p.Thumbprint
	}
	if p.CertificateInStore {
		return msg + "; certificate " + m.thumbprint + " is in the store already and would be bound"
	}
	return msg + "; certificate " + m.thumbprint + " would be imported and bound"
}

// newTempName names the temporary files of one upload.
func newTempName() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return "certctl-" + hex.EncodeToString(b), nil
}

// chunkSize is the most base64 characters an upload script can carry:
// the command line is powershellCommand and the script's UTF-16LE in
// base64 (4 characters per 3 bytes, 2 bytes per character).
func chunkSize(tempName string) int {
	budget := (maxCommandLine - len(powershellCommand)) / 4 * 3 / 2 // script characters
	n := budget - uploadOverhead(tempName) - 8                      // a margin for rounding
	return n / 4 * 4
}

// splitChunks cuts s into pieces of at most size bytes.
func splitChunks(s string, size int) []string {
	var out []string
	for len(s) > size {
		out = append(out, s[:size])
		s = s[size:]
	}
	return append(out, s)
}
