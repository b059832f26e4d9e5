package console

// Templates: one layout shared by every page, one file per page, and the
// helpers the templates format values with.

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/certctl/certctl/server/core"
)

type page struct {
	t *template.Template
}

// fragments are templates served without the layout (live updates).
var fragments = map[string]bool{"certstate": true}

func parsePages() (map[string]*page, error) {
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/parts.html")
	if err != nil {
		return nil, fmt.Errorf("console: parse layout: %w", err)
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*page{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "parts" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFS, f)
		if err != nil {
			return nil, fmt.Errorf("console: parse %s: %w", f, err)
		}
		pages[name] = &page{t: t}
	}
	for name := range fragments {
		pages[name] = &page{t: base}
	}
	return pages, nil
}

// view is what every page's template receives.
type view struct {
	Title   string
	Nav     string // the section the page belongs to, for the menu
	Actor   core.Actor
	Signed  bool
	CSRF    string
	Operate bool // the user may change things (operator or admin)
	Admin   bool
	Flash   string
	Poll    int  // milliseconds between live updates
	Refresh bool // the page shows work in progress: its script refreshes it
	Data    any
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	p, ok := c.pages[name]
	if !ok {
		c.logger.ErrorContext(r.Context(), "console: no such template", "name", name)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	s := sessionFrom(r.Context())
	v := view{Actor: s.Actor, Signed: s.Actor.ID != "", CSRF: s.CSRFToken, Operate: s.Actor.Can(core.RoleOperator),
		Admin: s.Actor.Can(core.RoleAdmin), Poll: int(c.poll.Milliseconds()), Data: data}
	if ck, err := r.Cookie(flashCookie); err == nil && !fragments[name] {
		v.Flash, _ = url.QueryUnescape(ck.Value)
		http.SetCookie(w, c.cookie(r, flashCookie, "", -1))
	}
	if l, ok := data.(interface{ live() bool }); ok {
		v.Refresh = l.live()
	}
	if t, ok := data.(interface{ title() (string, string) }); ok {
		v.Title, v.Nav = t.title()
	}
	exec := "layout"
	if fragments[name] {
		exec = name
	}
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, exec, v); err != nil {
		c.logger.ErrorContext(r.Context(), "console: render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

type errorPage struct {
	Title   string
	Message string
}

func (e errorPage) title() (string, string) { return e.Title, "" }

// fail shows an error page that says what went wrong. Internal errors
// are logged and shown without their detail.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := core.ErrorCode(err)
	status := map[string]int{core.EINVALID: http.StatusUnprocessableEntity, core.ENOTFOUND: http.StatusNotFound,
		core.EFORBIDDEN: http.StatusForbidden, core.EUNAUTHORIZED: http.StatusUnauthorized,
		core.ECONFLICT: http.StatusConflict}[code]
	title := map[string]string{core.EINVALID: "That was not accepted", core.ENOTFOUND: "Not found",
		core.EFORBIDDEN: "Not allowed", core.EUNAUTHORIZED: "Sign in required", core.ECONFLICT: "Conflict"}[code]
	msg := core.ErrorMessage(err)
	if status == 0 {
		status, title = http.StatusInternalServerError, "Something went wrong"
		c.logger.ErrorContext(r.Context(), "console: internal error", "path", r.URL.Path, "err", err)
		msg = "certctl could not complete this request (request " + core.RequestIDFrom(r.Context()) +
			"). The server log has the details; try again in a moment."
	}
	c.render(w, r, status, "error", errorPage{Title: title, Message: msg})
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusNotFound, "error", errorPage{Title: "Not found",
		Message: "There is no page at " + r.URL.Path + ". Use the menu to find what you are looking for."})
}

var funcs = template.FuncMap{
	"when": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format("2006-01-02 15:04 UTC")
		case *time.Time:
			if v == nil {
				return "—"
			}
			return v.UTC().Format("2006-01-02 15:04 UTC")
		}
		return "—"
	},
	"iso": func(t any) string {
		switch v := t.(type) {
		case time.Time:
			return v.UTC().Format(time.RFC3339)
		case *time.Time:
			if v != nil {
				return v.UTC().Format(time.RFC3339)
			}
		}
		return ""
	},
	"ago":    ago,
	"short":  func(s fmt.Stringer) string { return s.String()[:8] },
	"join":   strings.Join,
	"add":    func(a, b int) int { return a + b },
	"sub":    func(a, b int) int { return a - b },
	"mul":    func(a, b int) int { return a * b },
	"addr":   func(a fmt.Stringer) string { return a.String() },
	"uptime": uptime,
}

// ago says how long ago (or how far ahead) t is from now, roughly.
func ago(now time.Time, t any) string {
	var v time.Time
	switch x := t.(type) {
	case time.Time:
		v = x
	case *time.Time:
		if x == nil {
			return "never"
		}
		v = *x
	default:
		return ""
	}
	d := now.Sub(v)
	future := d < 0
	if future {
		d = -d
	}
	var s string
	switch {
	case d < time.Minute:
		s = "moments"
	case d < time.Hour:
		s = plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		s = plural(int(d/time.Hour), "hour")
	default:
		s = plural(int(d/(24*time.Hour)), "day")
	}
	if future {
		return "in " + s
	}
	return s + " ago"
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

func uptime(sec int64) string {
	if sec <= 0 {
		return "—"
	}
	d := time.Duration(sec) * time.Second
	days := int(d / (24 * time.Hour))
	d -= time.Duration(days) * 24 * time.Hour
	if days > 0 {
		return fmt.Sprintf("%dd %dh", days, int(d/time.Hour))
	}
	return fmt.Sprintf("%dh %dm", int(d/time.Hour), int(d%time.Hour/time.Minute))
}
