// Package runcmd runs the commands that check and reload a server: with
// a time limit, with their combined output captured (bounded, private
// keys redacted), and with the whole process group stopped when time is
// up, so that a hanging shell pipeline cannot outlive its deployment.
package runcmd

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// waitDelay is how long Run waits for the output pipes to close after the
// command exited or was killed: a daemon it started may hold them open.
const waitDelay = 2 * time.Second

// captureLimit bounds the output kept from one command (its start and its
// end; what lies between is dropped).
const captureLimit = 64 << 10

// sbinDirs are searched for a command that is not on PATH: hosts often
// run plugins with a PATH that lacks the sbin directories where server
// binaries live.
var sbinDirs = []string{"/usr/local/sbin", "/usr/sbin", "/sbin"}

// LookPath finds a command as exec.LookPath does, then in sbinDirs.
func LookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err == nil || strings.ContainsRune(name, filepath.Separator) {
		return p, err
	}
	for _, dir := range sbinDirs {
		if p, serr := exec.LookPath(filepath.Join(dir, name)); serr == nil {
			return p, nil
		}
	}
	return "", err
}

// Error is a command that failed: it could not start, exited with an
// error, or ran out of time.
type Error struct {
	Argv     []string
	Err      error
	Output   []byte // combined output, bounded
	TimedOut bool
	Timeout  time.Duration
}

func (e *Error) Error() string {
	if e.TimedOut {
		return fmt.Sprintf("%s did not finish within %s", Quote(e.Argv), e.Timeout)
	}
	return fmt.Sprintf("%s: %v", Quote(e.Argv), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Run runs argv with a time limit and returns its combined output. A
// failure is an *Error; when ctx ends first, the error wraps ctx.Err().
func Run(ctx context.Context, argv []string, timeout time.Duration) ([]byte, error) {
	if len(argv) == 0 || argv[0] == "" {
		return nil, &Error{Argv: argv, Err: errors.New("no command")}
	}
	path, err := LookPath(argv[0])
	if err != nil {
		return nil, &Error{Argv: argv, Err: err}
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, path, argv[1:]...)
	cmd.Args[0] = argv[0]
	out := &capture{limit: captureLimit}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.WaitDelay = waitDelay
	inOwnGroup(cmd)
	err = cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) && cmd.ProcessState != nil && cmd.ProcessState.Success() {
		err = nil // it succeeded; a daemon it started kept the output open
	}
	if err == nil {
		return out.Bytes(), nil
	}
	if ctx.Err() != nil {
		return out.Bytes(), fmt.Errorf("%s: %w", Quote(argv), ctx.Err())
	}
	e := &Error{Argv: argv, Err: err, Output: out.Bytes()}
	if runCtx.Err() != nil {
		e.TimedOut, e.Timeout = true, timeout
	}
	return e.Output, e
}

// privateKeyPEM matches private key blocks, including one cut short.
var privateKeyPEM = regexp.MustCompile(`(?s)-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)`)

// Summary returns output fit for an error message: private keys redacted,
// trimmed, and cut to about max bytes (its start and its end, where
// servers print what went wrong).
func Summary(output []byte, max int) string {
	s := privateKeyPEM.ReplaceAllString(string(output), "[private key redacted]")
	s = strings.TrimSpace(strings.ToValidUTF8(s, "?"))
	if len(s) <= max {
		return s
	}
	half := max / 2
	head, tail := s[:half], s[len(s)-half:]
	return strings.ToValidUTF8(head, "") + "\n[... " + strconv.Itoa(len(s)-2*half) + " bytes omitted ...]\n" +
		strings.ToValidUTF8(tail, "")
}

// Quote renders argv as a shell would read it, for messages.
func Quote(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && !strings.ContainsFunc(a, needsQuote) {
			parts[i] = a
			continue
		}
		parts[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(parts, " ")
}

func needsQuote(r rune) bool {
	return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@%", r))
}

// capture keeps the first and last limit/2 bytes written to it.
type capture struct {
	limit   int
	head    []byte
	tail    []byte
	dropped int
}

func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	if room := c.limit/2 - len(c.head); room > 0 {
		k := min(room, len(p))
		c.head = append(c.head, p[:k]...)
		p = p[k:]
	}
	c.tail = append(c.tail, p...)
	if extra := len(c.tail) - c.limit/2; extra > 0 {
		c.dropped += extra
		c.tail = append(c.tail[:0], c.tail[extra:]...)
	}
	return n, nil
}

func (c *capture) Bytes() []byte {
	out := append([]byte{}, c.head...)
	if c.dropped > 0 {
		out = append(out, fmt.Sprintf("\n[... %d bytes omitted ...]\n", c.dropped)...)
	}
	return append(out, c.tail...)
}
