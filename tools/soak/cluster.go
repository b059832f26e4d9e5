// This file starts and breaks what the soak runs: one PostgreSQL cluster of
// its own (initdb and pg_ctl from the machine's PostgreSQL binaries) and
// the built certctl-server replicas on it, each a child process that can
// be SIGKILLed, its plugin children with it, and started again.

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/certctl/certctl/server/pgembed"
)

// postgres is the soak's own PostgreSQL cluster, on loopback TCP, with the
// product's durability (fsync and synchronous commits on).
type postgres struct {
	binDir, dataDir, sockDir, logFile string
	port                              int
	cred                              *syscall.Credential // the postgres user when we are root
}

// startPostgres creates a cluster under dir and starts it.
func startPostgres(ctx context.Context, dir string) (*postgres, error) {
	binDir, err := pgembed.FindBinaries(os.Getenv("CERTCTL_POSTGRES_BIN_DIR"))
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	p := &postgres{binDir: binDir, dataDir: filepath.Join(dir, "pgdata"), sockDir: filepath.Join(dir, "pgsock"),
		logFile: filepath.Join(dir, "postgres.log"), port: port}
	// initdb refuses to run as root: the cluster belongs to the postgres
	// user then, and dir must let it through.
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root needs a postgres user for the cluster: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.Chmod(dir, 0o711); err != nil {
		return nil, err
	}
	for _, d := range []string{p.dataDir, p.sockDir} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return nil, err
		}
	}
	if err := os.WriteFile(p.logFile, nil, 0o600); err != nil {
		return nil, err
	}
	if p.cred != nil {
		for _, f := range []string{p.dataDir, p.sockDir, p.logFile} {
			if err := os.Chown(f, int(p.cred.Uid), int(p.cred.Gid)); err != nil {
				return nil, err
			}
		}
	}
	if out, err := p.command(ctx, "initdb", "-D", p.dataDir, "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	// Three replicas of 20 pooled connections each, their listeners, and
	// the soak's own checks.
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nmax_connections = 200\n",
		p.port, p.sockDir)
	f, err := os.OpenFile(filepath.Join(p.dataDir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	if err := p.pgctl(ctx, "start", "-l", p.logFile); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *postgres) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(p.binDir, name), args...)
	cmd.Dir = "/"
	cmd.Env = []string{"LC_ALL=C", "PATH=/usr/bin:/bin"}
	// A process group of its own, so that Ctrl-C reaches only the soak,
	// which then stops the cluster itself.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if p.cred != nil {
		cmd.SysProcAttr.Credential = p.cred
	}
	return cmd
}

// pgctl runs pg_ctl action on the cluster and waits for it.
func (p *postgres) pgctl(ctx context.Context, action string, args ...string) error {
	args = append([]string{"-D", p.dataDir, "-w", "-t", "120", action}, args...)
	if out, err := p.command(ctx, "pg_ctl", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl %s: %w: %s", action, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// restart stops the cluster with mode (fast or immediate: the latter is
// a crash, recovered from the WAL) and starts it again.
func (p *postgres) restart(ctx context.Context, mode string) error {
	return p.pgctl(ctx, "restart", "-m", mode, "-l", p.logFile)
}

// stop ends the cluster; used on every exit path.
func (p *postgres) stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := p.pgctl(ctx, "stop", "-m", "fast")
	if err != nil {
		err = p.pgctl(ctx, "stop", "-m", "immediate")
	}
	return err
}

// url is the database URL the replicas and the checks use.
func (p *postgres) url() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

// freePort asks the kernel for a free loopback port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// replica is one certctl-server process. It keeps its port and data
// directory across restarts, as a replica behind a load balancer would.
type replica struct {
	idx     int
	bin     string
	env     []string
	addr    string
	logPath string

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{}
	starts  int
	logFile *os.File
}

func newReplica(idx int, bin, pluginDir, dataDir, dbURL, adminKey, encKey, logPath string, extraEnv []string) (*replica, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	env := append(os.Environ(), "CERTCTL_DATABASE_URL="+dbURL, "CERTCTL_DATA_DIR="+dataDir, "CERTCTL_LISTEN_ADDR="+addr,
		"CERTCTL_PLUGIN_DIR="+pluginDir, "CERTCTL_BOOTSTRAP_ADMIN_KEY="+adminKey, "CERTCTL_ENCRYPTION_KEY="+encKey,
		"CERTCTL_PUBLIC_URL=http://"+addr)
	env = append(env, extraEnv...)
	return &replica{idx: idx, bin: bin, env: env, addr: addr, logPath: logPath}, nil
}

func (r *replica) url() string { return "http://" + r.addr }

// start runs the server and waits until /readyz answers 200.
func (r *replica) start(ctx context.Context) error {
	r.mu.Lock()
	if r.cmd != nil {
		r.mu.Unlock()
		return fmt.Errorf("replica %d is already running", r.idx)
	}
	lf, err := os.OpenFile(r.logPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		r.mu.Unlock()
		return err
	}
	r.starts++
	fmt.Fprintf(lf, "\n==== soak: start %d of replica %d at %s\n", r.starts, r.idx, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command(r.bin)
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = lf, lf
	// A process group of its own (the server and its plugins), so that a
	// crash takes the plugins too and Ctrl-C reaches only the soak; and
	// killed if the soak itself dies.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		lf.Close()
		r.mu.Unlock()
		return fmt.Errorf("start replica %d: %w", r.idx, err)
	}
	exited := make(chan struct{})
	r.cmd, r.exited, r.logFile = cmd, exited, lf
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	r.mu.Unlock()

	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("replica %d exited while starting (see %s)", r.idx, r.logPath)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		resp, err := hc.Get(r.url() + "/readyz")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("replica %d was not ready within 3 minutes (see %s)", r.idx, r.logPath)
}

// pid is the server's process id, 0 when it is not running.
func (r *replica) pid() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return 0
	}
	return r.cmd.Process.Pid
}

// kill SIGKILLs the server and its plugins (its process group) and waits
// for the server to be gone.
func (r *replica) kill() {
	r.mu.Lock()
	cmd, exited, lf := r.cmd, r.exited, r.logFile
	r.cmd, r.logFile = nil, nil
	r.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
	if lf != nil {
		fmt.Fprintf(lf, "\n==== soak: replica %d SIGKILLed at %s\n", r.idx, time.Now().Format(time.RFC3339Nano))
		lf.Close()
	}
}

// killPlugins SIGKILLs the server's plugin children whose executable name
// starts with prefix (e.g. certctl-plugin-issuer-) and returns their pids.
func (r *replica) killPlugins(prefix string) []int {
	pid := r.pid()
	if pid == 0 {
		return nil
	}
	var killed []int
	for _, child := range childrenOf(pid) {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", child))
		if err != nil || !strings.HasPrefix(filepath.Base(exe), prefix) {
			continue
		}
		if err := syscall.Kill(child, syscall.SIGKILL); err == nil {
			killed = append(killed, child)
		}
	}
	return killed
}

// childrenOf lists the direct children of pid from /proc.
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, err := parentOf(child); err == nil && ppid == pid {
			out = append(out, child)
		}
	}
	return out
}

func parentOf(pid int) (int, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, err
	}
	// The command name is in parentheses and may hold spaces: the fields
	// after its closing parenthesis are state, then ppid.
	i := strings.LastIndexByte(line, ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	f2 := strings.Fields(line[i+1:])
	if len(f2) < 2 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat", pid)
	}
	return strconv.Atoi(f2[1])
}
