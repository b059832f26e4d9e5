// This file is the invariant check that ends a soak: what the database,
// the API and the simulated agents say must agree that nothing was lost,
// stuck or done twice, and that every failure is in the audit trail.

package main

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/certctl/certctl/sdk/client"
)

// invariant is one checked rule and what broke it.
type invariant struct {
	name       string
	violations []string
}

func (s *soak) check(ctx context.Context) []invariant {
	var out []invariant
	add := func(name string, v []string) {
		out = append(out, invariant{name: name, violations: v})
		status := "ok"
		if len(v) > 0 {
			status = fmt.Sprintf("%d VIOLATIONS", len(v))
		}
		logf("invariant %-70s %s", name, status)
	}
	q := func(name, sql string, args ...any) []string {
		rows, err := s.pool.Query(ctx, sql, args...)
		if err != nil {
			return []string{"query failed: " + err.Error()}
		}
		defer rows.Close()
		var v []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return append(v, "scan failed: "+err.Error())
			}
			v = append(v, line)
		}
		if err := rows.Err(); err != nil {
			v = append(v, "query failed: "+err.Error())
		}
		return v
	}

	// Certificates.
	var nCerts, nVersions, nRenew, nIssue int64
	if err := s.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM managed_certificates),
		(SELECT count(*) FROM certificate_versions),
		(SELECT count(*) FROM jobs WHERE kind = 'renew'), (SELECT count(*) FROM jobs WHERE kind = 'issue')`).
		Scan(&nCerts, &nVersions, &nRenew, &nIssue); err != nil {
		add("database readable", []string{err.Error()})
		return out
	}
	s.rep.certs, s.rep.versions, s.rep.renewJobs, s.rep.issueJobs = nCerts, nVersions, nRenew, nIssue
	var v []string
	if nCerts != s.declared.Load() {
		v = append(v, fmt.Sprintf("%d certificates in the database, %d declared", nCerts, s.declared.Load()))
	}
	add("every declared certificate exists once", v)

	add("every certificate active (database)", q("", `SELECT name || ': status ' || status || coalesce(' (' || nullif(last_error, '') || ')', '')
		FROM managed_certificates WHERE status <> 'active' ORDER BY name LIMIT 50`))

	// The API agrees: it lists the same certificates, all active.
	v = nil
	listed, notActive := 0, 0
	for c, err := range s.admin.AllCertificates(ctx, client.CertificateListOptions{}) {
		if err != nil {
			v = append(v, "list certificates: "+err.Error())
			break
		}
		listed++
		if c.Status != "active" {
			notActive++
			if notActive <= 20 {
				v = append(v, fmt.Sprintf("%s: status %s through the API", c.Name, c.Status))
			}
		}
	}
	if int64(listed) != nCerts {
		v = append(v, fmt.Sprintf("the API lists %d certificates, the database holds %d", listed, nCerts))
	}
	add("every certificate active (API)", v)

	// Versions: one per issuance asked for. Each certificate has one issue
	// job (its declaration) and at most one renew job (the bulk renewal);
	// every such job succeeded and produced exactly one version.
	add("one issue job per certificate, at most one renew job", q("", `SELECT c.name || ': ' || count(*) FILTER (WHERE j.kind = 'issue') || ' issue and '
		|| count(*) FILTER (WHERE j.kind = 'renew') || ' renew jobs'
		FROM managed_certificates c LEFT JOIN jobs j ON j.certificate_id = c.id AND j.kind IN ('issue','renew')
		GROUP BY c.name HAVING count(*) FILTER (WHERE j.kind = 'issue') <> 1 OR count(*) FILTER (WHERE j.kind = 'renew') > 1
		ORDER BY c.name LIMIT 50`))
	add("every issue and renew job succeeded", q("", `SELECT c.name || ': ' || j.kind || ' job ' || j.id || ' is ' || j.state
		|| coalesce(' (' || nullif(j.last_error, '') || ')', '')
		FROM jobs j JOIN managed_certificates c ON c.id = j.certificate_id
		WHERE j.kind IN ('issue','renew') AND j.state <> 'succeeded' ORDER BY c.name LIMIT 50`))
	add("versions = issuances asked for (declaration + renewal)", q("", `SELECT c.name || ': ' || coalesce(v.n, 0) || ' versions, '
		|| coalesce(j.n, 0) || ' issuances asked for'
		FROM managed_certificates c
		LEFT JOIN (SELECT certificate_id, count(*) n FROM certificate_versions GROUP BY 1) v ON v.certificate_id = c.id
		LEFT JOIN (SELECT certificate_id, count(*) n FROM jobs WHERE kind IN ('issue','renew') GROUP BY 1) j ON j.certificate_id = c.id
		WHERE coalesce(v.n, 0) <> coalesce(j.n, 0) ORDER BY c.name LIMIT 50`))
	add("no job produced two versions, every version has its job", q("", `SELECT 'job ' || coalesce(job_id::text, '(none)') || ': '
		|| count(*) || ' versions' FROM certificate_versions GROUP BY job_id HAVING count(*) > 1 OR job_id IS NULL LIMIT 50`))
	add("no serial number issued twice", q("", `SELECT serial_number || ': ' || count(*) || ' versions'
		FROM certificate_versions GROUP BY serial_number HAVING count(*) > 1 LIMIT 50`))
	add("one current version per certificate, the newest", q("", `SELECT c.name || ': ' || count(*) FILTER (WHERE v.status = 'active') || ' active versions'
		FROM managed_certificates c JOIN certificate_versions v ON v.certificate_id = c.id
		GROUP BY c.name HAVING count(*) FILTER (WHERE v.status = 'active') <> 1 ORDER BY c.name LIMIT 50`))
	v = nil
	if s.renewKnown.Load() && nRenew != s.renewStarted.Load() {
		v = append(v, fmt.Sprintf("%d renew jobs in the database, the bulk renewal said it started %d", nRenew, s.renewStarted.Load()))
	}
	add("renew jobs = what the bulk renewal said it started", v)

	// Jobs: nothing stuck.
	add("no job running with an expired lease", q("", `SELECT kind || ' job ' || id || ' running, lease of ' || coalesce(lease_owner, '?')
		|| ' expired at ' || lease_expires_at FROM jobs WHERE state = 'running' AND lease_expires_at < now() LIMIT 50`))
	add("no job queued past due for over a minute", q("", `SELECT kind || ' job ' || id || ' ' || state || ' since ' || run_at
		FROM jobs WHERE state IN ('queued','retrying') AND run_at < now() - interval '1 minute' LIMIT 50`))
	add("no job still live after settling (besides notifications)", q("", `SELECT kind || ' job ' || id || ' ' || state
		|| coalesce(' leased to ' || lease_owner || ' until ' || lease_expires_at, '') || coalesce(' (' || nullif(last_error, '') || ')', '')
		FROM jobs WHERE state IN ('queued','running','waiting','retrying') AND kind <> 'notify' ORDER BY created_at LIMIT 50`))

	// Deploy jobs an agent holds (running, leased to it) must be ones it
	// received: a job taken for an agent whose answer never reached it
	// waits for its lease (10 minutes) before anyone else may have it.
	byID := map[string]*simAgent{}
	for _, a := range s.fleet.agents {
		byID[a.id] = a
	}
	v = nil
	rows, err := s.pool.Query(ctx, `SELECT j.id::text, j.agent_id::text, a.name, j.updated_at, j.lease_expires_at
		FROM jobs j JOIN agents a ON a.id = j.agent_id WHERE j.kind = 'deploy' AND j.state = 'running' ORDER BY j.updated_at`)
	if err != nil {
		v = append(v, "query failed: "+err.Error())
	} else {
		for rows.Next() {
			var id, agentID, name string
			var taken, until time.Time
			if err := rows.Scan(&id, &agentID, &name, &taken, &until); err != nil {
				v = append(v, "scan failed: "+err.Error())
				break
			}
			if a := byID[agentID]; a != nil && !a.gotJob(id) {
				v = append(v, fmt.Sprintf("deploy job %s taken for %s at %s, never received by it (the answer to its poll was lost); leased until %s",
					id, name, taken.UTC().Format("15:04:05.000"), until.UTC().Format("15:04:05")))
			}
		}
		rows.Close()
	}
	add("every deploy job leased to an agent reached that agent", v)

	// Deployments against what the simulated agents applied.
	s.checkDeployments(ctx, add, q)

	// The audit trail.
	add("every failed job has its audit event", q("", `SELECT j.kind || ' job ' || j.id || ' failed with no audit event'
		FROM jobs j WHERE j.state = 'failed' AND NOT EXISTS (
			SELECT 1 FROM audit_events a WHERE a.outcome = 'failure' AND (
				(a.resource_type = 'job' AND a.resource_id = j.id::text) OR
				(a.action = 'deployment.failed' AND a.details->>'job_id' = j.id::text))) LIMIT 50`))
	add("every failed deployment has its deployment.failed event", q("", `SELECT 'deployment ' || d.id || ' failed with no deployment.failed event'
		FROM deployments d WHERE d.status = 'failed' AND NOT EXISTS (
			SELECT 1 FROM audit_events a WHERE a.action = 'deployment.failed' AND a.resource_id = d.id::text) LIMIT 50`))
	add("every succeeded deployment has its deployment.succeeded event", q("", `SELECT 'deployment ' || d.id || ' succeeded with no audit event'
		FROM deployments d WHERE d.status = 'succeeded' AND NOT EXISTS (
			SELECT 1 FROM audit_events a WHERE a.action = 'deployment.succeeded' AND a.resource_id = d.id::text) LIMIT 50`))
	add("every job retried after a lost lease has job.lease_expired", q("", `SELECT j.kind || ' job ' || j.id || ' ran '
		|| j.attempt || ' times on servers with no lease_expired or retrying event'
		FROM jobs j WHERE j.kind IN ('issue','renew') AND j.attempt > 1 AND NOT EXISTS (
			SELECT 1 FROM audit_events a WHERE a.resource_type = 'job' AND a.resource_id = j.id::text
			AND a.action IN ('job.lease_expired', 'job.retrying')) LIMIT 50`))

	// Figures for the summary.
	rows, err = s.pool.Query(ctx, `SELECT action, outcome, count(*) FROM audit_events
		WHERE action IN ('job.lease_expired','job.retrying','job.failed','deployment.failed','deployment.succeeded','certificate.issued','certificate.renewed')
		GROUP BY 1, 2 ORDER BY 1, 2`)
	if err == nil {
		for rows.Next() {
			var action, outcome string
			var n int64
			if rows.Scan(&action, &outcome, &n) == nil {
				s.rep.audit = append(s.rep.audit, fmt.Sprintf("%7d  %s (%s)", n, action, outcome))
			}
		}
		rows.Close()
	}
	return out
}

// checkDeployments compares every deployment the server recorded for the
// simulated agents' targets with what the agents applied.
func (s *soak) checkDeployments(ctx context.Context, add func(string, []string), q func(string, string, ...any) []string) {
	type key struct{ target, version string }
	applied := map[key][]application{}
	served := map[string]string{} // target → serial the agent holds
	for _, a := range s.fleet.agents {
		apps, srv := a.snapshot()
		for _, ap := range apps {
			applied[key{ap.targetID, ap.versionID}] = append(applied[key{ap.targetID, ap.versionID}], ap)
		}
		for t, serial := range srv {
			served[t] = serial
		}
	}
	rows, err := s.pool.Query(ctx, `SELECT d.target_id::text, d.version_id::text, d.status, c.name, v.serial_number,
		(c.current_version_id = d.version_id) FROM deployments d
		JOIN managed_certificates c ON c.id = d.certificate_id JOIN certificate_versions v ON v.id = d.version_id`)
	if err != nil {
		add("deployments readable", []string{err.Error()})
		return
	}
	type dep struct {
		target, version, status, cert, serial string
		current                               bool
	}
	var deps []dep
	for rows.Next() {
		var d dep
		if err := rows.Scan(&d.target, &d.version, &d.status, &d.cert, &d.serial, &d.current); err != nil {
			add("deployments readable", []string{err.Error()})
			rows.Close()
			return
		}
		deps = append(deps, d)
	}
	rows.Close()
	var once, lost, failedWrong, extra, supersededApplied []string
	seen := map[key]bool{}
	byStatus := map[string]int{}
	for _, d := range deps {
		k := key{d.target, d.version}
		seen[k] = true
		byStatus[d.status]++
		apps := applied[k]
		failing := d.target == s.rep.failingTarget
		switch d.status {
		case "succeeded":
			if len(apps) != 1 || !apps[0].ok {
				once = append(once, fmt.Sprintf("%s v%s on target %s: succeeded on the server, applied %d times by the agent",
					d.cert, shortID(d.version), shortID(d.target), len(apps)))
			}
		case "failed":
			if !failing {
				failedWrong = append(failedWrong, fmt.Sprintf("%s v%s on healthy target %s: failed", d.cert, shortID(d.version), shortID(d.target)))
			} else if len(apps) != 1 {
				once = append(once, fmt.Sprintf("%s v%s on the failing target: attempted %d times (want once)", d.cert, shortID(d.version), len(apps)))
			}
		case "superseded":
			if len(apps) > 0 {
				supersededApplied = append(supersededApplied, fmt.Sprintf("%s v%s on target %s: superseded but applied %d times",
					d.cert, shortID(d.version), shortID(d.target), len(apps)))
			}
		default:
			lost = append(lost, fmt.Sprintf("%s v%s on target %s: still %s after settling (applied %d times)",
				d.cert, shortID(d.version), shortID(d.target), d.status, len(apps)))
		}
		if d.current && !failing && d.status == "succeeded" && served[d.target] == "" {
			lost = append(lost, fmt.Sprintf("%s: target %s holds nothing", d.cert, shortID(d.target)))
		}
	}
	for k, apps := range applied {
		if !seen[k] {
			extra = append(extra, fmt.Sprintf("version %s on target %s: applied %d times with no deployment on the server",
				shortID(k.version), shortID(k.target), len(apps)))
		}
	}
	// The current version of every agent-bound certificate reached each of
	// its healthy targets.
	current := q("", `SELECT c.name || ': current version not deployed to target ' || ct.target_id
		FROM managed_certificates c JOIN certificate_targets ct ON ct.certificate_id = c.id
		WHERE ct.target_id::text <> $1 AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.certificate_id = c.id
			AND d.version_id = c.current_version_id AND d.target_id = ct.target_id AND d.status = 'succeeded')
		ORDER BY c.name LIMIT 50`, s.rep.failingTarget)
	sort.Strings(once)
	sort.Strings(lost)
	s.rep.deployments = byStatus
	s.rep.applications = 0
	for _, apps := range applied {
		s.rep.applications += len(apps)
	}
	add("every deployment applied exactly once by its agent", limit(once))
	add("no deployment lost or left pending", limit(lost))
	add("the current version of every certificate is on each healthy target", current)
	add("only the failing target's deployments failed, each recorded", limit(failedWrong))
	add("no agent applied a version the server has no deployment for", limit(extra))
	add("no superseded deployment was applied", limit(supersededApplied))
}

func limit(v []string) []string {
	if len(v) > 50 {
		return append(v[:50], fmt.Sprintf("... and %d more", len(v)-50))
	}
	return v
}
