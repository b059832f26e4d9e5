package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/server/service"
)

// TestCertsReissue: certs reissue moves every certificate the filters
// select to another issuer in a background operation; --wait follows it
// to its end, operations get/list/watch/cancel show and control it.
func TestCertsReissue(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.env.Service.RunOperations(ctx, service.OperationRunnerOptions{Poll: 10 * time.Millisecond, Idle: 10 * time.Millisecond})
	}()
	t.Cleanup(func() { cancel(); <-done })
	s.setupIssuer(t)
	s.ok(t, "issuers", "create", "next", "--type", "local", "--set", "ca_key_type=ecdsa-p256")
	for _, n := range []string{"a-1", "a-2", "b-1"} {
		s.ok(t, "certs", "create", n, "--cn", n+".example.com", "--issuer", "local", "--wait")
	}
	r := s.ok(t, "certs", "reissue", "--issuer", "local", "--name-prefix", "a-", "--to-issuer", "next", "--reason", "distrusted",
		"--wait", "--every", "50ms")
	if field(t, r.stdout, "STATUS") != "done" || field(t, r.stdout, "ISSUED") != "2" || field(t, r.stdout, "REMAINING") != "0" ||
		field(t, r.stdout, "REASON") != "distrusted" {
		t.Errorf("certs reissue --wait:\n%s", r)
	}
	id := field(t, r.stdout, "ID")
	for _, n := range []string{"a-1", "a-2"} {
		var c api.Certificate
		s.jsonOf(t, &c, "certs", "get", n)
		var next api.Issuer
		s.jsonOf(t, &next, "issuers", "get", "next")
		if c.IssuerID != next.ID || c.Status != "active" {
			t.Errorf("%s after the re-issue: issuer %s status %s", n, c.IssuerID, c.Status)
		}
	}
	var o api.Operation
	s.jsonOf(t, &o, "operations", "get", id)
	if o.Issued != 2 || o.Matched != 2 || o.Status != "done" {
		t.Errorf("operations get: %+v", o)
	}
	if r := s.ok(t, "operations", "list", "--status", "done"); !strings.Contains(r.stdout, id) {
		t.Errorf("operations list:\n%s", r.stdout)
	}
	if r := s.ok(t, "operations", "watch", id); field(t, r.stdout, "STATUS") != "done" {
		t.Errorf("operations watch of an ended operation:\n%s", r)
	}
	s.code(t, 5, "operations", "cancel", id) // ended already: a conflict
	s.code(t, 2, "certs", "reissue")         // no filter
	s.code(t, 3, "certs", "reissue", "--issuer", "local", "--to-issuer", "nope")
	s.code(t, 3, "operations", "get", "01a2484b-d875-7bbb-9438-0a040b12e8d7")
}
