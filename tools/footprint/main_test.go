package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestKindOf(t *testing.T) {
	for cmd, want := range map[string]string{
		"/usr/lib/postgresql/15/bin/postgres -D /x/pgdata -c port=5432": "postgres",
		"postgres: certctl: checkpointer ":                              "postgres-aux",
		"postgres: certctl: autovacuum launcher ":                       "postgres-aux",
		"postgres: certctl: certctl certctl [local] idle":               "postgres-backend",
		"postgres: certctl: certctl certctl [local] SELECT":             "postgres-backend",
		"/srv/bin/plugins/certctl-plugin-issuer-local":                  "plugin:issuer-local",
		"/srv/bin/plugins/certctl-plugin-notifier-webhook -some -flags": "plugin:notifier-webhook",
		"sleep 60": "other",
	} {
		if got := kindOf(strings.Split(cmd, " ")); got != want {
			t.Errorf("kindOf(%q) = %q, want %q", cmd, got, want)
		}
	}
}

// The test process and a child of it, read from the real /proc.
func TestMeasureTree(t *testing.T) {
	child := exec.Command("sleep", "60")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	ps, err := measureTree("/proc", os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	var sawSelf, sawChild bool
	for _, p := range ps {
		switch p.pid {
		case os.Getpid():
			sawSelf = p.kind == "server" && p.pss > 0 && p.rss >= p.pss && p.anon > 0
		case child.Process.Pid:
			sawChild = p.kind == "other" && p.pss > 0
		}
	}
	if !sawSelf || !sawChild {
		t.Fatalf("measured %+v: want this process as server and pid %d as other, with their sizes", ps, child.Process.Pid)
	}
	gs := summarize(ps)
	last := gs[len(gs)-1]
	if gs[0].kind != "server" || last.kind != "total" || last.procs != len(ps) {
		t.Errorf("summary %+v", gs)
	}
	var sum int64
	for _, g := range gs[:len(gs)-1] {
		sum += g.pss
	}
	if sum != last.pss {
		t.Errorf("kinds sum to %d KiB, total says %d", sum, last.pss)
	}
	if _, err := measureTree("/proc", 1<<30); err == nil {
		t.Error("a root that does not exist was measured")
	}
}
