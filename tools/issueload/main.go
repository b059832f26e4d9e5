// Command issueload measures bulk issuance as a user meets it: it
// declares -n certificates through the API of a running server on one of
// its issuers (the default local CA), all at once from a few clients, and
// times how long until every one is active. Beside it, in the same run, it
// measures the baseline: how fast this machine signs certificates in
// process (x509.CreateCertificate from a parsed CSR, with a CA key of the
// issuer's type, on every core), so that the figure says how much of the
// hardware's signing rate the product delivers. `make load-issuance` starts
// a server with default settings and runs it.
//
// -mode renew times the issuance pipeline alone: the certificates are
// declared and issued first (not timed), then renewed with one bulk
// request, timed until each has its new version. -ca-key-type creates a
// local issuer with a CA key of that type for the run (and measures the
// baseline with the same type) instead of using -issuer.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/certctl/certctl/tools/internal/baseline"
	"github.com/certctl/certctl/tools/internal/procstat"
)

func main() {
	server := flag.String("server", "", "URL of a running certctl server (required; `make load-issuance` starts one)")
	key := flag.String("admin-key", os.Getenv("CERTCTL_API_KEY"), "admin API key (default $CERTCTL_API_KEY)")
	serverPID := flag.Int("server-pid", 0, "pid of the server, to report its CPU time and its children's (PostgreSQL, plugins) (0: skip)")
	n := flag.Int("n", 1000, "certificates to declare")
	clients := flag.Int("clients", 8, "concurrent API clients declaring them")
	issuerName := flag.String("issuer", "local", "name of the issuer to use")
	timeout := flag.Duration("timeout", 10*time.Minute, "give up when not every certificate is active by then")
	baselineFor := flag.Duration("baseline", 3*time.Second, "how long to measure the in-process signing rate")
	mode := flag.String("mode", "declare", "what is timed: declare (declarations through the API until all are active) "+
		"or renew (declare and wait untimed, then one bulk renewal, timed until every certificate has its new version: "+
		"the issuance pipeline without declarations)")
	agents := flag.Int("agents", 0, "agent key mode: enroll this many simulated agents through the API, each with a target, "+
		"and bind the certificates to their targets in turn; the agents make the keys and submit the CSRs through the "+
		"agent API (0: server key mode)")
	caKeyTypeFlag := flag.String("ca-key-type", "", "create a local issuer with this ca_key_type (ecdsa-p256, ecdsa-p384, ...) "+
		"and use it instead of -issuer; the baseline uses the same CA key type")
	flag.Parse()
	if *server == "" || *key == "" {
		fatalf("-server and -admin-key are required")
	}
	if *mode != "declare" && *mode != "renew" {
		fatalf("-mode must be declare or renew")
	}
	if *mode == "renew" && *n > maxBulk {
		fatalf("-mode renew renews with one bulk request: at most %d certificates", maxBulk)
	}
	c := &client{base: strings.TrimSuffix(*server, "/"), key: *key, http: &http.Client{Timeout: time.Minute}}

	var iss issuer
	var err error
	if *caKeyTypeFlag != "" {
		iss, err = c.createLocalIssuer(fmt.Sprintf("issueload-%s-%d", *caKeyTypeFlag, time.Now().Unix()), *caKeyTypeFlag)
	} else {
		iss, err = c.findIssuer(*issuerName)
	}
	if err != nil {
		fatalf("%v", err)
	}
	caKeyType, _ := iss.Config["ca_key_type"].(string)
	if *caKeyTypeFlag != "" {
		caKeyType = *caKeyTypeFlag
	}
	fmt.Printf("issuer %q (type %s, CA key %s); %d certificates from %d clients\n", iss.Name, iss.Type, orDash(caKeyType), *n, *clients)

	prefix := fmt.Sprintf("load-%d-", time.Now().Unix())
	if *agents < 0 {
		fatalf("%v", errNoAgents)
	}
	if *agents > 0 {
		t0 := time.Now()
		f, err := enrollFleet(context.Background(), c.base, c.key, strings.TrimSuffix(prefix, "-"), *agents, *clients)
		if err != nil {
			fatalf("agents: %v", err)
		}
		fmt.Printf("agent key mode: %d agents enrolled with a target each in %s (not timed)\n", *agents,
			time.Since(t0).Round(time.Millisecond))
		ctx, stop := context.WithCancel(context.Background())
		wg := f.run(ctx)
		defer func() { stop(); wg.Wait(); f.report() }()
		c.fleet = f
	}
	var cpu0, cpu1 procstat.CPUSample
	var all time.Duration
	if *mode == "declare" {
		cpu0 = procstat.SampleCPU(*serverPID)
		start := time.Now()
		if err := c.declare(prefix, iss.ID, *n, *clients); err != nil {
			fatalf("declare: %v", err)
		}
		declared := time.Since(start)
		_, end, err := c.waitVersions(prefix, *n, "issuing", nil, start.Add(*timeout))
		if err != nil {
			fatalf("%v", err)
		}
		all = end.Sub(start)
		cpu1 = procstat.SampleCPU(*serverPID)
		fmt.Printf("declared %d certificates in %s (%.0f/s)\n", *n, declared.Round(time.Millisecond), float64(*n)/declared.Seconds())
		fmt.Printf("all active %s after the first request: %.0f certificates/s end to end\n", all.Round(time.Millisecond),
			float64(*n)/all.Seconds())
	} else {
		start := time.Now()
		if err := c.declare(prefix, iss.ID, *n, *clients); err != nil {
			fatalf("declare: %v", err)
		}
		first, _, err := c.waitVersions(prefix, *n, "issuing", nil, start.Add(*timeout))
		if err != nil {
			fatalf("%v", err)
		}
		fmt.Printf("declared %d certificates, all active after %s (not timed)\n", *n, time.Since(start).Round(time.Millisecond))
		cpu0 = procstat.SampleCPU(*serverPID)
		start = time.Now()
		var res struct {
			Matched int `json:"matched"`
			Started int `json:"started"`
		}
		if err := c.do("POST", "/api/v1/certificates/renew", map[string]any{"name_prefix": prefix}, 200, &res); err != nil {
			fatalf("bulk renew: %v", err)
		}
		requested := time.Since(start)
		if res.Started != *n {
			fatalf("bulk renew started %d of %d renewals (matched %d)", res.Started, *n, res.Matched)
		}
		_, end, err := c.waitVersions(prefix, *n, "renewing", first, start.Add(*timeout))
		if err != nil {
			fatalf("%v", err)
		}
		all = end.Sub(start)
		cpu1 = procstat.SampleCPU(*serverPID)
		fmt.Printf("bulk renewal of %d certificates requested in %s\n", *n, requested.Round(time.Millisecond))
		fmt.Printf("all renewed %s after the request: %.0f certificates/s end to end\n", all.Round(time.Millisecond),
			float64(*n)/all.Seconds())
	}
	procstat.PrintCPU(os.Stdout, "issueload", cpu0, cpu1, *n, all)
	rate, err := baseline.SigningRate(caKeyType, *baselineFor)
	if err != nil {
		fatalf("baseline: %v", err)
	}
	fmt.Printf("baseline: x509.CreateCertificate in process, %s CA, P-256 leaves, %d cores: %.0f certificates/s\n",
		orDash(caKeyType), runtime.GOMAXPROCS(0), rate)
	fmt.Printf("the product delivers %.1f%% of the in-process signing rate\n", 100*float64(*n)/all.Seconds()/rate)
}

type client struct {
	base, key string
	http      *http.Client
	fleet     *fleet // agent key mode, else nil
}

func (c *client) do(method, path string, body any, want int, out any) error {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.base+path, r)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

type issuer struct {
	ID     string         `json:"id"`
	Name   string         `json:"name"`
	Type   string         `json:"type"`
	Config map[string]any `json:"config"`
}

func (c *client) findIssuer(name string) (issuer, error) {
	var page struct{ Items []issuer }
	if err := c.do("GET", "/api/v1/issuers?limit=500", nil, 200, &page); err != nil {
		return issuer{}, err
	}
	for _, i := range page.Items {
		if i.Name == name {
			return i, nil
		}
	}
	return issuer{}, fmt.Errorf("no issuer named %q", name)
}

func (c *client) declare(prefix, issuerID string, n, clients int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				name := prefix + strconv.Itoa(i)
				body := map[string]any{"name": name, "common_name": name + ".example.com", "issuer_id": issuerID}
				if c.fleet != nil {
					body["key_mode"], body["target_ids"] = "agent", []string{c.fleet.target(i)}
				}
				if err := c.do("POST", "/api/v1/certificates", body, 201, nil); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// maxBulk is the most certificates one bulk action selects (docs/api.md).
const maxBulk = 10000

// createLocalIssuer creates a local CA with a generated CA key of caKeyType.
func (c *client) createLocalIssuer(name, caKeyType string) (issuer, error) {
	var iss issuer
	err := c.do("POST", "/api/v1/issuers", map[string]any{"name": name, "type": "local",
		"config": map[string]any{"ca_key_type": caKeyType}}, 201, &iss)
	if err != nil {
		return issuer{}, fmt.Errorf("create a local issuer with a %s CA: %w", caKeyType, err)
	}
	return iss, nil
}

// waitVersions waits until n certificates of this run are active with a
// current version that is not their version in before (nil: any version),
// and returns each one's current version and when the last got there
// (the latest updated_at: the server runs on this machine, so its clock is
// ours, and the time does not depend on how often this asks). While any
// certificate is still in status busy (issuing, renewing), it asks only
// for one of those, four times a second: listing every certificate ten
// times a second cost the server and its database about a tenth of what
// the issuances cost, which the CPU figures would charge to them.
func (c *client) waitVersions(prefix string, n int, busy string, before map[string]string, deadline time.Time) (map[string]string, time.Time, error) {
	for {
		more, err := c.anyInStatus(prefix, busy)
		if err != nil {
			return nil, time.Time{}, fmt.Errorf("count: %w", err)
		}
		var current map[string]string
		var at time.Time
		done := 0
		if !more {
			if current, at, err = c.activeVersions(prefix); err != nil {
				return nil, time.Time{}, fmt.Errorf("count: %w", err)
			}
			for name, v := range current {
				if before == nil || before[name] != v {
					done++
				}
			}
			if done >= n {
				return current, at, nil
			}
		}
		if time.Now().After(deadline) {
			if current == nil {
				current, _, _ = c.activeVersions(prefix)
				for name, v := range current {
					if before == nil || before[name] != v {
						done++
					}
				}
			}
			what := "active"
			if before != nil {
				what = "renewed"
			}
			return nil, time.Time{}, fmt.Errorf("only %d of %d %s by the deadline", done, n, what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// anyInStatus reports whether a certificate of this run has status.
func (c *client) anyInStatus(prefix, status string) (bool, error) {
	q := url.Values{"status": {status}, "name_prefix": {prefix}, "limit": {"1"}}
	var page struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := c.do("GET", "/api/v1/certificates?"+q.Encode(), nil, 200, &page); err != nil {
		return false, err
	}
	return len(page.Items) > 0, nil
}

// activeVersions pages through the active certificates of this run and
// returns each one's current version, by name, and the latest updated_at.
func (c *client) activeVersions(prefix string) (map[string]string, time.Time, error) {
	out, cursor := map[string]string{}, ""
	var last time.Time
	for {
		q := url.Values{"status": {"active"}, "name_prefix": {prefix}, "limit": {"500"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Items []struct {
				Name             string    `json:"name"`
				CurrentVersionID *string   `json:"current_version_id"`
				UpdatedAt        time.Time `json:"updated_at"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := c.do("GET", "/api/v1/certificates?"+q.Encode(), nil, 200, &page); err != nil {
			return nil, time.Time{}, err
		}
		for _, it := range page.Items {
			if it.CurrentVersionID != nil {
				out[it.Name] = *it.CurrentVersionID
			}
			if it.UpdatedAt.After(last) {
				last = it.UpdatedAt
			}
		}
		if page.NextCursor == nil || *page.NextCursor == "" {
			return out, last, nil
		}
		cursor = *page.NextCursor
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "issueload: "+format+"\n", args...)
	os.Exit(1)
}
