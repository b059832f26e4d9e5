package sdkclient_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/server/service"
)

// TestReissueOperation: the client starts a bulk re-issue onto another
// issuer, waits for the operation with its progress, lists it, and gets
// the API's errors as the client's kinds.
func TestReissueOperation(t *testing.T) {
	t.Parallel()
	env, c := start(t)
	ctx := context.Background()
	old := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "old", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	next := must(c.CreateIssuer(ctx, api.IssuerRequest{Name: "next", Type: "local", Config: map[string]any{"ca_key_type": "ecdsa-p256"}}))(t)
	const n = 5
	for i := range n {
		must(c.CreateCertificate(ctx, api.CertificateRequest{Name: fmt.Sprintf("r%d", i), CommonName: fmt.Sprintf("r%d.example.com", i),
			IssuerID: old.ID}))(t)
	}
	env.RunJobs(t)

	if _, err := c.ReissueCertificates(ctx, api.ReissueRequest{ToIssuerID: &next.ID}); !client.IsInvalid(err) {
		t.Errorf("re-issue without a filter: %v", err)
	}
	if _, err := c.GetOperation(ctx, "not-an-id"); !client.IsInvalid(err) {
		t.Errorf("an operation id that is no id: %v", err)
	}
	op := must(c.ReissueCertificates(ctx, api.ReissueRequest{IssuerID: &old.ID, ToIssuerID: &next.ID, Reason: "distrust"}))(t)
	if op.Status != "running" || op.EstimatedTotal != n {
		t.Fatalf("started: %+v", op)
	}
	// This test's server runs no engine: run the operations and the jobs here.
	rctx, cancel := context.WithCancel(ctx)
	ran, worked := make(chan struct{}), make(chan struct{})
	defer func() { cancel(); <-ran; <-worked }()
	go func() {
		defer close(ran)
		env.Service.RunOperations(rctx, service.OperationRunnerOptions{Poll: 10 * time.Millisecond, Idle: 10 * time.Millisecond})
	}()
	w := env.Service.NewWorker(service.WorkerOptions{Concurrency: 2, Poll: 20 * time.Millisecond})
	go func() { defer close(worked); w.Run(rctx) }()

	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	readings := 0
	done := must(c.WaitOperation(wctx, op.ID, 20*time.Millisecond, func(*api.Operation) { readings++ }))(t)
	if done.Status != "done" || done.Issued != n || done.Matched != n || done.Remaining != 0 || readings == 0 {
		t.Errorf("done after %d readings: %+v", readings, done)
	}
	moved := 0
	for cert, err := range c.AllCertificates(ctx, client.CertificateListOptions{IssuerID: next.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		if cert.Status != "active" {
			t.Errorf("%s: %s", cert.Name, cert.Status)
		}
		moved++
	}
	if moved != n {
		t.Errorf("%d certificates on the new issuer, want %d", moved, n)
	}
	seen := 0
	for o, err := range c.AllOperations(ctx, client.OperationListOptions{Status: "done", Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		if o.ID != op.ID {
			t.Errorf("listed %s, want %s", o.ID, op.ID)
		}
		seen++
	}
	if seen != 1 {
		t.Errorf("listed %d done operations, want 1", seen)
	}
	if _, err := c.CancelOperation(ctx, op.ID); !client.IsConflict(err) {
		t.Errorf("cancelling a finished operation: %v", err)
	}
}
