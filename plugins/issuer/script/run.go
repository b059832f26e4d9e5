// This file runs a command: with its environment and stdin, in its own
// process group so that a timeout kills whatever it started, with stdout
// and stderr bounded, and with the way it ended classified into an error
// code the host acts on.

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/certctl/certctl/sdk/plugin"

	"github.com/certctl/certctl/plugins/internal/procgroup"
)

// Bounds on what a command may print. A certificate chain is a few KiB;
// more than a MiB is a command gone wrong, not a chain.
const (
	maxStdout = 1 << 20
	maxStderr = 64 << 10
	// maxStderrInError is how much of stderr (its end, where the error
	// usually is) goes into an error message.
	maxStderrInError = 2 << 10
	// waitDelay bounds the wait for output pipes after the process group
	// is killed, in case something escaped the group and holds them open.
	waitDelay = 5 * time.Second
)

// Exit statuses with a meaning of their own (sysexits.h).
const (
	exitDataErr  = 65 // EX_DATAERR: the CA refuses this request
	exitTempFail = 75 // EX_TEMPFAIL: try again later
)

// run runs argv, the command of configuration field, with the CERTCTL_*
// variables vars and stdin, and returns its stdout when it exits with
// status 0.
func (i *issuer) run(ctx context.Context, s settings, field string, argv, vars []string, stdin []byte) ([]byte, error) {
	runCtx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, argv[0], argv[1:]...)
	cmd.Env = commandEnv(i.environ(), s, vars)
	cmd.Dir = s.workingDir
	cmd.Stdin = bytes.NewReader(stdin)
	stdout, stderr := &capped{max: maxStdout}, &capped{max: maxStderr, tail: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	procgroup.Own(cmd)
	cmd.WaitDelay = waitDelay
	err := cmd.Run()

	name := commandName(argv)
	detail := func() string { return stderrDetail(stderr, s.env) }
	switch {
	case ctx.Err() != nil:
		// The host's deadline or cancellation, not the configured timeout:
		// report it as such (codes deadline and canceled).
		return nil, fmt.Errorf("%s: stopped: %w%s", name, ctx.Err(), detail())
	case errors.Is(runCtx.Err(), context.DeadlineExceeded):
		return nil, plugin.Errorf(plugin.CodeTransient, "%s timed out after %s and was killed (timeout)%s", name, s.timeout, detail())
	}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		return nil, exitError(name, exitErr, detail())
	case err != nil:
		// It did not start (or its pipes failed): the configuration names
		// something that cannot run here.
		return nil, plugin.InvalidConfig(field, "%s could not be run: %v", name, err)
	case stdout.over:
		return nil, plugin.Errorf(plugin.CodePermanent, "%s printed more than %d bytes on stdout", name, maxStdout)
	}
	return stdout.buf.Bytes(), nil
}

// exitError classifies a command's exit status: 75 is transient, 65 a
// refused request, anything else (a signal included) permanent.
func exitError(name string, e *exec.ExitError, detail string) error {
	status := e.ExitCode()
	switch status {
	case exitTempFail:
		return plugin.Errorf(plugin.CodeTransient, "%s exited with status 75 (temporary failure)%s", name, detail)
	case exitDataErr:
		return plugin.Errorf(plugin.CodeInvalidInput, "%s exited with status 65 (request refused)%s", name, detail)
	case -1:
		return plugin.Errorf(plugin.CodePermanent, "%s was killed (%s)%s", name, e.ProcessState, detail)
	}
	return plugin.Errorf(plugin.CodePermanent, "%s exited with status %d%s", name, status, detail)
}

// stderrDetail is the end of what a command wrote to stderr, for an error
// message: trimmed, cut to maxStderrInError, valid UTF-8, with the values
// of the configured environment variables (secrets, often) blanked out.
func stderrDetail(c *capped, env []string) string {
	text := strings.TrimSpace(c.buf.String())
	for _, kv := range env {
		// Short values would blank out ordinary words; secrets are longer.
		if _, v, _ := strings.Cut(kv, "="); len(v) >= 6 {
			text = strings.ReplaceAll(text, v, "[redacted]")
		}
	}
	if text == "" {
		return " (nothing on stderr)"
	}
	if len(text) > maxStderrInError {
		text = text[len(text)-maxStderrInError:]
		for len(text) > 0 && !utf8.RuneStart(text[0]) {
			text = text[1:]
		}
		text = "…" + text
	} else if c.over {
		text = "…" + text
	}
	return ": " + strings.ToValidUTF8(text, "?")
}

// capped keeps the first max bytes written to it (with tail, the last
// max bytes) and drops the rest, without failing the writer: a command
// that prints too much is not blocked on a full pipe.
type capped struct {
	max  int
	tail bool
	buf  bytes.Buffer
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	switch room := c.max - c.buf.Len(); {
	case room >= len(p):
		c.buf.Write(p)
	case c.tail:
		c.over = true
		keep := slices.Concat(c.buf.Bytes(), p) // a copy: buf's memory is reused below
		c.buf.Reset()
		c.buf.Write(keep[len(keep)-c.max:])
	default:
		c.over = true
		c.buf.Write(p[:max(room, 0)])
	}
	return len(p), nil
}
