package pgembed

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeBinaries creates dir holding executables with the given names.
func fakeBinaries(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFindBinariesNothingInstalled(t *testing.T) {
	empty := t.TempDir()
	f := finder{path: empty, locations: []string{filepath.Join(empty, "lib/postgresql/*/bin")}}
	_, err := f.find(context.Background(), "")
	if !errors.Is(err, ErrNoBinaries) {
		t.Fatalf("err = %v, want ErrNoBinaries", err)
	}
	for _, want := range []string{"apt-get install postgresql", "brew install postgresql", "CERTCTL_DATABASE_URL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func TestFindBinariesExplicitDirWithoutBinaries(t *testing.T) {
	empty := t.TempDir()
	_, err := FindBinaries(empty)
	if err == nil || !strings.Contains(err.Error(), empty) || !strings.Contains(err.Error(), "initdb, postgres") {
		t.Fatalf("err = %v, want one naming %s and the missing binaries", err, empty)
	}
}

func TestFindBinariesSearchOrder(t *testing.T) {
	root := t.TempDir()
	fakeBinaries(t, filepath.Join(root, "lib/postgresql/9.6/bin"), "initdb", "postgres")
	fakeBinaries(t, filepath.Join(root, "lib/postgresql/15/bin"), "initdb", "postgres")
	fakeBinaries(t, filepath.Join(root, "lib/postgresql/16/bin"), "initdb") // incomplete: skipped
	fakeBinaries(t, filepath.Join(root, "onpath"), "initdb", "postgres")
	fakeBinaries(t, filepath.Join(root, "clientonly"), "psql", "initdb")
	locations := []string{filepath.Join(root, "lib/postgresql/*/bin")}

	tests := []struct {
		name     string
		path     string
		explicit string
		want     string
	}{
		{"highest complete version", filepath.Join(root, "clientonly"), "", filepath.Join(root, "lib/postgresql/15/bin")},
		{"PATH before fixed locations", filepath.Join(root, "clientonly") + string(os.PathListSeparator) + filepath.Join(root, "onpath"), "", filepath.Join(root, "onpath")},
		{"explicit wins", filepath.Join(root, "onpath"), filepath.Join(root, "lib/postgresql/9.6/bin"), filepath.Join(root, "lib/postgresql/9.6/bin")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := finder{path: tt.path, locations: locations}.find(context.Background(), tt.explicit)
			if err != nil || got != tt.want {
				t.Errorf("find = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestFindBinariesOnThisMachine(t *testing.T) {
	dir, err := FindBinaries("")
	if err != nil {
		t.Fatalf("the tests need the PostgreSQL server binaries (apt-get install postgresql): %v", err)
	}
	if !hasServerBinaries(dir) {
		t.Errorf("FindBinaries returned %s without initdb and postgres", dir)
	}
}

func TestSplitSeverity(t *testing.T) {
	tests := []struct{ line, severity, msg string }{
		{"LOG:  database system is ready to accept connections", "LOG", "database system is ready to accept connections"},
		{"FATAL:  password authentication failed for user \"x\"", "FATAL", "password authentication failed for user \"x\""},
		{"\tcontinued: line", "", "\tcontinued: line"},
		{"Success. You can now start the database server", "", "Success. You can now start the database server"},
	}
	for _, tt := range tests {
		severity, msg := splitSeverity(tt.line)
		if severity != tt.severity || msg != tt.msg {
			t.Errorf("splitSeverity(%q) = %q, %q; want %q, %q", tt.line, severity, msg, tt.severity, tt.msg)
		}
	}
}
