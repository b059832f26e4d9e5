package doctest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// TestRunner runs a document that uses every convention and checks what
// the runner did beyond the blocks: the background block got SIGINT, the
// cleanup block ran.
func TestRunner(t *testing.T) {
	r := run(t, "tools/doctest/testdata/selftest.md")
	tmp := filepath.Join(r.dir, "tmp")
	for _, f := range []string{"background-stopped", "cleaned"} {
		if _, err := os.Stat(filepath.Join(tmp, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestRunnerFails checks that a wrong output and a failing command fail
// the test, naming the document and the line, with what was printed, and
// that cleanup blocks still run.
func TestRunnerFails(t *testing.T) {
	tests := []struct {
		doc  string
		want []string
		not  string
	}{
		{"fails-output.md", []string{"fails-output.md:1: output differs", `expected line 2 "three", got line 2 "two"`}, ""},
		{"fails-command.md", []string{"fails-command.md:1: block failed with exit status 1", "--- output\nbefore\n"}, "before\nafter"},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			out := t.TempDir()
			t.Setenv("SELFTEST_OUT", out) // where the cleanup blocks write
			rec := &recorder{TB: t}
			var r *runner
			done := make(chan struct{})
			go func() {
				defer close(done)
				r = run(rec, "tools/doctest/testdata/"+tt.doc)
			}()
			<-done
			log := rec.String()
			if !rec.failed {
				t.Fatalf("the document passed")
			}
			for _, w := range tt.want {
				if !strings.Contains(log, w) {
					t.Errorf("the report lacks %q:\n%s", w, log)
				}
			}
			if tt.not != "" && strings.Contains(log, tt.not) {
				t.Errorf("the report has %q:\n%s", tt.not, log)
			}
			if r != nil {
				t.Errorf("run returned after a failure")
			}
			if _, err := os.Stat(filepath.Join(out, "cleaned")); err != nil {
				t.Errorf("the cleanup block did not run: %v", err)
			}
		})
	}
}

// recorder is a testing.TB whose failures are recorded instead of failing
// the test; Fatal ends the goroutine, as testing.T's does.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed bool
	log    strings.Builder
}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = true
	fmt.Fprintf(&r.log, format+"\n", args...)
}

func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}

func (r *recorder) Fatal(args ...any) {
	r.Error(args...)
	runtime.Goexit()
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.log.String()
}
