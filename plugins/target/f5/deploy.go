package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/pemfile"
	"github.com/certctl/certctl/plugins/target/internal/tlsprobe"
	"github.com/certctl/certctl/sdk/plugin"
)

// DeployCertificate installs the certificate, its chain and key on the
// BIG-IP as new objects named after the certificate's serial, and
// switches the client-SSL profile to them (creating the profile, and
// attaching it to virtual_server, as needed) in one transaction. When
// the profile already references a certificate with this serial (and is
// attached where asked), nothing is sent and Changed is false. On any
// failure before the commit, the profile keeps its previous certificate.
func (t *target) DeployCertificate(ctx context.Context, req plugin.DeployRequest) (plugin.DeployResult, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return plugin.DeployResult{}, err
	}
	c, err := readConfig(req.Config)
	if err != nil {
		return plugin.DeployResult{}, err
	}
	bundle, err := pemfile.Parse(req.CertificatePEM, req.ChainPEM, req.PrivateKeyPEM)
	if err != nil {
		return plugin.DeployResult{}, plugin.Errorf(plugin.CodeInvalidInput, "%v", err)
	}
	unlock, err := t.locks.Lock(ctx, c.base+" "+c.profile)
	if err != nil {
		return plugin.DeployResult{}, err
	}
	defer unlock()

	cl := newClient(c, t.log)
	if err := cl.login(ctx); err != nil {
		return plugin.DeployResult{}, err
	}
	defer cl.logout(ctx)
	d := &deployment{c: c, cl: cl, log: t.log, bundle: bundle, names: objectNames(c, req.Metadata, bundle),
		meta: map[string]string{"address": c.base, "profile": c.profile}}
	res, err := d.run(ctx, req.DryRun)
	if err != nil {
		return plugin.DeployResult{}, classify(err)
	}
	d.meta["duration_ms"] = strconv.FormatInt(time.Since(start).Milliseconds(), 10)
	res.Metadata = d.meta
	if res.Changed {
		t.log.Info("certificate deployed", "address", c.base, "profile", c.profile, "certificate", d.names.cert,
			"serial", tlsprobe.FormatSerial(bundle.Leaf.SerialNumber), "transaction", d.meta["transaction"],
			"duration_ms", d.meta["duration_ms"], "certificate_name", req.Metadata["certificate_name"])
	}
	return res, nil
}

// names are the full paths of the objects a deployment installs.
type names struct{ cert, key, chain string } // chain is "" without a chain

// objectNames names the objects of a certificate:
// /<partition>/<prefix>-<certificate name>-<serial>.crt, .key and
// -chain.crt. The certificate name is the one certctl gives (metadata
// certificate_name), else the common name.
func objectNames(c config, meta map[string]string, b *pemfile.Bundle) names {
	name := meta["certificate_name"]
	if name == "" {
		name = b.Leaf.Subject.CommonName
	}
	if name == "" && len(b.Leaf.DNSNames) > 0 {
		name = b.Leaf.DNSNames[0]
	}
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, name)
	if len(name) > 64 {
		name = name[:64]
	}
	if name == "" {
		name = "cert"
	}
	base := "/" + c.partition + "/" + c.prefix + "-" + name + "-" + tlsprobe.FormatSerial(b.Leaf.SerialNumber)
	n := names{cert: base + ".crt", key: base + ".key"}
	if len(b.ChainPEM) > 0 {
		n.chain = base + "-chain.crt"
	}
	return n
}

// deployment is one DeployCertificate in progress.
type deployment struct {
	c      config
	cl     *client
	log    *slog.Logger
	bundle *pemfile.Bundle
	names  names
	meta   map[string]string
}

// state is what is on the BIG-IP before a deployment.
type state struct {
	profile     *profileObject // nil: it does not exist
	current     *chainEntry    // the profile's entry in use, nil for none
	currentCert *certObject    // the certificate it references, nil if none or missing
	same        bool           // the profile already references a certificate with the new serial
	attached    bool           // the profile is attached to virtual_server, or none is configured
}

func (d *deployment) run(ctx context.Context, dryRun bool) (plugin.DeployResult, error) {
	st, err := inspect(ctx, d.cl, d.c, d.bundle.Leaf.SerialNumber)
	if err != nil {
		return plugin.DeployResult{}, err
	}
	if dryRun {
		return plugin.DeployResult{Message: d.plan(st)}, nil
	}
	if st.same && st.attached {
		d.meta["certificate"] = st.current.Cert
		return plugin.DeployResult{Message: fmt.Sprintf("already deployed: %s references %s (serial %s)",
			d.c.profile, st.current.Cert, tlsprobe.FormatSerial(d.bundle.Leaf.SerialNumber))}, nil
	}
	entry := st.current
	if !st.same {
		if err := d.installObjects(ctx); err != nil {
			return plugin.DeployResult{}, err
		}
		entry = &chainEntry{Name: "default", Cert: d.names.cert, Key: d.names.key, Chain: d.names.chain}
	}
	d.meta["certificate"], d.meta["key"] = entry.Cert, entry.Key
	if entry.Chain != "" && entry.Chain != "none" {
		d.meta["chain"] = entry.Chain
	}
	if err := d.switchProfile(ctx, st, entry); err != nil {
		return plugin.DeployResult{}, err
	}
	// Read back what the BIG-IP now has: the commit said it applied it,
	// this says the profile is as intended.
	after, err := d.cl.getProfile(ctx, d.c.profile)
	if err != nil {
		return plugin.DeployResult{}, err
	}
	if after == nil || after.defaultEntry() == nil || after.defaultEntry().Cert != entry.Cert {
		return plugin.DeployResult{}, plugin.Errorf(plugin.CodePermanent,
			"transaction %s was committed, but %s does not reference %s afterwards", d.meta["transaction"], d.c.profile, entry.Cert)
	}
	if !st.same {
		d.removePrevious(ctx, st.current)
	}
	return plugin.DeployResult{Changed: true, Message: d.done(st, entry)}, nil
}

// inspect reads what a deployment depends on: the partition, the
// profile (or, when it does not exist, its parent), the certificate it
// uses, and the virtual server's profiles. It changes nothing. A
// missing partition, parent profile or virtual server is an invalid
// configuration.
func inspect(ctx context.Context, cl *client, c config, serial *big.Int) (state, error) {
	var st state
	ok, err := cl.partitionExists(ctx, c.partition)
	if err != nil {
		return st, err
	}
	if !ok {
		return st, plugin.InvalidConfig(fieldPartition, "partition %q does not exist on %s", c.partition, c.base)
	}
	if st.profile, err = cl.getProfile(ctx, c.profile); err != nil {
		return st, err
	}
	if st.profile == nil {
		parent, err := cl.getProfile(ctx, c.parentProfile)
		if err != nil {
			return st, err
		}
		if parent == nil {
			return st, plugin.InvalidConfig(fieldParentProfile, "client-SSL profile %s does not exist on %s, so profile %s cannot be created from it",
				c.parentProfile, c.base, c.profile)
		}
	} else if st.current = st.profile.defaultEntry(); st.current != nil && st.current.Cert != "" && st.current.Cert != "none" {
		if st.currentCert, err = cl.getCert(ctx, st.current.Cert); err != nil {
			return st, err
		}
		if st.currentCert != nil {
			if s := objectSerial(st.currentCert, c.prefix); s != nil && s.Cmp(serial) == 0 {
				st.same = true
			}
		}
	}
	st.attached = true
	if c.virtualServer != "" {
		profiles, ok, err := cl.virtualProfiles(ctx, c.virtualServer)
		if err != nil {
			return st, err
		}
		if !ok {
			return st, plugin.InvalidConfig(fieldVirtualServer, "virtual server %s does not exist on %s", c.virtualServer, c.base)
		}
		st.attached = containsPath(profiles, c.profile)
	}
	return st, nil
}

// installObjects uploads and installs the key, certificate and chain,
// skipping those already installed under their versioned names (by an
// earlier attempt that failed later). Uploaded files are removed from
// the BIG-IP's disk whether the install succeeded or not.
func (d *deployment) installObjects(ctx context.Context) error {
	objects := []struct {
		kind, path string
		data       []byte
	}{
		{"key", d.names.key, d.bundle.KeyPEM},
		{"cert", d.names.cert, d.bundle.LeafPEM},
	}
	if d.names.chain != "" {
		objects = append(objects, struct {
			kind, path string
			data       []byte
		}{"cert", d.names.chain, d.bundle.ChainPEM})
	}
	var installed []string
	for _, o := range objects {
		exists, err := d.objectExists(ctx, o.kind, o.path)
		if err != nil {
			return err
		}
		if exists {
			continue
		}
		file := path.Base(o.path) + "." + randomHex(6)
		err = d.cl.upload(ctx, file, o.data)
		if err == nil {
			err = d.cl.install(ctx, o.kind, o.path, file)
			if isStatus(err, http.StatusConflict) {
				err = nil // installed meanwhile under the same versioned name
			}
		}
		d.cl.removeUpload(ctx, file)
		if err != nil {
			return err
		}
		installed = append(installed, o.path)
	}
	d.meta["objects_installed"] = strings.Join(installed, ",")
	return nil
}

// objectExists reports whether an object is installed under path. A
// leaf certificate found there must have the new serial: the name says
// it has.
func (d *deployment) objectExists(ctx context.Context, kind, fullPath string) (bool, error) {
	if kind == "key" {
		return d.cl.keyExists(ctx, fullPath)
	}
	obj, err := d.cl.getCert(ctx, fullPath)
	if err != nil || obj == nil {
		return false, err
	}
	if fullPath == d.names.cert {
		if s := parseF5Serial(obj.SerialNumber); s != nil && s.Cmp(d.bundle.Leaf.SerialNumber) != 0 {
			return false, plugin.Errorf(plugin.CodePermanent, "%s already exists on %s holding serial %s, not %s: remove it or change name_prefix",
				fullPath, d.c.base, obj.SerialNumber, tlsprobe.FormatSerial(d.bundle.Leaf.SerialNumber))
		}
	}
	return true, nil
}

// switchProfile points the profile at entry (creating the profile if
// needed) and attaches it to virtual_server if needed, in one
// transaction. A transaction not committed is discarded.
func (d *deployment) switchProfile(ctx context.Context, st state, entry *chainEntry) (err error) {
	tx, err := d.cl.begin(ctx)
	if err != nil {
		return err
	}
	d.meta["transaction"] = tx.id
	committed := false
	defer func() {
		if !committed {
			d.cl.discard(ctx, tx)
		}
	}()
	chain := []chainEntry{*entry}
	switch {
	case st.profile == nil:
		err = d.cl.do(ctx, request{method: http.MethodPost, path: profilePath, txn: tx.id, body: map[string]any{
			"name": path.Base(d.c.profile), "partition": d.c.partition, "defaultsFrom": d.c.parentProfile, "certKeyChain": chain}}, nil)
	case !st.same:
		err = d.cl.do(ctx, request{method: http.MethodPatch, path: profilePath + "/" + uriName(d.c.profile), txn: tx.id,
			body: map[string]any{"certKeyChain": chain}}, nil)
	}
	if err != nil {
		return err
	}
	if !st.attached {
		err = d.cl.do(ctx, request{method: http.MethodPost, path: "/mgmt/tm/ltm/virtual/" + uriName(d.c.virtualServer) + "/profiles",
			txn: tx.id, body: map[string]string{"name": d.c.profile, "context": "clientside"}}, nil)
		if err != nil {
			return err
		}
	}
	if err := d.cl.commit(ctx, tx); err != nil {
		return err
	}
	committed = true
	return nil
}

// removePrevious deletes the objects the profile used before, if this
// plugin installed them (their names start with name_prefix) and nothing
// else uses them: the BIG-IP refuses to delete an object in use, which
// is not an error here.
func (d *deployment) removePrevious(ctx context.Context, prev *chainEntry) {
	if prev == nil {
		return
	}
	var removed []string
	for _, o := range []struct{ kind, path string }{{"cert", prev.Cert}, {"key", prev.Key}, {"cert", prev.Chain}} {
		if !d.owned(o.path) || o.path == d.names.cert || o.path == d.names.key || o.path == d.names.chain {
			continue
		}
		err := d.cl.deleteObject(ctx, o.kind, o.path)
		switch {
		case err == nil:
			removed = append(removed, o.path)
		case isStatus(err, http.StatusNotFound):
		case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
			return
		default:
			d.log.Warn("kept a previous certificate object", "address", d.c.base, "object", o.path, "reason", err.Error())
		}
	}
	if len(removed) > 0 {
		d.meta["objects_removed"] = strings.Join(removed, ",")
	}
}

// owned reports whether fullPath names an object this plugin installs.
func (d *deployment) owned(fullPath string) bool {
	return fullPath != "" && partitionOf(fullPath) == d.c.partition &&
		strings.HasPrefix(path.Base(fullPath), d.c.prefix+"-")
}

// plan says what a deployment would do, for a dry run.
func (d *deployment) plan(st state) string {
	serial := tlsprobe.FormatSerial(d.bundle.Leaf.SerialNumber)
	if st.same && st.attached {
		return fmt.Sprintf("dry run: %s already references %s (serial %s); nothing would be done", d.c.profile, st.current.Cert, serial)
	}
	var steps []string
	if !st.same {
		objs := d.names.cert + ", " + d.names.key
		if d.names.chain != "" {
			objs += ", " + d.names.chain
		}
		steps = append(steps, "install "+objs)
		if st.profile == nil {
			steps = append(steps, fmt.Sprintf("create %s from %s", d.c.profile, d.c.parentProfile))
		} else {
			steps = append(steps, fmt.Sprintf("switch %s from %s", d.c.profile, describeEntry(st)))
		}
	}
	if !st.attached {
		steps = append(steps, "attach it to "+d.c.virtualServer)
	}
	return fmt.Sprintf("dry run: would %s (serial %s) in one transaction on %s", strings.Join(steps, ", then "), serial, d.c.base)
}

// done says what a deployment did.
func (d *deployment) done(st state, entry *chainEntry) string {
	var what string
	switch {
	case st.profile == nil:
		what = fmt.Sprintf("created %s from %s with %s", d.c.profile, d.c.parentProfile, entry.Cert)
	case !st.same:
		what = fmt.Sprintf("switched %s from %s to %s", d.c.profile, describeEntry(st), entry.Cert)
	default:
		what = fmt.Sprintf("%s already referenced %s", d.c.profile, entry.Cert)
	}
	if !st.attached {
		what += "; attached it to " + d.c.virtualServer
	}
	return fmt.Sprintf("%s (serial %s) in transaction %s", what, tlsprobe.FormatSerial(d.bundle.Leaf.SerialNumber), d.meta["transaction"])
}

func describeEntry(st state) string {
	switch {
	case st.current == nil || st.current.Cert == "" || st.current.Cert == "none":
		return "no certificate"
	case st.currentCert == nil:
		return st.current.Cert + " (missing)"
	case st.currentCert.SerialNumber != "":
		return fmt.Sprintf("%s (serial %s)", st.current.Cert, st.currentCert.SerialNumber)
	}
	return st.current.Cert
}

// objectSerial is the serial of an installed certificate: as the BIG-IP
// reports it, else as this plugin's naming scheme records it.
func objectSerial(obj *certObject, prefix string) *big.Int {
	if s := parseF5Serial(obj.SerialNumber); s != nil {
		return s
	}
	base := path.Base(obj.FullPath)
	if base == "." || base == "/" {
		base = obj.Name
	}
	if !strings.HasPrefix(base, prefix+"-") || !strings.HasSuffix(base, ".crt") || strings.HasSuffix(base, "-chain.crt") {
		return nil
	}
	rest := strings.TrimSuffix(base, ".crt")
	s, _ := tlsprobe.ParseSerial(rest[strings.LastIndexByte(rest, '-')+1:])
	return s
}

// parseF5Serial reads a serial number as the BIG-IP reports it:
// hexadecimal bytes separated by colons ("0a:1b:..."), plain
// hexadecimal, or as OpenSSL prints small ones ("4660 (0x1234)"). It
// returns nil when s is none of these.
func parseF5Serial(s string) *big.Int {
	s = strings.TrimSpace(s)
	if i := strings.Index(s, "(0x"); i >= 0 && strings.HasSuffix(s, ")") {
		s = s[i+1 : len(s)-1]
	}
	n, err := tlsprobe.ParseSerial(s)
	if err != nil {
		return nil
	}
	return n
}

func containsPath(paths []string, p string) bool {
	for _, q := range paths {
		if q == p {
			return true
		}
	}
	return false
}

// randomHex returns n random bytes as hexadecimal.
func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// leafDNSName is the first DNS name of a certificate's SANs as the
// BIG-IP reports them ("DNS:a.example.com, DNS:b.example.com"), else
// the common name of its subject ("CN=a.example.com,O=..."), if it is a
// host name; "" otherwise.
func leafDNSName(obj *certObject) string {
	for _, part := range strings.Split(obj.SubjectAlternativeName, ",") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(part), "DNS:"); ok && n != "" && !strings.Contains(n, "*") {
			return n
		}
	}
	for _, part := range strings.Split(obj.Subject, ",") {
		if n, ok := strings.CutPrefix(strings.TrimSpace(part), "CN="); ok && strings.Contains(n, ".") &&
			!strings.ContainsAny(n, " *") {
			return n
		}
	}
	return ""
}
