package agent

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/certctl/certctl/sdk/api"
	"github.com/certctl/certctl/sdk/client"
	"github.com/certctl/certctl/sdk/plugin"
	"github.com/certctl/certctl/sdk/plugin/host"

	"github.com/certctl/certctl/sdk/backoff"
)

// Agent is a running certctl-agent.
type Agent struct {
	cfg     Config
	logger  *slog.Logger
	state   *state
	keys    *keystore
	plugins *host.Host
	http01  *http01Presenter
	client  *client.Client
	started time.Time

	heartbeatEvery time.Duration
	pollWait       time.Duration
}

// New prepares an agent: its state and key directories and its target plugins.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Agent, error) {
	st, err := newState(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	keys, err := newKeystore(cfg.KeyDir)
	if err != nil {
		return nil, err
	}
	// An agent with nothing to enroll with can never work: say so now,
	// before starting plugins, rather than retry forever.
	if err := checkEnrollable(cfg, st); err != nil {
		return nil, err
	}
	a := &Agent{cfg: cfg, logger: logger, state: st, keys: keys, started: time.Now(),
		http01:         newHTTP01Presenter(ctx, cfg.HTTP01Webroot, cfg.HTTP01Listen, st.dir, cfg.HTTP01MaxAge, logger),
		heartbeatEvery: 30 * time.Second, pollWait: 30 * time.Second}
	if cfg.HeartbeatInterval > 0 {
		a.heartbeatEvery = cfg.HeartbeatInterval
	}
	if cfg.PollWait > 0 {
		a.pollWait = cfg.PollWait
	}
	if fi, err := os.Stat(cfg.PluginDir); err == nil && fi.IsDir() {
		a.plugins, err = host.New(ctx, host.Options{Dir: cfg.PluginDir, Logger: logger,
			Catalogue: host.NewFileCatalogue(filepath.Join(cfg.StateDir, "plugins.json"))})
		if err != nil {
			return nil, err
		}
	} else {
		logger.Warn("no plugin directory: this agent cannot deploy", "dir", cfg.PluginDir)
	}
	return a, nil
}

// Close stops the agent's plugins and closes its HTTP-01 listener. The
// challenges it presented stay recorded (and their webroot files in
// place): the next start serves them again, since the server may still
// have the CA fetch them.
func (a *Agent) Close() {
	a.http01.Close()
	if a.plugins != nil {
		a.plugins.Close()
	}
}

func (a *Agent) httpClient() (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if a.cfg.CACertFile != "" {
		b, err := os.ReadFile(a.cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("CA certificate %s holds no PEM certificate", a.cfg.CACertFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

// ErrNotEnrolled is returned (wrapped, with what to do) by New and Run when
// the agent has neither a stored credential nor an enrollment token.
var ErrNotEnrolled = errors.New("not enrolled")

// checkEnrollable fails with ErrNotEnrolled when the agent has no stored
// credential and no token to get one with.
func checkEnrollable(cfg Config, st *state) error {
	cred, err := st.credential()
	if err != nil {
		return err
	}
	if cred != "" || cfg.Token != "" {
		return nil
	}
	return fmt.Errorf("%w: no credential in %s and no enrollment token. "+
		"Create a token on the server (POST /api/v1/enrollment-tokens with an admin API key; it is shown once), "+
		"then start the agent once with CERTCTL_AGENT_TOKEN=<token> or --token <token>; "+
		"it stores its own credential and needs no token afterwards", ErrNotEnrolled, st.dir)
}

// connect enrolls on first start (with the token) or loads the credential.
// Errors that come from this host (configuration, files) are wrapped in a
// localError: retrying cannot mend them.
func (a *Agent) connect(ctx context.Context) error {
	hc, err := a.httpClient()
	if err != nil {
		return localError{err}
	}
	if err := checkEnrollable(a.cfg, a.state); err != nil {
		return localError{err}
	}
	cred, err := a.state.credential()
	if err != nil {
		return localError{err}
	}
	if cred == "" {
		anon, err := client.New(a.cfg.ServerURL, client.WithHTTPClient(hc), client.WithUserAgent("certctl-agent/"+Version))
		if err != nil {
			return err
		}
		res, err := anon.EnrollAgent(ctx, api.AgentEnrollRequest{Token: a.cfg.Token, Name: a.cfg.Name, Facts: a.facts(ctx)})
		if err != nil {
			return fmt.Errorf("enroll: %w", err)
		}
		if err := a.state.saveCredential(res.Credential); err != nil {
			return localError{fmt.Errorf("save credential: %w", err)}
		}
		a.logger.Info("enrolled", "agent", res.Agent.Name, "id", res.Agent.ID)
		cred = res.Credential
	}
	a.client, err = client.New(a.cfg.ServerURL, client.WithAPIKey(cred), client.WithHTTPClient(hc),
		client.WithUserAgent("certctl-agent/"+Version), client.WithLogger(a.logger))
	if err != nil {
		return localError{err}
	}
	return nil
}

// localError marks a failure of this host, not of the network or server.
type localError struct{ err error }

func (e localError) Error() string { return e.err.Error() }
func (e localError) Unwrap() error { return e.err }

// Run works until ctx ends: heartbeats, long polls, work, pending reports.
// When the server is away it backs off with jitter and keeps going. It
// first ends the deployments an earlier run left interrupted.
func (a *Agent) Run(ctx context.Context) error {
	a.recoverInterrupted(ctx)
	for {
		err := a.connect(ctx)
		if err == nil {
			break
		}
		var local localError
		if errors.As(err, &local) {
			return local.err
		}
		if client.IsUnauthorized(err) || client.IsForbidden(err) || client.IsInvalid(err) || errors.Is(err, context.Canceled) {
			return err // a bad token will not get better
		}
		a.logger.Warn("cannot reach the server to enroll; retrying", "err", err)
		if !sleep(ctx, 5*time.Second) {
			return ctx.Err()
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); a.heartbeatLoop(ctx) }()
	err := a.workLoop(ctx)
	wg.Wait()
	return err
}

func (a *Agent) heartbeatLoop(ctx context.Context) {
	for {
		_, err := a.client.Heartbeat(ctx, a.facts(ctx))
		if err != nil && ctx.Err() == nil {
			a.logger.Warn("heartbeat failed", "err", err)
		}
		if !sleep(ctx, a.heartbeatEvery) {
			return
		}
	}
}

// workLoop long-polls for work and does it. Failures back off with jitter.
func (a *Agent) workLoop(ctx context.Context) error {
	failures := 0
	for ctx.Err() == nil {
		a.flushReports(ctx)
		a.http01.Maintain(ctx)
		// Resending: the server hands out again a deployment it leased to
		// this agent and has no report of, since the answer that handed
		// it out may have been lost; do sees one it has done already.
		work, err := a.client.AgentWorkResending(ctx, a.pollWait)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if client.IsForbidden(err) {
				return fmt.Errorf("the server refuses this agent: %w", err)
			}
			failures++
			wait := backoff.Jitter(backoff.Exponential(failures, time.Second, time.Minute), rand.Float64())
			a.logger.Warn("fetching work failed; backing off", "err", err, "wait", wait)
			sleep(ctx, wait)
			continue
		}
		failures = 0
		for _, item := range work.Items {
			a.do(ctx, item)
		}
	}
	return nil
}

// do performs one item of work. A deployment runs to its end even when the
// agent is told to stop, so that no target is left half-written.
func (a *Agent) do(ctx context.Context, item api.AgentWorkItem) {
	switch item.Kind {
	case api.AgentWorkCSR:
		if err := a.makeCSR(ctx, item); err != nil {
			a.logger.Warn("CSR failed", "job", item.JobID, "certificate", item.Certificate.Name, "err", err)
		}
	case api.AgentWorkDeploy:
		if a.state.reportQueued(reportDeploy, item.JobID) {
			// Done already; its report has not reached the server yet.
			a.flushReports(ctx)
			return
		}
		if err := a.state.startDeploy(item); err != nil {
			a.logger.Error("record the deployment in progress", "job", item.JobID, "err", err)
		}
		result := a.deploy(context.WithoutCancel(ctx), item)
		a.finishDeploy(item, result)
		a.flushReports(ctx)
	case api.AgentWorkHTTP01:
		// Like a deployment, it runs to its end: a presentation cut short
		// by a stop would report a failure that fails the order.
		report := a.challenges(context.WithoutCancel(ctx), item)
		if err := a.state.queueReport(reportChallenges, item.JobID, report); err != nil {
			a.logger.Error("keep HTTP-01 report", "job", item.JobID, "err", err)
		}
		a.flushReports(ctx)
	}
}

// challenges starts or stops serving an issuance job's HTTP-01 challenges
// and returns the report for the server. The server may send the same
// item again (its report lost, the agent restarted): doing it twice is
// harmless.
func (a *Agent) challenges(ctx context.Context, item api.AgentWorkItem) api.AgentChallengeReport {
	var tokens []string
	var err error
	if item.Present {
		tokens, err = a.http01.Present(ctx, item.JobID, item.Challenges)
	} else {
		tokens, err = a.http01.Cleanup(item.Challenges)
	}
	rep := api.AgentChallengeReport{Present: item.Present, Tokens: tokens}
	if err != nil {
		rep.Error = err.Error()
		a.logger.Warn("HTTP-01 challenges failed", "job", item.JobID, "certificate", item.Certificate.Name,
			"present", item.Present, "err", err)
		return rep
	}
	what := "HTTP-01 challenges presented"
	if !item.Present {
		what = "HTTP-01 challenges removed"
	}
	a.logger.Info(what, "job", item.JobID, "certificate", item.Certificate.Name, "tokens", len(tokens))
	return rep
}

// makeCSR makes (or reuses) the key of an issuance job and sends its CSR.
// The key stays in the key store, mode 0600; only the CSR leaves the host.
func (a *Agent) makeCSR(ctx context.Context, item api.AgentWorkItem) error {
	c := item.Certificate
	signer, err := a.keys.forJob(c.ID, item.JobID, c.KeyType)
	if item.ReuseKey {
		if cur, _, cerr := a.keys.current(c.ID); cerr == nil && keyTypeMatches(cur, c.KeyType) {
			signer, err = cur, nil
		}
	}
	if err != nil {
		return err
	}
	csr, err := newCSR(c.CommonName, c.SANs, signer)
	if err != nil {
		return err
	}
	_, err = a.client.SubmitAgentCSR(ctx, item.JobID, csr)
	if err == nil {
		a.logger.Info("CSR sent", "certificate", c.Name, "job", item.JobID)
	}
	return err
}

// deploy installs a version through its target's plugin, checks what is
// live, and returns the report.
func (a *Agent) deploy(ctx context.Context, item api.AgentWorkItem) api.AgentDeployResult {
	start := time.Now()
	fail := func(format string, args ...any) api.AgentDeployResult {
		msg := fmt.Sprintf(format, args...)
		a.logger.Warn("deployment failed", "job", item.JobID, "certificate", item.Certificate.Name, "target", targetName(item), "err", msg)
		return api.AgentDeployResult{Succeeded: false, Message: msg}
	}
	if a.plugins == nil {
		return fail("this agent has no plugin directory")
	}
	if item.Version == nil || item.Target == nil {
		return fail("deploy work without a version or target")
	}
	block, _ := pem.Decode([]byte(item.Version.CertificatePEM))
	if block == nil {
		return fail("version has no PEM certificate")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fail("version certificate: %v", err)
	}
	keyPEM, err := a.keys.matching(item.Certificate.ID, leaf.PublicKey)
	if err != nil {
		return fail("%v", err)
	}
	t, err := a.plugins.Target(item.Target.Type)
	if err != nil {
		return fail("target plugin %q: %v", item.Target.Type, err)
	}
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	res, err := t.DeployCertificate(callCtx, plugin.DeployRequest{Config: item.Target.Config,
		CertificatePEM: item.Version.CertificatePEM, ChainPEM: item.Version.ChainPEM, PrivateKeyPEM: string(keyPEM),
		Metadata: map[string]string{"certificate": item.Certificate.Name, "version_id": item.Version.ID,
			"serial_number": item.Version.SerialNumber}})
	if plugin.ErrorCode(err) == plugin.CodeUnavailable {
		// The plugin's process died during the call (or was not there to
		// take it): the files may be half way. The restarted plugin
		// completes or rolls back what it finds (see recoverDeploy).
		return a.recoverDeploy(ctx, t, item, fmt.Sprintf("the target plugin stopped during the deployment (%v)", err))
	}
	if err != nil {
		// The report belongs to this target's deployment: the server shows
		// it as "deploy to target <name>: <message>", so no name here.
		return fail("%v", err)
	}
	meta := map[string]any{"changed": res.Changed, "duration_ms": time.Since(start).Milliseconds()}
	for k, v := range res.Metadata {
		meta[k] = v
	}
	check, err := t.ValidateDeployment(callCtx, plugin.ValidateDeploymentRequest{Config: item.Target.Config,
		SerialNumber: item.Version.SerialNumber})
	if err != nil {
		return api.AgentDeployResult{Succeeded: false, Metadata: meta,
			Message: fmt.Sprintf("deployed but could not verify: %v", err)}
	}
	if !check.Valid {
		return api.AgentDeployResult{Succeeded: false, Metadata: meta, ServedSerial: check.ServedSerial,
			Message: fmt.Sprintf("deployed but the target serves serial %s, not %s: %s", check.ServedSerial,
				item.Version.SerialNumber, check.Message)}
	}
	a.logger.Info("deployed", "certificate", item.Certificate.Name, "target", item.Target.Name,
		"serial", item.Version.SerialNumber, "changed", res.Changed)
	return api.AgentDeployResult{Succeeded: true, Message: res.Message, Metadata: meta, ServedSerial: check.ServedSerial,
		Verified: true}
}

// Values of a deployment report's "recovery" metadata: how an interrupted
// deployment ended.
const (
	recoveryCompleted  = "completed_after_restart"
	recoveryRolledBack = "rolled_back"
)

// recoverDeploy ends a deployment that was interrupted (why says how) by
// asking the target's plugin, restarted, what is live now. A target that
// journals its deployments (the file targets do) completes or rolls back
// the interrupted one before it answers, and its message says which; the
// report says "completed after restart" when the new serial is live and
// "rolled back" when it is not, with the plugin's account, and its
// metadata "recovery" says the same for the deployment's record.
func (a *Agent) recoverDeploy(ctx context.Context, t plugin.Target, item api.AgentWorkItem, why string) api.AgentDeployResult {
	callCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	meta := map[string]any{"interrupted": why}
	check, err := t.ValidateDeployment(callCtx, plugin.ValidateDeploymentRequest{Config: item.Target.Config,
		SerialNumber: item.Version.SerialNumber})
	if err != nil {
		msg := fmt.Sprintf("%s; asking the restarted plugin what is live failed: %v", why, err)
		a.logger.Warn("deployment failed", "job", item.JobID, "certificate", item.Certificate.Name, "target", targetName(item), "err", msg)
		return api.AgentDeployResult{Succeeded: false, Message: msg, Metadata: meta}
	}
	if check.Valid {
		meta["recovery"] = recoveryCompleted
		a.logger.Info("interrupted deployment completed after restart", "job", item.JobID, "certificate", item.Certificate.Name,
			"target", targetName(item), "serial", item.Version.SerialNumber, "interrupted", why)
		return api.AgentDeployResult{Succeeded: true, Verified: true, ServedSerial: check.ServedSerial, Metadata: meta,
			Message: "completed after restart: " + check.Message}
	}
	meta["recovery"] = recoveryRolledBack
	a.logger.Warn("interrupted deployment rolled back", "job", item.JobID, "certificate", item.Certificate.Name,
		"target", targetName(item), "serial", item.Version.SerialNumber, "served_serial", check.ServedSerial, "interrupted", why)
	return api.AgentDeployResult{Succeeded: false, ServedSerial: check.ServedSerial, Metadata: meta,
		Message: fmt.Sprintf("rolled back: %s; %s", why, check.Message)}
}

// finishDeploy queues a deployment's report, then forgets that it was in
// progress: a stop between the two finds the report queued.
func (a *Agent) finishDeploy(item api.AgentWorkItem, result api.AgentDeployResult) {
	if err := a.state.queueReport(reportDeploy, item.JobID, result); err != nil {
		a.logger.Error("keep deployment report", "job", item.JobID, "err", err)
		return
	}
	if err := a.state.endDeploy(item.JobID); err != nil {
		a.logger.Warn("forget the finished deployment", "job", item.JobID, "err", err)
	}
}

// recoverInterrupted ends the deployments an earlier run of the agent
// started and did not report (it stopped or was killed meanwhile, its
// plugin with it): each target's plugin completes or rolls back what it
// had begun, and the report is queued for the server, which is waiting
// for it (the job stays leased to this agent). It runs at start, before
// the agent even reaches the server, so that no target stays on files its
// server has not loaded.
func (a *Agent) recoverInterrupted(ctx context.Context) {
	items, err := a.state.interruptedDeploys()
	if err != nil {
		a.logger.Error("read the deployments in progress", "err", err)
		return
	}
	for _, item := range items {
		var result api.AgentDeployResult
		switch {
		case a.plugins == nil:
			result = api.AgentDeployResult{Message: "the agent stopped during the deployment and has no plugin directory now"}
		case item.Version == nil || item.Target == nil:
			result = api.AgentDeployResult{Message: "the agent stopped during the deployment of an unreadable work item"}
		default:
			t, err := a.plugins.Target(item.Target.Type)
			if err != nil {
				result = api.AgentDeployResult{Message: fmt.Sprintf("the agent stopped during the deployment; target plugin %q: %v", item.Target.Type, err)}
				break
			}
			result = a.recoverDeploy(context.WithoutCancel(ctx), t, item, "the agent stopped during the deployment")
		}
		a.finishDeploy(item, result)
	}
}

// flushReports delivers queued deployment and HTTP-01 reports; those the
// server cannot take now stay queued.
func (a *Agent) flushReports(ctx context.Context) {
	pending, err := a.state.pendingReports()
	if err != nil {
		a.logger.Warn("read pending reports", "err", err)
		return
	}
	for _, p := range pending {
		err := a.sendReport(ctx, p)
		switch {
		case errors.Is(err, errUnreadableReport):
			a.logger.Warn("dropping an unreadable queued report", "job", p.JobID, "err", err)
			_ = a.state.dropReport(p)
		case err == nil || client.IsConflict(err) || client.IsNotFound(err):
			// Delivered, or the server no longer wants it (already
			// reported, job taken back after its lease): done either way.
			_ = a.state.dropReport(p)
		default:
			a.logger.Warn("report kept for later", "job", p.JobID, "err", err)
			return
		}
	}
}

// errUnreadableReport marks a queued report that can never be sent.
var errUnreadableReport = errors.New("unreadable report")

// sendReport delivers one queued report.
func (a *Agent) sendReport(ctx context.Context, p pendingReport) error {
	switch p.Kind {
	case reportChallenges:
		var rep api.AgentChallengeReport
		if err := json.Unmarshal(p.Result, &rep); err != nil {
			return fmt.Errorf("%w: %v", errUnreadableReport, err)
		}
		return a.client.ReportChallenges(ctx, p.JobID, rep)
	case reportDeploy:
		var result api.AgentDeployResult
		if err := json.Unmarshal(p.Result, &result); err != nil {
			return fmt.Errorf("%w: %v", errUnreadableReport, err)
		}
		return a.client.ReportDeployment(ctx, p.JobID, result)
	default:
		return fmt.Errorf("%w: kind %q", errUnreadableReport, p.Kind)
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// targetName names the target of a work item in logs.
func targetName(item api.AgentWorkItem) string {
	if item.Target == nil {
		return ""
	}
	return item.Target.Name
}
