package main

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A request to a replica that is down goes to the next one, body and all;
// one to a replica that is up stays there.
func TestBalancerMovesRefusedRequestsToTheNextReplica(t *testing.T) {
	var got []string
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, r.Method+" "+string(b))
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(up.Close)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := l.Addr().String()
	l.Close() // nothing listens there now: connections are refused

	b := &balancer{base: &http.Transport{Proxy: nil}, replicas: []string{down, strings.TrimPrefix(up.URL, "http://")}}
	hc := &http.Client{Transport: b}
	resp, err := hc.Post("http://"+down+"/api/v1/agent/heartbeat", "application/json", strings.NewReader(`{"os":"linux"}`))
	if err != nil {
		t.Fatalf("through the balancer: %v", err)
	}
	resp.Body.Close()
	resp, err = hc.Get(up.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(got) != 2 || got[0] != `POST {"os":"linux"}` || got[1] != "GET " {
		t.Fatalf("the replica that is up got %q", got)
	}
	if n := b.failovers.Load(); n != 1 {
		t.Fatalf("%d failovers, want 1", n)
	}
}

// -write-doc replaces what lies between the markers and nothing else, and
// refuses a file without them.
func TestWriteDocReplacesBetweenMarkers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "reliability.md")
	before := "# Title\n\ntext\n\n" + docBegin + "\nold summary\n" + docEnd + "\n\nafter\n"
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeDoc(path, "new summary\n"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	want := "# Title\n\ntext\n\n" + docBegin + "\nnew summary\n" + docEnd + "\n\nafter\n"
	if string(b) != want {
		t.Fatalf("got\n%s\nwant\n%s", b, want)
	}
	bare := filepath.Join(dir, "bare.md")
	if err := os.WriteFile(bare, []byte("no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeDoc(bare, "x"); err == nil {
		t.Fatal("a file without markers was accepted")
	}
}
