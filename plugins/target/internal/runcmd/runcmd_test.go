package runcmd

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRun(t *testing.T) {
	out, err := Run(context.Background(), []string{"sh", "-c", "echo out; echo err >&2"}, 5*time.Second)
	if err != nil || string(out) != "out\nerr\n" {
		t.Errorf("Run = %q, %v", out, err)
	}

	out, err = Run(context.Background(), []string{"sh", "-c", "echo broken config; exit 4"}, 5*time.Second)
	var re *Error
	if !errors.As(err, &re) || re.TimedOut || !strings.Contains(err.Error(), "exit status 4") || string(out) != "broken config\n" {
		t.Errorf("failing command: %q, %v", out, err)
	}

	_, err = Run(context.Background(), []string{"certctl-no-such-command"}, time.Second)
	if !errors.As(err, &re) {
		t.Errorf("missing command: %v", err)
	}
	if _, err := Run(context.Background(), nil, time.Second); err == nil {
		t.Error("empty command succeeded")
	}
}

// A command that runs out of time is killed with its whole process
// group: the background sleep holding the output pipe must not keep Run
// waiting.
func TestRunTimeoutKillsGroup(t *testing.T) {
	start := time.Now()
	_, err := Run(context.Background(), []string{"sh", "-c", "sleep 30 & sleep 30"}, 300*time.Millisecond)
	var re *Error
	if !errors.As(err, &re) || !re.TimedOut || !strings.Contains(err.Error(), "did not finish within 300ms") {
		t.Errorf("Run past its timeout: %v", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run took %s after the timeout", took)
	}
}

func TestRunCanceled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Run(ctx, []string{"sleep", "30"}, time.Minute)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run with an ending context: %v, want it wrapped", err)
	}
	var re *Error
	if errors.As(err, &re) {
		t.Error("a canceled run is reported as a command failure")
	}
}

// A command that starts a daemon holding its output open succeeds once
// it exits.
func TestRunDaemonHoldsOutput(t *testing.T) {
	start := time.Now()
	out, err := Run(context.Background(), []string{"sh", "-c", "setsid sleep 5 & echo $!; exit 0"}, 10*time.Second)
	if pid, perr := strconv.Atoi(strings.TrimSpace(string(out))); perr == nil {
		defer syscall.Kill(pid, syscall.SIGKILL)
	}
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Errorf("Run = %q, %v", out, err)
	}
	if took := time.Since(start); took > waitDelay+2*time.Second {
		t.Errorf("Run took %s", took)
	}
}

func TestLookPathSbin(t *testing.T) {
	if _, err := os.Stat("/usr/sbin/ldconfig"); err != nil {
		if _, err := os.Stat("/sbin/ldconfig"); err != nil {
			t.Fatal("this test needs ldconfig in an sbin directory")
		}
	}
	t.Setenv("PATH", "/nonexistent")
	if p, err := LookPath("ldconfig"); err != nil || !strings.HasSuffix(p, "/sbin/ldconfig") {
		t.Errorf("LookPath(ldconfig) with PATH lacking sbin = %q, %v", p, err)
	}
	if _, err := LookPath("certctl-no-such-command"); err == nil {
		t.Error("LookPath of a missing command succeeded")
	}
}

func TestSummary(t *testing.T) {
	key := "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----"
	got := Summary([]byte("error in\n"+key+"\nend\n"), 1000)
	if strings.Contains(got, "MIGHAgEA") || !strings.Contains(got, "[private key redacted]") || !strings.HasSuffix(got, "end") {
		t.Errorf("Summary = %q", got)
	}
	cut := Summary([]byte("x -----BEGIN EC PRIVATE KEY-----\nMIGHAgEAMBMG"), 1000)
	if strings.Contains(cut, "MIGHAgEA") {
		t.Errorf("Summary of a cut key = %q", cut)
	}
	long := strings.Repeat("a", 5000) + "THE END"
	got = Summary([]byte(long), 100)
	if len(got) > 150 || !strings.HasSuffix(got, "THE END") || !strings.Contains(got, "bytes omitted") {
		t.Errorf("Summary of long output = %q", got)
	}
}

func TestCaptureKeepsHeadAndTail(t *testing.T) {
	c := &capture{limit: 10}
	for _, s := range []string{"abc", "defgh", "ijklmnop", "qrst"} {
		c.Write([]byte(s))
	}
	if got := string(c.Bytes()); got != "abcde\n[... 10 bytes omitted ...]\npqrst" {
		t.Errorf("capture = %q", got)
	}
}

func TestQuote(t *testing.T) {
	got := Quote([]string{"sh", "-c", "kill -USR2 $(cat /run/x.pid)", "it's", ""})
	want := `sh -c 'kill -USR2 $(cat /run/x.pid)' 'it'\''s' ''`
	if got != want {
		t.Errorf("Quote = %s, want %s", got, want)
	}
}
