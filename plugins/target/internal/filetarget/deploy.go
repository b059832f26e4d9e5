package filetarget

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/atomicfile"
	"github.com/certctl/certctl/plugins/target/internal/journal"
	"github.com/certctl/certctl/plugins/target/internal/pemfile"
	"github.com/certctl/certctl/plugins/target/internal/runcmd"
	"github.com/certctl/certctl/plugins/target/internal/tlsprobe"
	"github.com/certctl/certctl/sdk/plugin"
)

// outputLimit bounds the command output quoted in an error.
const outputLimit = 4 << 10

// DeployCertificate writes the certificate, chain and key where the
// server reads them, checks the server's configuration and reloads it.
// Files that already hold what would be written are left alone; when all
// do, nothing runs and Changed is false. On any failure after the first
// write, the previous files are put back. The previous files are kept on
// disk in a journal until the reload succeeded, so that a plugin killed
// meanwhile is recovered by the next call for these files (recover.go);
// an interrupted deployment found here is completed or rolled back before
// this one starts, and the result's message and metadata ("recovered")
// say which.
func (t *Target) DeployCertificate(ctx context.Context, req plugin.DeployRequest) (plugin.DeployResult, error) {
	start := time.Now()
	if err := ctx.Err(); err != nil {
		return plugin.DeployResult{}, err
	}
	c, err := t.readConfig(req.Config)
	if err != nil {
		return plugin.DeployResult{}, err
	}
	bundle, err := pemfile.Parse(req.CertificatePEM, req.ChainPEM, req.PrivateKeyPEM)
	if err != nil {
		return plugin.DeployResult{}, plugin.Errorf(plugin.CodeInvalidInput, "%v", err)
	}
	uid, gid, err := c.ids()
	if err != nil {
		return plugin.DeployResult{}, err
	}
	files := t.spec.Layout(c.cfg, bundle)
	for _, f := range files {
		if err := atomicfile.CheckDir(f.Path, req.DryRun); err != nil {
			return plugin.DeployResult{}, plugin.InvalidConfig(f.Field, "%v", err)
		}
	}
	for _, cmd := range []struct {
		field string
		argv  []string
	}{{FieldValidateCommand, c.validate}, {FieldReloadCommand, c.reload}} {
		if len(cmd.argv) > 0 {
			if _, err := runcmd.LookPath(cmd.argv[0]); err != nil {
				return plugin.DeployResult{}, plugin.InvalidConfig(cmd.field, "command %q is not installed here: %v", cmd.argv[0], err)
			}
		}
	}

	jpath := t.journalPath(c)
	unlock, err := t.lock(ctx, files, jpath, !req.DryRun)
	if err != nil {
		return plugin.DeployResult{}, err
	}
	defer unlock()
	meta := map[string]string{}
	var recovered recovery
	if req.DryRun {
		if journal.Exists(jpath) {
			meta["interrupted_deployment"] = jpath
		}
	} else {
		// An interrupted deployment to these files is finished or undone
		// first: its backups are the only copy of what was there before.
		if recovered, err = t.recoverJournal(ctx, jpath); err != nil {
			return plugin.DeployResult{}, err
		}
		if recovered.Outcome != "" {
			meta["recovered"] = recovered.Outcome
		}
	}
	var changed, unchanged []File
	for _, f := range files {
		same, err := atomicfile.Holds(f.Path, f.Content)
		if err != nil {
			return plugin.DeployResult{}, fileError(f, err)
		}
		if same {
			unchanged = append(unchanged, f)
		} else {
			changed = append(changed, f)
		}
	}
	meta["files_written"], meta["files_unchanged"] = paths(nil), paths(unchanged)
	if c.verifyAddress != "" {
		meta["address"] = c.verifyAddress
	}
	done := func(res plugin.DeployResult) plugin.DeployResult {
		meta["duration_ms"] = strconv.FormatInt(time.Since(start).Milliseconds(), 10)
		res.Metadata = meta
		if recovered.Outcome != "" {
			res.Message = recovered.String() + "; then: " + res.Message
		}
		return res
	}

	if req.DryRun {
		msg := "dry run: the files already hold this certificate; nothing would be done"
		if len(changed) > 0 {
			meta["would_write"] = paths(changed)
			msg = fmt.Sprintf("dry run: would write %s, then run %s", paths(changed), t.commandsText(c))
		}
		if meta["interrupted_deployment"] != "" {
			msg += "; an interrupted deployment (" + jpath + ") would be completed or rolled back first"
		}
		return done(plugin.DeployResult{Message: msg}), nil
	}
	if len(changed) == 0 {
		return done(plugin.DeployResult{Message: "already deployed: " + paths(unchanged) + " hold this certificate"}), nil
	}
	if err := ctx.Err(); err != nil {
		return plugin.DeployResult{}, err
	}

	// The journal goes to disk before the first file changes: a process
	// that dies from here on leaves what the next one needs to finish the
	// deployment or undo it (see recover.go).
	j, err := journal.Begin(jpath, filePaths(changed), journalData{Config: c.cfg,
		Serial: tlsprobe.FormatSerial(bundle.Leaf.SerialNumber), Certificate: req.Metadata["certificate"]})
	if err != nil {
		return plugin.DeployResult{}, plugin.Errorf(plugin.CodePermanent, "keep the previous files before replacing them: %v", err)
	}
	tx := &atomicfile.Txn{}
	for _, f := range changed {
		if err := tx.Write(atomicfile.Spec{Path: f.Path, Content: f.Content, Secret: f.Secret, UID: uid, GID: gid}); err != nil {
			return plugin.DeployResult{}, t.undo(ctx, c, j, false, fileError(f, err))
		}
	}
	// The journal has the previous files: the copies in memory are not
	// needed.
	tx.Commit()
	meta["files_written"] = paths(changed)
	if err := j.MarkWritten(); err != nil {
		return plugin.DeployResult{}, t.undo(ctx, c, j, false, plugin.Errorf(plugin.CodePermanent, "%v", err))
	}
	if err := t.apply(ctx, c, j); err != nil {
		return plugin.DeployResult{}, err
	}
	if err := j.Finish(); err != nil {
		// Deployed all the same; the journal left behind says "written",
		// which the next call completes again (a reload) and removes.
		t.log.Warn("removing the deployment journal failed", "journal", jpath, "err", err)
	}
	res := done(plugin.DeployResult{Changed: true,
		Message: fmt.Sprintf("wrote %s; %s succeeded", paths(changed), t.commandsText(c))})
	t.log.Info("certificate deployed", "serial", bundle.Leaf.SerialNumber.Text(16), "files", meta["files_written"],
		"duration_ms", meta["duration_ms"], "certificate_name", req.Metadata["certificate_name"])
	return res, nil
}

// apply runs the validate and reload commands on the written files,
// undoing the writes when one fails or ctx ends.
func (t *Target) apply(ctx context.Context, c config, j *journal.Journal) error {
	if err := ctx.Err(); err != nil {
		return t.undo(ctx, c, j, false, err)
	}
	if len(c.validate) > 0 {
		if out, err := runcmd.Run(ctx, c.validate, c.commandTimeout); err != nil {
			return t.undo(ctx, c, j, false, commandError(FieldValidateCommand, err, out))
		}
	}
	// Stop here rather than reload if the caller gave up meanwhile: the
	// server has not seen the new files yet.
	if err := ctx.Err(); err != nil {
		return t.undo(ctx, c, j, false, err)
	}
	if out, err := runcmd.Run(ctx, c.reload, c.commandTimeout); err != nil {
		return t.undo(ctx, c, j, true, commandError(FieldReloadCommand, err, out))
	}
	return nil
}

// undo puts the previous files back after cause, and reloads the server
// again when it may have loaded the new ones. The error says what
// happened; when ctx ended it wraps ctx.Err() so that the host sees a
// cancellation or deadline.
func (t *Target) undo(ctx context.Context, c config, j *journal.Journal, reloaded bool, cause error) error {
	var written []string
	for _, f := range j.Files() {
		written = append(written, f.Path)
	}
	restored := "the previous files were restored"
	restoreErr := j.Restore(firstLine(cause.Error()))
	if restoreErr != nil {
		// The journal stays: the next call for these files tries again.
		restored = "restoring the previous files FAILED: " + restoreErr.Error()
		t.log.Error("restoring the previous files failed", "files", strings.Join(written, ", "), "err", restoreErr)
	}
	var again, againOutput string
	if reloaded {
		// The caller may be gone: this run must happen regardless, so that
		// the server does not stay on files that are no longer there.
		rctx := context.WithoutCancel(ctx)
		if out, err := runcmd.Run(rctx, c.reload, c.commandTimeout); err != nil {
			again = "; running reload_command again after restoring failed too"
			var re *runcmd.Error
			if errors.As(err, &re) {
				again += " (" + strings.TrimPrefix(re.Error(), runcmd.Quote(c.reload)+": ") + ")"
			}
			if s := runcmd.Summary(out, outputLimit/2); s != "" {
				againOutput = "\noutput of the second run:\n" + s
			}
		} else {
			again = "; reload_command was run again"
		}
	}
	if restoreErr == nil {
		if err := j.Finish(); err != nil {
			t.log.Warn("removing the deployment journal failed", "journal", j.Path(), "err", err)
		}
	}
	t.log.Warn("deployment failed, previous files put back", "files", strings.Join(written, ", "), "err", cause,
		"restored", restored+again)
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(cause, ctxErr) {
		return fmt.Errorf("deployment interrupted, %s%s: %w", restored, again, cause)
	}
	var pe *plugin.Error
	if errors.As(cause, &pe) {
		out := *pe
		base, output, _ := strings.Cut(pe.Message, "\n")
		out.Message = base + "; " + restored + again
		if output != "" {
			out.Message += "\noutput:\n" + output
		}
		out.Message += againOutput
		return &out
	}
	return fmt.Errorf("%w; %s%s", cause, restored, again)
}

// commandError describes a failed validate or reload command, with its
// output on the lines after the first. A command that ran out of time is
// worth retrying; one that failed means the server refuses the files or
// its configuration is broken.
func commandError(field string, err error, out []byte) error {
	var re *runcmd.Error
	if !errors.As(err, &re) {
		return err // ctx ended: undo reports it as such
	}
	code := plugin.CodePermanent
	if re.TimedOut {
		code = plugin.CodeTransient
	}
	msg := field + " failed: " + re.Error()
	if s := runcmd.Summary(out, outputLimit); s != "" {
		msg += "\n" + s
	}
	return &plugin.Error{Code: code, Message: msg}
}

// fileError describes a file that could not be read or written.
func fileError(f File, err error) error {
	if errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrNotExist) {
		return plugin.InvalidConfig(f.Field, "%v", err)
	}
	return plugin.Errorf(plugin.CodePermanent, "%s %s: %v", f.Field, f.Path, err)
}

// commandsText says which commands a deployment runs, for messages.
func (t *Target) commandsText(c config) string {
	if len(c.validate) == 0 {
		return "reload_command (" + runcmd.Quote(c.reload) + ")"
	}
	return "validate_command (" + runcmd.Quote(c.validate) + ") and reload_command (" + runcmd.Quote(c.reload) + ")"
}

func filePaths(files []File) []string {
	p := make([]string, len(files))
	for i, f := range files {
		p[i] = f.Path
	}
	return p
}

func paths(files []File) string {
	p := make([]string, len(files))
	for i, f := range files {
		p[i] = f.Path
	}
	return strings.Join(p, ",")
}

// lockKeys are the cleaned paths of files: deployments that write the
// same files must not interleave their writes and rollbacks.
func lockKeys(files []File) []string {
	keys := make([]string, len(files))
	for i, f := range files {
		keys[i] = filepath.Clean(f.Path)
	}
	return keys
}
