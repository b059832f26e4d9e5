package doctest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// blockDeadline stops a block that hangs; documented commands finish in
// seconds.
const blockDeadline = 3 * time.Minute

// saveState is appended to every block: it writes the shell's variables,
// functions and working directory for the next block. Bash's own and
// read-only variables are left out.
const saveState = `
set +euo pipefail
{
  declare -p $(compgen -v | grep -Ev '^(BASH|BASH_.*|BASHOPTS|BASHPID|COLUMNS|COMP_.*|DIRSTACK|EPOCHREALTIME|EPOCHSECONDS|EUID|FUNCNAME|GROUPS|HISTCMD|IFS|LINENO|LINES|OLDPWD|OPTARG|OPTERR|OPTIND|PIPESTATUS|PPID|PS[0-9]|PWD|RANDOM|SECONDS|SHELLOPTS|SHLVL|SRANDOM|UID|_|DOCTEST_.*)$')
  declare -f
  printf 'cd %q\n' "$PWD"
} >"$DOCTEST_STATE.new" 2>/dev/null && mv "$DOCTEST_STATE.new" "$DOCTEST_STATE"
`

// Run executes the document at path (relative to the repository root) as
// described in the package documentation, failing t at the first block
// that fails or prints something other than what the document shows.
func Run(t testing.TB, path string) {
	t.Helper()
	run(t, path)
}

// run is Run, returning the runner for the runner's own tests.
func run(t testing.TB, path string) *runner {
	t.Helper()
	root := RepoRoot(t)
	NeedTools(t, "bash", "curl", "jq", "openssl")
	data, err := os.ReadFile(filepath.Join(root, path))
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := Parse(path, string(data))
	if err != nil {
		t.Fatal(err)
	}
	r := &runner{t: t, root: root, path: path, dir: t.TempDir(), server: NewServer(t), subs: map[string]string{}}
	r.state = filepath.Join(r.dir, "state.sh")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	defer r.finish(ctx, blocks)
	for _, b := range blocks {
		if err := r.step(ctx, b); err != nil {
			r.failed = true
			t.Fatalf("%s:%d: %v\n%s", path, b.Line, err, r.context(b))
		}
	}
	return r
}

type runner struct {
	t      testing.TB
	root   string
	path   string
	dir    string // the document's temporary directory (TMPDIR of its blocks)
	state  string // the shell state file
	server *Server
	subs   map[string]string // text in blocks -> text run
	groups []int             // process groups the blocks started
	bg     []*background
	failed bool
	n      int    // blocks run, for file names
	last   string // output of the last block run, for the failure report
}

type background struct {
	block *Block
	cmd   *exec.Cmd
	log   string
	done  chan struct{}
	err   error
}

func (r *runner) step(ctx context.Context, b *Block) error {
	for _, a := range b.FreePorts {
		port, err := freePort()
		if err != nil {
			return err
		}
		r.subs[a] = port
	}
	r.last = ""
	switch {
	case b.Skip != "" || b.Cleanup:
		return nil
	case b.MakeRun:
		if err := r.startOrRestart(ctx); err != nil {
			return err
		}
		if b.Output != nil {
			r.last = r.unsubstitute(r.server.Stdout())
			if err := Match(b.Output.Text, r.last); err != nil {
				return fmt.Errorf("the server's output differs from the document's (line %d): %w", b.Output.Line, err)
			}
		}
		return nil
	}
	if b.Restart {
		if err := r.startOrRestart(ctx); err != nil {
			return err
		}
	} else if !r.server.Running() {
		if err := r.server.Start(ctx); err != nil {
			return err
		}
	}
	if b.Background {
		return r.startBackground(b)
	}
	out, err := r.run(ctx, b)
	r.last = out
	if err != nil {
		return err
	}
	if b.Output != nil {
		if err := Match(b.Output.Text, out); err != nil {
			return fmt.Errorf("output differs from the document's (line %d): %w", b.Output.Line, err)
		}
	}
	return nil
}

func (r *runner) startOrRestart(ctx context.Context) error {
	if r.server.Running() {
		return r.server.Restart(ctx)
	}
	return r.server.Start(ctx)
}

// script is the bash program for block b: the saved state, strict mode,
// the block with its substitutions, and (unless in the background) the
// state saved again.
func (r *runner) script(b *Block, save bool) string {
	var s strings.Builder
	s.WriteString("[ -f \"$DOCTEST_STATE\" ] && source \"$DOCTEST_STATE\"\nset -euo pipefail\n")
	s.WriteString(r.substitute(b.Text))
	if save {
		s.WriteString(saveState)
	}
	return s.String()
}

func (r *runner) substitute(text string) string {
	text = strings.ReplaceAll(text, "cck_...", r.server.Key)
	text = strings.ReplaceAll(text, "127.0.0.1:8443", r.server.Addr)
	for from, to := range r.subs {
		text = strings.ReplaceAll(text, from, to)
	}
	return text
}

// unsubstitute maps the test's addresses in an output back to the ones the
// document shows.
func (r *runner) unsubstitute(out string) string {
	for from, to := range r.subs {
		out = strings.ReplaceAll(out, to, from)
	}
	return strings.ReplaceAll(out, r.server.Addr, "127.0.0.1:8443")
}

// start starts bash for block b in its own process group, its output
// (stdout and stderr together) going to a file: a process the block leaves
// running keeps the file, not a pipe the test would wait on. It returns the
// file's name.
func (r *runner) start(b *Block, save bool) (*exec.Cmd, string, error) {
	r.n++
	base := filepath.Join(r.dir, fmt.Sprintf("block%03d", r.n))
	if err := os.WriteFile(base+".sh", []byte(r.script(b, save)), 0o600); err != nil {
		return nil, "", err
	}
	out, err := os.Create(base + ".out")
	if err != nil {
		return nil, "", err
	}
	defer out.Close()
	tmp := filepath.Join(r.dir, "tmp")
	if err := os.MkdirAll(tmp, 0o700); err != nil {
		return nil, "", err
	}
	cmd := exec.Command("bash", "--noprofile", "--norc", base+".sh")
	cmd.Dir = r.root
	cmd.Env = Env("DOCTEST_STATE="+r.state, "TMPDIR="+tmp)
	cmd.Stdin = nil
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start bash: %w", err)
	}
	r.groups = append(r.groups, cmd.Process.Pid)
	return cmd, base + ".out", nil
}

func (r *runner) run(ctx context.Context, b *Block) (string, error) {
	cmd, outFile, err := r.start(b, true)
	if err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(blockDeadline):
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = fmt.Errorf("still running after %v; killed", blockDeadline)
		<-done
	case <-ctx.Done():
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		err = ctx.Err()
	}
	raw, rerr := os.ReadFile(outFile)
	if rerr != nil {
		return "", rerr
	}
	out := r.unsubstitute(string(raw))
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return out, fmt.Errorf("block failed with exit status %d", exit.ExitCode())
		}
		return out, fmt.Errorf("block failed: %w", err)
	}
	return out, nil
}

func (r *runner) startBackground(b *Block) error {
	cmd, outFile, err := r.start(b, false)
	if err != nil {
		return err
	}
	bg := &background{block: b, cmd: cmd, log: outFile, done: make(chan struct{})}
	go func() { bg.err = cmd.Wait(); close(bg.done) }()
	r.bg = append(r.bg, bg)
	return nil
}

// finish runs the cleanup blocks, stops background blocks (each must exit
// 0 on SIGINT), whatever the blocks left running, and the server (which
// must exit 0).
func (r *runner) finish(ctx context.Context, blocks []*Block) {
	t := r.t
	for _, b := range blocks {
		if !b.Cleanup || b.Skip != "" {
			continue
		}
		out, err := r.run(ctx, b)
		if err != nil {
			t.Errorf("%s:%d: cleanup: %v\n--- output\n%s", r.path, b.Line, err, out)
		}
	}
	for _, bg := range r.bg {
		select {
		case <-bg.done:
			if !r.failed {
				t.Errorf("%s:%d: background block ended before the document did (%v)\n%s", r.path, bg.block.Line, bg.err, r.readLog(bg))
			}
			continue
		default:
		}
		_ = syscall.Kill(-bg.cmd.Process.Pid, syscall.SIGINT)
		select {
		case <-bg.done:
			if bg.err != nil && !r.failed {
				t.Errorf("%s:%d: background block did not exit cleanly on SIGINT (%v)\n%s", r.path, bg.block.Line, bg.err, r.readLog(bg))
			}
		case <-time.After(stopDeadline):
			_ = syscall.Kill(-bg.cmd.Process.Pid, syscall.SIGKILL)
			<-bg.done
			t.Errorf("%s:%d: background block still running %v after SIGINT\n%s", r.path, bg.block.Line, stopDeadline, r.readLog(bg))
		}
	}
	// Anything else the blocks left in their process groups.
	for _, g := range r.groups {
		_ = syscall.Kill(-g, syscall.SIGKILL)
	}
	if err := r.server.Stop(); err != nil {
		t.Errorf("%s: stopping the server: %v\n%s", r.path, err, r.server.Log(40))
	}
}

func (r *runner) readLog(bg *background) string {
	b, err := os.ReadFile(bg.log)
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("--- background block output\n%s", b)
}

// context describes a failed block for the report: the block, its output,
// the background blocks' output and the end of the server's log.
func (r *runner) context(b *Block) string {
	var s strings.Builder
	fmt.Fprintf(&s, "--- block\n%s", b.Text)
	if b.Output != nil {
		fmt.Fprintf(&s, "--- expected output (%s:%d)\n%s", r.path, b.Output.Line, b.Output.Text)
	}
	fmt.Fprintf(&s, "--- output\n%s\n", r.last)
	for _, bg := range r.bg {
		s.WriteString(r.readLog(bg))
	}
	fmt.Fprintf(&s, "--- server log (end)\n%s\n", r.server.Log(40))
	return s.String()
}

// freePort returns a loopback address with a port free at this moment.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
