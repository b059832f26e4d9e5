package console

// The pages: each handler reads through the service as the signed-in user
// and renders one template.

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/certctl/certctl/server/core"
	"github.com/certctl/certctl/server/service"
	"github.com/certctl/certctl/server/store"
)

// pathID parses the {id} of a path.
func pathID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(r.PathValue("id"))
	if err != nil {
		return uuid.Nil, core.Errorf(core.ENOTFOUND, "%q is not an id", r.PathValue("id"))
	}
	return id, nil
}

// queryID parses an optional id from the query.
func queryID(r *http.Request, name string) (*uuid.UUID, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return nil, nil
	}
	id, err := uuid.Parse(v)
	if err != nil {
		return nil, core.Invalid(name, "%q is not an id", v)
	}
	return &id, nil
}

// withQuery returns the current URL's query with key set to value ("" removes it).
func withQuery(r *http.Request, key, value string) string {
	q := r.URL.Query()
	if value == "" {
		q.Del(key)
	} else {
		q.Set(key, value)
	}
	if len(q) == 0 {
		return r.URL.Path
	}
	return r.URL.Path + "?" + q.Encode()
}

// --- Dashboard

type bar struct {
	X, Y, W, H int
	Label      string
	Href       string
	Class      string
}

type dashboardData struct {
	Now           time.Time
	Total         int
	ByStatus      []statusCount
	Expired       int
	ExpiryBars    []bar
	ExpiryTotal   int
	OutcomeBars   []bar
	Succeeded     int
	Failed        int
	Agents        []statusCount
	AgentsTotal   int
	FailedJobs    []core.Job
	FailedDeploys []core.Deployment
	Certs         map[string]string // certificate names by id
}

func (dashboardData) title() (string, string) { return "Dashboard", "dashboard" }

type statusCount struct {
	Status string
	Count  int
}

// chartHeight is the drawing height of the dashboard's bar charts.
const chartHeight = 120

func (c *Console) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	d, now, err := c.svc.Dashboard(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := dashboardData{Now: now, Expired: d.Expired, FailedJobs: d.FailedJobs, FailedDeploys: d.FailedDeploys,
		Certs: map[string]string{}}
	for _, s := range core.CertificateStatuses {
		data.ByStatus = append(data.ByStatus, statusCount{s, d.CertificatesByStatus[s]})
		data.Total += d.CertificatesByStatus[s]
	}
	for _, s := range []string{core.AgentOnline, core.AgentOffline, core.AgentPending, core.AgentRetired} {
		data.Agents = append(data.Agents, statusCount{s, d.AgentsByStatus[s]})
		data.AgentsTotal += d.AgentsByStatus[s]
	}
	peak := 1
	for _, n := range d.ExpiringByWeek {
		peak = max(peak, n)
		data.ExpiryTotal += n
	}
	for i, n := range d.ExpiringByWeek {
		h := n * chartHeight / peak
		data.ExpiryBars = append(data.ExpiryBars, bar{X: i * 40, Y: chartHeight - h, W: 32, H: h,
			Label: fmt.Sprintf("Week %d (from %s): %d expiring", i+1, now.AddDate(0, 0, 7*i).Format("Jan 2"), n),
			Href:  "/certificates?sort=not_after&expiring=" + strconv.Itoa(7*(i+1))})
	}
	peak = 1
	for i := range d.SucceededByDay {
		peak = max(peak, d.SucceededByDay[i]+d.FailedByDay[i])
		data.Succeeded += d.SucceededByDay[i]
		data.Failed += d.FailedByDay[i]
	}
	for i := range d.SucceededByDay {
		day := now.AddDate(0, 0, i-len(d.SucceededByDay)+1).Format("Jan 2")
		hs := d.SucceededByDay[i] * chartHeight / peak
		hf := d.FailedByDay[i] * chartHeight / peak
		data.OutcomeBars = append(data.OutcomeBars,
			bar{X: i * 16, Y: chartHeight - hs, W: 12, H: hs, Class: "ok",
				Label: fmt.Sprintf("%s: %d succeeded", day, d.SucceededByDay[i])},
			bar{X: i * 16, Y: chartHeight - hs - hf, W: 12, H: hf, Class: "bad",
				Label: fmt.Sprintf("%s: %d failed", day, d.FailedByDay[i])})
	}
	for _, j := range d.FailedJobs {
		if j.CertificateID != nil {
			data.Certs[j.CertificateID.String()] = ""
		}
	}
	for _, dep := range d.FailedDeploys {
		data.Certs[dep.CertificateID.String()] = ""
	}
	for id := range data.Certs {
		if cert, err := c.svc.GetCertificate(ctx, uuid.MustParse(id)); err == nil {
			data.Certs[id] = cert.Name
		}
	}
	c.render(w, r, http.StatusOK, "dashboard", data)
}

// --- Certificates

type certificatesData struct {
	Now       time.Time
	Items     []core.Certificate
	Issuers   []core.Issuer
	IssuerOf  map[uuid.UUID]string
	Statuses  []string
	Q         string
	Status    string
	Issuer    string
	Expiring  string
	Sort      string
	Next      string
	First     string
	Filtered  bool
	Expirings []option
	Sorts     []option
}

func (certificatesData) title() (string, string) { return "Certificates", "certificates" }

type option struct{ Value, Label string }

func (c *Console) certificates(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	data := certificatesData{Now: c.svc.Now(), Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"),
		Issuer: q.Get("issuer"), Expiring: q.Get("expiring"), Sort: q.Get("sort"), Statuses: core.CertificateStatuses,
		IssuerOf:  map[uuid.UUID]string{},
		Expirings: []option{{"", "Any time"}, {"7", "7 days"}, {"30", "30 days"}, {"90", "90 days"}},
		Sorts:     []option{{"", "Newest last"}, {"name", "Name"}, {"not_after", "Expiry, soonest first"}}}
	f := store.SortedCertificateFilter{Status: data.Status, Search: data.Q, Sort: data.Sort, Limit: c.perPage}
	var err error
	if f.IssuerID, err = queryID(r, "issuer"); err != nil {
		c.fail(w, r, err)
		return
	}
	if data.Expiring != "" {
		days, err := strconv.Atoi(data.Expiring)
		if err != nil || days < 1 || days > 3650 {
			c.fail(w, r, core.Invalid("expiring", "must be a number of days"))
			return
		}
		t := data.Now.AddDate(0, 0, days)
		f.ExpiringBefore = &t
	}
	after, err := queryID(r, "after")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if after != nil {
		// The cursor is the last row's id; its sort key is read back, so
		// that links stay short and cannot be forged into another order.
		last, err := c.svc.GetCertificate(ctx, *after)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		f.After = &store.CertificateCursor{ID: last.ID, Name: last.Name, NotAfter: last.NotAfter}
	}
	items, more, err := c.svc.ListCertificatesSorted(ctx, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data.Items = items
	data.Filtered = data.Q != "" || data.Status != "" || data.Issuer != "" || data.Expiring != ""
	if more {
		data.Next = withQuery(r, "after", items[len(items)-1].ID.String())
	}
	if after != nil {
		data.First = withQuery(r, "after", "")
	}
	data.Issuers, _, err = c.svc.ListIssuers(ctx, core.IssuerFilter{Page: core.Page{Limit: core.MaxPageLimit}})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, iss := range data.Issuers {
		data.IssuerOf[iss.ID] = iss.Name
	}
	c.render(w, r, http.StatusOK, "certificates", data)
}

type certificateData struct {
	Now         time.Time
	Cert        core.Certificate
	Issuer      core.Issuer
	Current     *core.CertificateVersion
	Versions    []core.CertificateVersion
	Deployments []deploymentRow
	Explain     service.RenewalExplanation
	Jobs        []core.Job
	Live        *core.Job
	Settled     bool
	Reasons     []option
}

func (d certificateData) title() (string, string) {
	return "Certificate " + d.Cert.Name, "certificates"
}

type deploymentRow struct {
	core.Deployment
	TargetName string
	Current    bool
}

// revocationReasons are the RFC 5280 reasons an operator may give.
var revocationReasons = []option{{"0", "Unspecified"}, {"1", "Key compromise"}, {"3", "Affiliation changed"},
	{"4", "Superseded"}, {"5", "Cessation of operation"}}

// certificateState reads what the live part of a certificate page shows.
func (c *Console) certificateState(r *http.Request, id uuid.UUID) (certificateData, error) {
	ctx := r.Context()
	d := certificateData{Now: c.svc.Now(), Reasons: revocationReasons}
	var err error
	if d.Cert, err = c.svc.GetCertificate(ctx, id); err != nil {
		return d, err
	}
	if d.Cert.CurrentVersionID != nil {
		v, err := c.svc.GetVersion(ctx, id, *d.Cert.CurrentVersionID)
		if err != nil {
			return d, err
		}
		d.Current = &v
	}
	jobs, _, err := c.svc.ListJobs(ctx, core.JobFilter{CertificateID: &id, Page: core.Page{Limit: 10}})
	if err != nil {
		return d, err
	}
	d.Jobs = jobs
	for i, j := range jobs {
		if (j.Kind == core.JobIssue || j.Kind == core.JobRenew || j.Kind == core.JobRevoke) && live(j.State) {
			d.Live = &jobs[i]
			break
		}
	}
	d.Settled = d.Live == nil && !slices.Contains([]string{core.CertPending, core.CertIssuing, core.CertRenewing}, d.Cert.Status)
	return d, nil
}

func live(state string) bool {
	return slices.Contains([]string{core.JobQueued, core.JobRunning, core.JobWaiting, core.JobRetrying}, state)
}

func (c *Console) certificate(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d, err := c.certificateState(r, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Issuer, err = c.svc.GetIssuer(ctx, d.Cert.IssuerID); err != nil && core.ErrorCode(err) != core.ENOTFOUND {
		c.fail(w, r, err)
		return
	}
	if d.Versions, _, err = c.svc.ListVersions(ctx, id, core.Page{Limit: 20}); err != nil {
		c.fail(w, r, err)
		return
	}
	deps, _, err := c.svc.ListDeployments(ctx, id, core.Page{Limit: 50})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	names := map[uuid.UUID]string{}
	for _, dep := range deps {
		name, ok := names[dep.TargetID]
		if !ok {
			if t, err := c.svc.GetTarget(ctx, dep.TargetID); err == nil {
				name = t.Name
			} else {
				name = dep.TargetID.String()
			}
			names[dep.TargetID] = name
		}
		d.Deployments = append(d.Deployments, deploymentRow{Deployment: dep, TargetName: name,
			Current: d.Cert.CurrentVersionID != nil && dep.VersionID == *d.Cert.CurrentVersionID})
	}
	if d.Explain, err = c.svc.ExplainRenewal(ctx, id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "certificate", d)
}

// certificateLive answers the live part of a certificate page, which the
// page's script fetches while work is in progress.
func (c *Console) certificateLive(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d, err := c.certificateState(r, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "certstate", d)
}

func (c *Console) certificateChain(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	cert, err := c.svc.GetCertificate(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if cert.CurrentVersionID == nil {
		c.fail(w, r, core.Errorf(core.ENOTFOUND, "certificate %s has not been issued yet", cert.Name))
		return
	}
	v, err := c.svc.GetVersion(r.Context(), id, *cert.CurrentVersionID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pem-certificate-chain")
	w.Header().Set("Content-Disposition", `attachment; filename="`+safeFilename(cert.Name)+`.pem"`)
	_, _ = fmt.Fprint(w, strings.TrimSpace(v.CertificatePEM)+"\n"+strings.TrimSpace(v.ChainPEM)+"\n")
}

// safeFilename keeps letters, digits, dots, dashes and underscores.
func safeFilename(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// back redirects to path with a message for the next page to show. The
// message travels in a short-lived cookie, not in the address: a link
// cannot make the console display words of someone else's choosing.
func (c *Console) back(w http.ResponseWriter, r *http.Request, path, flash string) {
	http.SetCookie(w, c.cookie(r, flashCookie, url.QueryEscape(flash), 60))
	http.Redirect(w, r, path, http.StatusSeeOther)
}

func (c *Console) renew(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	job, err := c.svc.RenewCertificate(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/certificates/"+id.String(), "Renewal started (job "+job.ID.String()[:8]+"). This page shows when it finishes.")
}

func (c *Console) revoke(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	reason, err := strconv.Atoi(r.PostFormValue("reason"))
	if err != nil {
		c.fail(w, r, core.Invalid("reason", "choose a revocation reason"))
		return
	}
	if _, err := c.svc.RevokeCertificate(r.Context(), id, service.RevokeInput{Reason: reason}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/certificates/"+id.String(), "Revocation started. This page shows when it finishes.")
}

// --- Agents

type agentsData struct {
	Now      time.Time
	Items    []core.Agent
	Status   string
	OS       string
	Arch     string
	Statuses []string
	Next     string
	First    string
	Filtered bool
}

func (agentsData) title() (string, string) { return "Agents", "agents" }

func (c *Console) agents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := agentsData{Now: c.svc.Now(), Status: q.Get("status"), OS: strings.TrimSpace(q.Get("os")),
		Arch:     strings.TrimSpace(q.Get("arch")),
		Statuses: []string{core.AgentOnline, core.AgentOffline, core.AgentPending, core.AgentRetired}}
	after, err := queryID(r, "after")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	items, more, err := c.svc.ListAgents(r.Context(), core.AgentFilter{Status: d.Status, OS: d.OS, Arch: d.Arch,
		Page: core.Page{Limit: c.perPage, After: after}})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Items = items
	d.Filtered = d.Status != "" || d.OS != "" || d.Arch != ""
	if more {
		d.Next = withQuery(r, "after", items[len(items)-1].ID.String())
	}
	if after != nil {
		d.First = withQuery(r, "after", "")
	}
	c.render(w, r, http.StatusOK, "agents", d)
}

type agentData struct {
	Now     time.Time
	Agent   core.Agent
	Targets []core.Target
	Jobs    []core.Job
}

func (d agentData) title() (string, string) { return "Agent " + d.Agent.Name, "agents" }

func (d agentData) live() bool { return anyLive(d.Jobs) }

func (c *Console) agent(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d := agentData{Now: c.svc.Now()}
	if d.Agent, err = c.svc.GetAgent(ctx, id); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Targets, _, err = c.svc.ListTargets(ctx, core.TargetFilter{AgentID: &id, Page: core.Page{Limit: 100}}); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Jobs, err = c.svc.AgentJobs(ctx, id, 20); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "agent", d)
}

func (c *Console) retire(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	a, err := c.svc.RetireAgent(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/agents/"+id.String(), "Agent "+a.Name+" is retired: its credentials no longer work.")
}

// --- Jobs

type jobsData struct {
	Now      time.Time
	Items    []core.Job
	Kind     string
	State    string
	Kinds    []string
	States   []string
	Next     string
	First    string
	Filtered bool
}

func (jobsData) title() (string, string) { return "Jobs", "jobs" }

// live reports whether the list shows a job still in progress.
func (d jobsData) live() bool { return anyLive(d.Items) }

func anyLive(jobs []core.Job) bool {
	return slices.ContainsFunc(jobs, func(j core.Job) bool { return live(j.State) })
}

func (c *Console) jobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := jobsData{Now: c.svc.Now(), Kind: q.Get("kind"), State: q.Get("state"), Kinds: core.JobKinds, States: core.JobStates}
	after, err := queryID(r, "after")
	if err != nil {
		c.fail(w, r, err)
		return
	}
	items, more, err := c.svc.ListJobs(r.Context(), core.JobFilter{Kind: d.Kind, State: d.State,
		Page: core.Page{Limit: c.perPage, After: after}})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Items, d.Filtered = items, d.Kind != "" || d.State != ""
	if more {
		d.Next = withQuery(r, "after", items[len(items)-1].ID.String())
	}
	if after != nil {
		d.First = withQuery(r, "after", "")
	}
	c.render(w, r, http.StatusOK, "jobs", d)
}

// --- Audit log

type auditData struct {
	Items        []core.AuditEvent
	Actor        string
	Action       string
	ResourceType string
	ResourceID   string
	Outcome      string
	Since        string
	Until        string
	Outcomes     []string
	Next         string
	First        string
	Filtered     bool
}

func (auditData) title() (string, string) { return "Audit log", "audit" }

func (c *Console) audit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := auditData{Actor: strings.TrimSpace(q.Get("actor")), Action: strings.TrimSpace(q.Get("action")),
		ResourceType: strings.TrimSpace(q.Get("resource_type")), ResourceID: strings.TrimSpace(q.Get("resource_id")),
		Outcome: q.Get("outcome"), Since: q.Get("since"), Until: q.Get("until"),
		Outcomes: []string{core.OutcomeSuccess, core.OutcomeFailure, core.OutcomeDenied}}
	f := core.AuditFilter{Actor: d.Actor, Action: d.Action, ResourceType: d.ResourceType, ResourceID: d.ResourceID,
		Outcome: d.Outcome}
	var err error
	if f.After, err = queryID(r, "after"); err != nil {
		c.fail(w, r, err)
		return
	}
	f.Limit = c.perPage
	day := func(field, v string, end bool) (*time.Time, error) {
		if v == "" {
			return nil, nil
		}
		t, err := time.Parse("2006-01-02", v)
		if err != nil {
			return nil, core.Invalid(field, "%q is not a date (YYYY-MM-DD)", v)
		}
		if end {
			t = t.AddDate(0, 0, 1)
		}
		return &t, nil
	}
	if f.Since, err = day("since", d.Since, false); err != nil {
		c.fail(w, r, err)
		return
	}
	if f.Until, err = day("until", d.Until, true); err != nil {
		c.fail(w, r, err)
		return
	}
	items, more, err := c.svc.ListAudit(r.Context(), f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	d.Items = items
	d.Filtered = d.Actor != "" || d.Action != "" || d.ResourceType != "" || d.ResourceID != "" || d.Outcome != "" ||
		d.Since != "" || d.Until != ""
	if more {
		d.Next = withQuery(r, "after", items[len(items)-1].ID.String())
	}
	if f.After != nil {
		d.First = withQuery(r, "after", "")
	}
	c.render(w, r, http.StatusOK, "audit", d)
}

// --- Certificate creation

type certificateFormData struct {
	ID       string // set when editing
	Issuers  []core.Issuer
	Targets  []core.Target
	KeyTypes []string
	KeyModes []string
	Name     string
	CN       string
	SANs     string
	Issuer   string
	Chosen   map[string]bool // chosen target ids
	KeyType  string
	KeyMode  string
	Policies []core.RenewalPolicy
	Policy   string // the chosen renewal policy's id, "" for the default policy
	Labels   string // key=value, one a line
	Profile  string
	Error    string
}

func (d certificateFormData) title() (string, string) {
	if d.ID != "" {
		return "Edit certificate " + d.Name, "certificates"
	}
	return "New certificate", "certificates"
}

func (c *Console) newCertificate(w http.ResponseWriter, r *http.Request) {
	c.certificateForm(w, r, http.StatusOK, "")
}

func (c *Console) certificateForm(w http.ResponseWriter, r *http.Request, status int, msg string) {
	ctx := r.Context()
	d := certificateFormData{KeyTypes: core.KeyTypes, KeyModes: append([]string{""}, core.KeyModes...),
		Name: strings.TrimSpace(r.FormValue("name")), CN: strings.TrimSpace(r.FormValue("common_name")),
		SANs: r.FormValue("sans"), Issuer: r.FormValue("issuer_id"), KeyType: r.FormValue("key_type"),
		KeyMode: r.FormValue("key_mode"), Policy: r.FormValue("renewal_policy_id"), Labels: r.FormValue("labels"),
		Profile: strings.TrimSpace(r.FormValue("profile")), Chosen: map[string]bool{}, Error: msg}
	if d.KeyType == "" {
		d.KeyType = core.KeyTypes[0]
	}
	if r.Method == http.MethodPost {
		for _, id := range r.PostForm["target_ids"] {
			d.Chosen[id] = true
		}
	}
	if r.PathValue("id") != "" {
		id, err := pathID(r)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		cert, err := c.svc.GetCertificate(ctx, id)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		d.ID = cert.ID.String()
		if r.Method != http.MethodPost {
			d.Name, d.CN, d.SANs, d.Issuer = cert.Name, cert.CommonName, strings.Join(cert.SANs, "\n"), cert.IssuerID.String()
			d.KeyType, d.KeyMode, d.Labels, d.Profile = cert.KeyType, cert.KeyMode, formatLabels(cert.Labels), cert.Profile
			if cert.RenewalPolicyID != nil {
				d.Policy = cert.RenewalPolicyID.String()
			}
			for _, t := range cert.TargetIDs {
				d.Chosen[t.String()] = true
			}
		}
	}
	var err error
	if d.Issuers, _, err = c.svc.ListIssuers(ctx, core.IssuerFilter{Page: core.Page{Limit: core.MaxPageLimit}}); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Targets, _, err = c.svc.ListTargets(ctx, core.TargetFilter{Page: core.Page{Limit: core.MaxPageLimit}}); err != nil {
		c.fail(w, r, err)
		return
	}
	if d.Policies, _, err = c.svc.ListPolicies(ctx, core.Page{Limit: core.MaxPageLimit}); err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, status, "certificate_new", d)
}

func (c *Console) createCertificate(w http.ResponseWriter, r *http.Request) {
	in := service.CertificateInput{Name: strings.TrimSpace(r.PostFormValue("name")),
		CommonName: strings.TrimSpace(r.PostFormValue("common_name")), KeyType: r.PostFormValue("key_type"),
		KeyMode: r.PostFormValue("key_mode"), Profile: strings.TrimSpace(r.PostFormValue("profile"))}
	labels, err := parseLabels(r.PostFormValue("labels"))
	if err != nil {
		c.certificateForm(w, r, http.StatusUnprocessableEntity, fieldMessage(err))
		return
	}
	in.Labels = labels
	if v := r.PostFormValue("renewal_policy_id"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			c.certificateForm(w, r, http.StatusUnprocessableEntity, "renewal_policy_id: choose a renewal policy.")
			return
		}
		in.RenewalPolicyID = &id
	}
	for _, line := range strings.Split(r.PostFormValue("sans"), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			in.SANs = append(in.SANs, line)
		}
	}
	issuer, err := uuid.Parse(r.PostFormValue("issuer_id"))
	if err != nil {
		c.certificateForm(w, r, http.StatusUnprocessableEntity, "Choose an issuer.")
		return
	}
	in.IssuerID = issuer
	for _, v := range r.PostForm["target_ids"] {
		id, err := uuid.Parse(v)
		if err != nil {
			c.certificateForm(w, r, http.StatusUnprocessableEntity, "A chosen target is not a target id.")
			return
		}
		in.TargetIDs = append(in.TargetIDs, id)
	}
	var cert core.Certificate
	if r.PathValue("id") != "" {
		id, perr := pathID(r)
		if perr != nil {
			c.fail(w, r, perr)
			return
		}
		// The form sends every field, and an empty one clears its value; a
		// field missing from the request (a form from before the field was
		// added, or a script posting only what it changes) keeps its value.
		old, gerr := c.svc.GetCertificate(r.Context(), id)
		if gerr != nil {
			c.fail(w, r, gerr)
			return
		}
		if _, sent := r.PostForm["renewal_policy_id"]; !sent {
			in.RenewalPolicyID = old.RenewalPolicyID
		}
		if _, sent := r.PostForm["labels"]; !sent {
			in.Labels = old.Labels
		}
		if _, sent := r.PostForm["profile"]; !sent {
			in.Profile = old.Profile
		}
		cert, err = c.svc.UpdateCertificate(r.Context(), id, in)
		if err == nil {
			c.back(w, r, "/certificates/"+cert.ID.String(), "Certificate "+cert.Name+" saved.")
			return
		}
	} else {
		cert, err = c.svc.CreateCertificate(r.Context(), in)
	}
	if err != nil {
		if code := core.ErrorCode(err); code != core.EINVALID && code != core.ECONFLICT && code != core.ENOTFOUND {
			c.fail(w, r, err)
			return
		}
		c.certificateForm(w, r, http.StatusUnprocessableEntity, fieldMessage(err))
		return
	}
	c.back(w, r, "/certificates/"+cert.ID.String(), "Certificate "+cert.Name+" declared; its issuance has started.")
}

// parseLabels reads the labels box: one key=value a line, blank lines
// skipped; the keys and values are then checked by the service, with the
// API's rules.
func parseLabels(text string) (map[string]string, error) {
	labels := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return nil, core.Invalid("labels", "line %d %q: want key=value", i+1, line)
		}
		if _, dup := labels[k]; dup {
			return nil, core.Invalid("labels", "line %d: label %q is given twice", i+1, k)
		}
		labels[k] = strings.TrimSpace(v)
	}
	return labels, nil
}

// formatLabels writes labels as the labels box shows them, sorted by key.
func formatLabels(labels map[string]string) string {
	lines := make([]string, 0, len(labels))
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		lines = append(lines, k+"="+labels[k])
	}
	return strings.Join(lines, "\n")
}

// fieldMessage says which field an error is about, when it says.
func fieldMessage(err error) string {
	var e *core.Error
	if errors.As(err, &e) && e.Field != "" {
		return e.Field + ": " + e.Message
	}
	return core.ErrorMessage(err)
}

// jobAction cancels or retries a job, then shows the jobs list again.
func (c *Console) jobAction(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var job core.Job
	verb := r.PathValue("action")
	switch verb {
	case "cancel":
		job, err = c.svc.CancelJob(r.Context(), id)
	case "retry":
		job, err = c.svc.RetryJob(r.Context(), id)
	default:
		c.notFound(w, r)
		return
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/jobs", "Job "+job.ID.String()[:8]+" ("+job.Kind+") is now "+job.State+".")
}

func (c *Console) deleteCertificate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	cert, err := c.svc.GetCertificate(r.Context(), id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if err := c.svc.DeleteCertificate(r.Context(), id); err != nil {
		c.fail(w, r, err)
		return
	}
	c.back(w, r, "/certificates", "Certificate "+cert.Name+" deleted, with its versions. Deployed files stay where they are.")
}
