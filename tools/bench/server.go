package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/certctl/certctl/sdk/client"
)

// server is bin/certctl-server started as `make run` starts it: on its
// embedded PostgreSQL, with every default setting, on a free loopback
// port, with a fresh data directory.
type server struct {
	cmd    *exec.Cmd
	url    string
	key    string // the bootstrap admin key
	dir    string // scratch: data directory and log
	done   chan struct{}
	waitEr error
	api    *client.Client
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// startServer starts the server and waits until it is ready.
func startServer(ctx context.Context, e *env, extraEnv ...string) (*server, error) {
	bin := filepath.Join(e.bin, "certctl-server")
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("%s is missing: run make build (make bench does): %w", bin, err)
	}
	dir, err := os.MkdirTemp("", "certctl-bench.")
	if err != nil {
		return nil, err
	}
	// As root the embedded PostgreSQL runs as another user, which must
	// reach its data directory below this one.
	if err := os.Chmod(dir, 0o711); err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &server{url: "http://" + addr, key: "cck_bench-" + rand.Text(), dir: dir, done: make(chan struct{})}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s.cmd = exec.Command(bin)
	s.cmd.Env = append(os.Environ(), "CERTCTL_DATA_DIR="+filepath.Join(dir, "server"), "CERTCTL_LISTEN_ADDR="+addr,
		"CERTCTL_BOOTSTRAP_ADMIN_KEY="+s.key, "CERTCTL_PLUGIN_DIR="+filepath.Join(e.bin, "plugins"), "CERTCTL_DATABASE_URL=")
	s.cmd.Env = append(s.cmd.Env, extraEnv...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	// A group of its own: Ctrl-C reaches the driver, which stops it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { s.waitEr = s.cmd.Wait(); close(s.done) }()
	fmt.Fprintf(e.out, "bench: server %s (pid %d), data in %s\n", s.url, s.pid(), dir)
	deadline := time.Now().Add(2 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-s.done:
			s.stop(e)
			return nil, fmt.Errorf("the server exited while starting (%v)", s.waitEr)
		case <-ctx.Done():
			s.stop(e)
			return nil, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop(e)
			return nil, errors.New("the server was not ready within 2 minutes")
		}
	}
	s.api, err = client.New(s.url, client.WithAPIKey(s.key))
	if err != nil {
		s.stop(e)
		return nil, err
	}
	return s, nil
}

// stop stops the server as an operator would (SIGTERM: it drains and
// stops its PostgreSQL), kills it after a minute, and removes its files
// unless -keep asks to keep them. The end of its log is printed when it
// logged warnings or errors.
func (s *server) stop(e *env) {
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(time.Minute):
			fmt.Fprintf(e.out, "bench: the server did not stop in a minute; killing it\n")
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	}
	printProblems(e, filepath.Join(s.dir, "server.log"), "server")
	if e.cfg.keepScratch {
		fmt.Fprintf(e.out, "bench: kept %s\n", s.dir)
		return
	}
	_ = os.RemoveAll(s.dir)
}

// printProblems prints the last warnings and errors of a log.
func printProblems(e *env, path, what string) {
	data, err := os.ReadFile(path)
	if err != nil {
		return
	}
	var problems []string
	for line := range strings.SplitSeq(string(data), "\n") {
		if strings.Contains(line, `msg="http request"`) {
			continue
		}
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") {
			problems = append(problems, line)
		}
	}
	if len(problems) == 0 {
		return
	}
	if len(problems) > 10 {
		problems = problems[len(problems)-10:]
	}
	fmt.Fprintf(e.out, "bench: the %s's last warnings and errors:\n  %s\n", what, strings.Join(problems, "\n  "))
}

// freeAddr is a loopback address nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
