package filetarget

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/certctl/certctl/plugins/target/internal/journal"
	"github.com/certctl/certctl/plugins/target/internal/pemfile"
	"github.com/certctl/certctl/plugins/target/internal/runcmd"
	"github.com/certctl/certctl/plugins/target/internal/tlsprobe"
	"github.com/certctl/certctl/sdk/plugin"
)

// A deployment that was interrupted (the plugin killed between writing
// the files and reloading the server) is recovered by the next call for
// the same files, DeployCertificate or ValidateDeployment, before it does
// anything else. The agent makes that call after a restart for every
// deployment it had started and not reported: ValidateDeployment with the
// interrupted deployment's configuration and serial, whose answer then
// says which of the two happened and whether the new certificate is live.
//
// What recovery does depends on how far the deployment got (see package
// journal): once every file was written, it completes the deployment the
// way DeployCertificate would have (validate_command, reload_command, and
// with verify_address the served serial); if that fails, or the files
// were not all written, it puts the previous files back and runs
// reload_command again.

// Outcomes of a recovery, in messages and in DeployCertificate's
// "recovered" metadata.
const (
	RecoveredCompleted  = "completed after restart"
	RecoveredRolledBack = "rolled back"
)

// journalData is what a deployment's journal holds for its recovery.
type journalData struct {
	Config      plugin.Config `json:"config"` // normalised; file targets have no secret fields
	Serial      string        `json:"serial"` // of the new certificate, hexadecimal
	Certificate string        `json:"certificate,omitempty"`
}

// recovery says what recoverJournal did; its zero value: nothing to do.
type recovery struct {
	Outcome string // RecoveredCompleted or RecoveredRolledBack
	Serial  string // of the interrupted deployment
	Detail  string
}

func (r recovery) String() string {
	return fmt.Sprintf("the interrupted deployment of serial %s was %s: %s", r.Serial, r.Outcome, r.Detail)
}

// journalPath is where the journal of a deployment with configuration c
// lives: next to the file that holds the certificate.
func (t *Target) journalPath(c config) string {
	return journal.PathFor(c.cfg.String(t.spec.LeafField))
}

// lock takes the locks a deployment of files holds: in memory for this
// process's calls, and with shared the journal's lock for other processes
// of this plugin (a dry run creates no lock file).
func (t *Target) lock(ctx context.Context, files []File, jpath string, shared bool) (func(), error) {
	unlock, err := t.locks.Lock(ctx, append(lockKeys(files), jpath)...)
	if err != nil {
		return nil, err
	}
	if !shared {
		return unlock, nil
	}
	unshare, err := journal.Lock(ctx, jpath)
	if err != nil {
		unlock()
		return nil, plugin.Errorf(plugin.CodePermanent, "%v", err)
	}
	return func() { unshare(); unlock() }, nil
}

// recoverFor recovers the interrupted deployment of configuration c, if
// there is one.
func (t *Target) recoverFor(ctx context.Context, c config) (recovery, error) {
	jpath := t.journalPath(c)
	if !journal.Exists(jpath) {
		return recovery{}, nil
	}
	// The same locks as a deployment of c: a deployment in progress in
	// this process (or another) is not interrupted; recovery waits for it
	// and then finds nothing.
	unlock, err := t.lock(ctx, t.spec.Layout(c.cfg, &pemfile.Bundle{}), jpath, true)
	if err != nil {
		return recovery{}, err
	}
	defer unlock()
	return t.recoverJournal(ctx, jpath)
}

// recoverJournal completes or rolls back the deployment recorded at
// jpath, if any, with the locks held. It fails only when it could not get
// the files back to a whole state; the journal then stays for the next
// try.
func (t *Target) recoverJournal(ctx context.Context, jpath string) (recovery, error) {
	j, err := journal.Load(jpath)
	if err != nil {
		return recovery{}, plugin.Errorf(plugin.CodePermanent, "%v: inspect it and the files it names, then remove it", err)
	}
	if j == nil {
		return recovery{}, nil
	}
	var d journalData
	var c config
	reason := ""
	if err := j.Decode(&d); err != nil {
		reason = err.Error()
	} else if c, err = t.readConfig(d.Config); err != nil {
		reason = "the configuration it was made with is not valid now: " + err.Error()
	}
	r := recovery{Serial: d.Serial}
	switch {
	case reason != "":
	case j.Phase() == journal.PhaseWriting:
		reason = "the plugin stopped while writing the files"
	case j.Phase() == journal.PhaseRollingBack:
		reason = j.Reason()
	default: // PhaseWritten: every file holds the new certificate
		detail, err := t.complete(ctx, c, d.Serial)
		if err == nil {
			if err := j.Finish(); err != nil {
				t.log.Warn("removing the deployment journal failed", "journal", jpath, "err", err)
			}
			r.Outcome, r.Detail = RecoveredCompleted, detail
			t.log.Info("interrupted deployment completed", "serial", d.Serial, "certificate", d.Certificate,
				"started_at", j.StartedAt(), "detail", detail)
			return r, nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return recovery{}, ctxErr // the caller gave up; the journal stays for the next one
		}
		reason = err.Error()
	}

	// From here it runs to its end whatever the caller does: the server
	// must not be left between two sets of files.
	rctx := context.WithoutCancel(ctx)
	if err := j.Restore(firstLine(reason)); err != nil {
		t.log.Error("rolling back an interrupted deployment failed", "journal", jpath, "err", err)
		return recovery{}, plugin.Errorf(plugin.CodePermanent,
			"an interrupted deployment of serial %s (%s) could not be rolled back: %v; its journal %s stays for the next try",
			d.Serial, firstLine(reason), err, jpath)
	}
	why, output, _ := strings.Cut(reason, "\n")
	r.Outcome, r.Detail = RecoveredRolledBack, why+"; the previous files were restored"
	if c.reload != nil {
		// Whether the server had loaded the new files is not known: it
		// loads the restored ones either way.
		if out, err := runcmd.Run(rctx, c.reload, c.commandTimeout); err != nil {
			r.Detail += "; running reload_command after restoring failed: " + firstLine(commandError(FieldReloadCommand, err, out).Error())
		} else {
			r.Detail += "; reload_command was run again"
		}
	}
	if output != "" {
		r.Detail += "\noutput:\n" + output
	}
	if err := j.Finish(); err != nil {
		t.log.Warn("removing the deployment journal failed", "journal", jpath, "err", err)
	}
	t.log.Warn("interrupted deployment rolled back", "serial", d.Serial, "certificate", d.Certificate,
		"started_at", j.StartedAt(), "detail", r.Detail)
	return r, nil
}

// complete does what an interrupted deployment had left to do once its
// files were written: check the configuration, reload, and with
// verify_address check that the new serial is served.
func (t *Target) complete(ctx context.Context, c config, serial string) (string, error) {
	want, err := tlsprobe.ParseSerial(serial)
	if err != nil {
		return "", fmt.Errorf("the journal's serial: %w", err)
	}
	if len(c.validate) > 0 {
		if out, err := runcmd.Run(ctx, c.validate, c.commandTimeout); err != nil {
			return "", commandError(FieldValidateCommand, err, out)
		}
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	if out, err := runcmd.Run(ctx, c.reload, c.commandTimeout); err != nil {
		return "", commandError(FieldReloadCommand, err, out)
	}
	done := t.commandsText(c) + " succeeded"
	if c.verifyAddress == "" {
		return done, nil
	}
	res, err := t.checkLive(ctx, c, want)
	if err != nil {
		return "", err
	}
	if !res.Valid {
		return "", errors.New(res.Message)
	}
	return done + "; " + res.Message, nil
}

// firstLine is s up to its first line break: a reason without the
// command output that follows it.
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
