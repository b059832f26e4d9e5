package main

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certctl/certctl/sdk/api"
	sdkclient "github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/sdk/keys"
)

// fleet is the simulated agents of agent key mode (-agents): each owns one
// target, and the certificates are bound to those targets in turn. An
// agent long-polls for its work as the real agent does, makes the key and
// CSR of each csr item and submits it through the agent API (the SDK
// client the agent uses), and reports each deploy item deployed without
// touching a disk, so that the server's part of agent key mode is
// measured: the waiting job, the CSR's check at submission, the issuance,
// the deployment rows and their reports.
type fleet struct {
	agents  []*simAgent
	csrs    atomic.Int64 // CSRs submitted
	deploys atomic.Int64 // deployments reported
	errs    atomic.Int64
	lastErr atomic.Value // error
}

type simAgent struct {
	name     string
	targetID string
	client   *sdkclient.Client
}

// enrollFleet enrolls k agents through the API, each with one nginx
// target, concurrency at a time.
func enrollFleet(ctx context.Context, server, adminKey, runID string, k, concurrency int) (*fleet, error) {
	hc := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: k + 8}}
	admin, err := sdkclient.New(server, sdkclient.WithAPIKey(adminKey), sdkclient.WithHTTPClient(hc), sdkclient.WithUserAgent("certctl-issueload"))
	if err != nil {
		return nil, err
	}
	f := &fleet{agents: make([]*simAgent, k)}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, concurrency)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= k {
					return
				}
				a, err := enrollOne(ctx, server, hc, admin, fmt.Sprintf("%s-agent-%04d", runID, i))
				if err != nil {
					errs <- err
					return
				}
				f.agents[i] = a
			}
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	return f, nil
}

func enrollOne(ctx context.Context, server string, hc *http.Client, admin *sdkclient.Client, name string) (*simAgent, error) {
	tok, err := admin.CreateEnrollmentToken(ctx, api.EnrollmentTokenRequest{AgentName: name, TTL: "2h"})
	if err != nil {
		return nil, fmt.Errorf("enrollment token for %s: %w", name, err)
	}
	anon, err := sdkclient.New(server, sdkclient.WithHTTPClient(hc), sdkclient.WithUserAgent("certctl-issueload"))
	if err != nil {
		return nil, err
	}
	resp, err := anon.EnrollAgent(ctx, api.AgentEnrollRequest{Token: tok.Token, Facts: api.AgentFacts{OS: "linux",
		Arch: "amd64", Hostname: name + ".load.test", AgentVersion: "issueload",
		Plugins: []api.AgentPlugin{{Name: "nginx", Kind: "target", Version: "1.0.0"}}}})
	if err != nil {
		return nil, fmt.Errorf("enroll %s: %w", name, err)
	}
	agentID := resp.Agent.ID
	// The paths are never written: the simulated agent reports its
	// deployments without deploying.
	tg, err := admin.CreateTarget(ctx, api.TargetRequest{Name: name + "-nginx", Type: "nginx", AgentID: &agentID,
		Config: map[string]any{"certificate_path": "/etc/issueload/" + name + ".crt",
			"key_path": "/etc/issueload/" + name + ".key"}})
	if err != nil {
		return nil, fmt.Errorf("target of %s: %w", name, err)
	}
	c, err := sdkclient.New(server, sdkclient.WithAPIKey(resp.Credential), sdkclient.WithHTTPClient(hc),
		sdkclient.WithUserAgent("certctl-issueload"))
	if err != nil {
		return nil, err
	}
	return &simAgent{name: name, targetID: tg.ID, client: c}, nil
}

// target returns the target the i-th certificate is bound to.
func (f *fleet) target(i int) string { return f.agents[i%len(f.agents)].targetID }

// run works the agents' long polls until ctx ends.
func (f *fleet) run(ctx context.Context) *sync.WaitGroup {
	var wg sync.WaitGroup
	for _, a := range f.agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.work(ctx, a)
		}()
	}
	return &wg
}

func (f *fleet) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return // the run is over: calls cut short are no failures
	}
	f.errs.Add(1)
	f.lastErr.Store(err)
}

func (f *fleet) work(ctx context.Context, a *simAgent) {
	for ctx.Err() == nil {
		w, err := a.client.AgentWork(ctx, 20*time.Second)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			f.fail(ctx, fmt.Errorf("%s: poll: %w", a.name, err))
			sleep(ctx, time.Second)
			continue
		}
		for _, it := range w.Items {
			switch it.Kind {
			case api.AgentWorkCSR:
				if err := submitCSR(ctx, a, it); err != nil {
					f.fail(ctx, fmt.Errorf("%s: csr for %s: %w", a.name, it.Certificate.Name, err))
					continue
				}
				f.csrs.Add(1)
			case api.AgentWorkDeploy:
				serial := ""
				if it.Version != nil {
					serial = it.Version.SerialNumber
				}
				if err := a.client.ReportDeployment(ctx, it.JobID, api.AgentDeployResult{Succeeded: true,
					Message: "issueload: reported without deploying", ServedSerial: serial}); err != nil {
					f.fail(ctx, fmt.Errorf("%s: report deployment: %w", a.name, err))
					continue
				}
				f.deploys.Add(1)
			}
		}
	}
}

// submitCSR makes the key and CSR a csr item asks for, as the agent does,
// and submits the CSR.
func submitCSR(ctx context.Context, a *simAgent, it api.AgentWorkItem) error {
	key, err := keys.Generate(it.Certificate.KeyType)
	if err != nil {
		return err
	}
	der, err := keys.CSR(it.Certificate.CommonName, it.Certificate.SANs, key)
	if err != nil {
		return err
	}
	_, err = a.client.SubmitAgentCSR(ctx, it.JobID, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}))
	return err
}

// report prints what the agents did, and their last error.
func (f *fleet) report() {
	fmt.Printf("agents: %d agents submitted %d CSRs and reported %d deployments", len(f.agents), f.csrs.Load(), f.deploys.Load())
	if n := f.errs.Load(); n > 0 {
		err, _ := f.lastErr.Load().(error)
		fmt.Printf("; %d errors, the last: %v", n, err)
	}
	fmt.Println()
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

var errNoAgents = errors.New("-agents must be at least 1 in agent key mode")
