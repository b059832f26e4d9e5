// Package journal keeps a file deployment's rollback state on disk, so
// that a target plugin that dies between replacing a server's files and
// reloading the server (killed, out of memory, the host rebooted) can be
// finished or undone by the next process instead of leaving new files on
// disk that the server has not loaded, with the old ones gone.
//
// A deployment goes through these steps, each durable (file and directory
// synced) before the next:
//
//  1. Begin copies each file about to be replaced to a backup next to it
//     (".<name>.certctl-prev", mode 0600 whatever the file's mode: it may
//     hold a private key), then writes the journal (PhaseWriting): which
//     files, whether each existed, its mode and owner, and the caller's
//     data (what it needs to finish: its configuration, the new serial).
//  2. The caller replaces the files, then calls MarkWritten
//     (PhaseWritten): every file holds the new content.
//  3. The caller checks and reloads the server, then calls Finish, which
//     removes the journal and then the backups.
//
// To undo, Restore records PhaseRollingBack with the reason, then puts
// every previous file back from its backup; the caller reloads the server
// and calls Finish. A process that finds a journal (Load) knows from its
// phase what is safe: PhaseWriting and PhaseRollingBack can only be rolled
// back (some files may be new, some old); PhaseWritten may be completed.
//
// A crash at any point leaves a state the next process recovers from:
// before the journal exists, the files are untouched (stray backups are
// overwritten by the next Begin); the journal itself is replaced by
// rename, so it is whole or absent; Restore and Finish can be repeated.
package journal

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/certctl/certctl/plugins/target/internal/atomicfile"
)

// Version is the journal's format version.
const Version = 1

// Phase is how far a deployment got.
type Phase string

// Phases of a deployment.
const (
	// PhaseWriting: backups are taken and the files are being replaced;
	// some may be new, some old.
	PhaseWriting Phase = "writing"
	// PhaseWritten: every file holds the new content; the server may not
	// have loaded it yet.
	PhaseWritten Phase = "written"
	// PhaseRollingBack: the previous files are being put back.
	PhaseRollingBack Phase = "rolling_back"
)

// backupMode is the mode of every backup: it may hold a private key.
const backupMode fs.FileMode = 0o600

// File is one file a deployment replaces.
type File struct {
	Path    string      `json:"path"`    // symbolic links resolved
	Existed bool        `json:"existed"` // false: Restore removes it
	Backup  string      `json:"backup,omitempty"`
	Mode    fs.FileMode `json:"mode,omitempty"` // of the previous file
	UID     int         `json:"uid"`
	GID     int         `json:"gid"`
}

// record is the journal file's content.
type record struct {
	Version   int             `json:"version"`
	Phase     Phase           `json:"phase"`
	Reason    string          `json:"reason,omitempty"` // why it rolls back
	StartedAt time.Time       `json:"started_at"`
	PID       int             `json:"pid"` // of the process that began it, for people reading it
	Files     []File          `json:"files"`
	Data      json.RawMessage `json:"data,omitempty"`
}

// Journal is one deployment's journal.
type Journal struct {
	path string
	rec  record
	// crash, set by tests, is called at each crash point: an error stops
	// the operation there, leaving the disk as a crash would.
	crash func(point string) error
}

// PathFor is where the journal of the deployment that writes file (and
// maybe others) lives: next to it, so that it is on the same file system
// and under the same permissions, and found again from the same
// configuration.
func PathFor(file string) string {
	dir, base := filepath.Split(filepath.Clean(file))
	return filepath.Join(dir, "."+base+".certctl-journal")
}

// BackupPath is where the previous content of file is kept.
func BackupPath(file string) string {
	dir, base := filepath.Split(file)
	return filepath.Join(dir, "."+base+".certctl-prev")
}

// Exists reports whether a journal is at path.
func Exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Begin backs up the files about to be replaced and records the journal
// at path (PhaseWriting), with data (marshalled as JSON) for whoever
// recovers it. The files are not changed.
func Begin(path string, files []string, data any) (*Journal, error) {
	return begin(path, files, data, nil)
}

func begin(path string, files []string, data any, crash func(string) error) (*Journal, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("journal data: %w", err)
	}
	j := &Journal{path: path, crash: crash, rec: record{Version: Version, Phase: PhaseWriting,
		StartedAt: time.Now().UTC(), PID: os.Getpid(), Data: raw}}
	for _, p := range files {
		f, err := backup(p)
		if err != nil {
			return nil, err
		}
		j.rec.Files = append(j.rec.Files, f)
		if err := j.point("backup"); err != nil {
			return nil, err
		}
	}
	if err := j.save(); err != nil {
		return nil, err
	}
	return j, nil
}

// backup copies the file at p, if there is one, to its backup path.
func backup(p string) (File, error) {
	real, err := atomicfile.Resolve(p)
	if err != nil {
		return File{}, err
	}
	f := File{Path: real, UID: atomicfile.Keep, GID: atomicfile.Keep}
	fi, err := os.Lstat(real)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return File{}, err
	}
	if !fi.Mode().IsRegular() {
		return File{}, fmt.Errorf("%s is not a regular file", p)
	}
	content, err := os.ReadFile(real)
	if err != nil {
		return File{}, err
	}
	f.Existed, f.Backup, f.Mode = true, BackupPath(real), fi.Mode().Perm()
	f.UID, f.GID = atomicfile.Owner(fi)
	if err := atomicfile.Replace(f.Backup, content, backupMode, atomicfile.Keep, atomicfile.Keep); err != nil {
		return File{}, fmt.Errorf("back up %s: %w", real, err)
	}
	return f, nil
}

// Load reads the journal at path; it returns nil and no error when there
// is none.
func Load(path string) (*Journal, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read journal: %w", err)
	}
	j := &Journal{path: path}
	if err := json.Unmarshal(b, &j.rec); err != nil {
		return nil, fmt.Errorf("journal %s is unreadable: %w", path, err)
	}
	if j.rec.Version != Version {
		return nil, fmt.Errorf("journal %s has format version %d; this plugin reads %d", path, j.rec.Version, Version)
	}
	switch j.rec.Phase {
	case PhaseWriting, PhaseWritten, PhaseRollingBack:
	default:
		return nil, fmt.Errorf("journal %s has an unknown phase %q", path, j.rec.Phase)
	}
	return j, nil
}

// Path is where the journal is.
func (j *Journal) Path() string { return j.path }

// Phase is how far the deployment got.
func (j *Journal) Phase() Phase { return j.rec.Phase }

// Reason is why the deployment is being rolled back, in PhaseRollingBack.
func (j *Journal) Reason() string { return j.rec.Reason }

// StartedAt is when Begin ran.
func (j *Journal) StartedAt() time.Time { return j.rec.StartedAt }

// Files are the files the deployment replaces.
func (j *Journal) Files() []File { return slices.Clone(j.rec.Files) }

// Decode unmarshals the data given to Begin into v.
func (j *Journal) Decode(v any) error {
	if err := json.Unmarshal(j.rec.Data, v); err != nil {
		return fmt.Errorf("journal %s: data: %w", j.path, err)
	}
	return nil
}

// MarkWritten records that every file holds the new content.
func (j *Journal) MarkWritten() error {
	j.rec.Phase = PhaseWritten
	return j.save()
}

// Restore records that the deployment rolls back because of reason (the
// first reason recorded stays), then puts back every previous file, last
// first: its content, mode and owner, atomically; a file that did not
// exist is removed. It tries every file and reports all that failed; the
// journal stays until Finish, so a crash or failure here can be retried.
func (j *Journal) Restore(reason string) error {
	if j.rec.Phase != PhaseRollingBack {
		j.rec.Phase, j.rec.Reason = PhaseRollingBack, reason
		if err := j.save(); err != nil {
			return err
		}
	}
	var errs []error
	for _, f := range slices.Backward(j.rec.Files) {
		if err := restore(f); err != nil {
			errs = append(errs, fmt.Errorf("restore %s: %w", f.Path, err))
		}
		if err := j.point("restore"); err != nil {
			return err
		}
	}
	return errors.Join(errs...)
}

func restore(f File) error {
	if !f.Existed {
		err := os.Remove(f.Path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return atomicfile.SyncDir(filepath.Dir(f.Path))
	}
	content, err := os.ReadFile(f.Backup)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return atomicfile.Replace(f.Path, content, f.Mode, f.UID, f.GID)
}

// Finish ends the deployment: it removes the journal, durably, then the
// backups. A crash between the two leaves backups without a journal,
// which nothing reads and the next Begin overwrites.
func (j *Journal) Finish() error {
	if err := os.Remove(j.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	if err := atomicfile.SyncDir(filepath.Dir(j.path)); err != nil {
		return err
	}
	if err := j.point("finish"); err != nil {
		return err
	}
	var errs []error
	for _, f := range j.rec.Files {
		if f.Backup == "" {
			continue
		}
		if err := os.Remove(f.Backup); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove backup: %w", err))
		}
	}
	return errors.Join(errs...)
}

// save writes the record atomically and durably.
func (j *Journal) save() error {
	b, err := json.MarshalIndent(j.rec, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.Replace(j.path, append(b, '\n'), backupMode, atomicfile.Keep, atomicfile.Keep); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	return nil
}

func (j *Journal) point(name string) error {
	if j.crash == nil {
		return nil
	}
	return j.crash(name)
}
