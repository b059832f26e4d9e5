package main

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode"

	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

// subjectPrefix starts every subject, so that people can filter.
const subjectPrefix = "[certctl] "

// buildMessage renders n as an RFC 5322 message: UTF-8,
// multipart/alternative with a text/plain and a text/html part, both
// quoted-printable, and a Message-ID made from the notification ID so that
// a retried delivery is recognisably the same message.
func buildMessage(cfg config, n plugin.Notification, kind notifymsg.Kind, now time.Time) (msg []byte, id string, err error) {
	id = messageID(n.ID, cfg.from.Address)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	var to []string
	for _, a := range cfg.to {
		to = append(to, a.String())
	}
	headers := [][2]string{
		{"From", cfg.from.String()},
		{"To", strings.Join(to, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", headerText(subjectPrefix+notifymsg.Title(n)))},
		{"Date", now.Format(time.RFC1123Z)},
		{"Message-ID", id},
		{"MIME-Version", "1.0"},
		{"Content-Type", `multipart/alternative; boundary="` + mw.Boundary() + `"`},
		{"Auto-Submitted", "auto-generated"}, // RFC 3834: no auto-replies, please
		{"X-Certctl-Event", mime.QEncoding.Encode("utf-8", headerText(n.Event))},
		{"X-Certctl-Severity", headerText(notifymsg.Severity(n, kind))},
	}
	var head bytes.Buffer
	for _, h := range headers {
		head.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	head.WriteString("\r\n")

	view := newView(n, kind)
	var text, html bytes.Buffer
	if err := textTemplate.Execute(&text, view); err != nil {
		return nil, "", err
	}
	if err := htmlTemplate.Execute(&html, view); err != nil {
		return nil, "", err
	}
	for _, part := range []struct {
		contentType string
		body        []byte
	}{{"text/plain; charset=utf-8", text.Bytes()}, {"text/html; charset=utf-8", html.Bytes()}} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.contentType},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, "", err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write(part.body); err != nil {
			return nil, "", err
		}
		if err := qp.Close(); err != nil {
			return nil, "", err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, "", err
	}
	return append(head.Bytes(), buf.Bytes()...), id, nil
}

// headerText flattens line breaks and other control characters, so that
// no value can end a header and start another.
func headerText(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}

var idAtom = regexp.MustCompile(`^[A-Za-z0-9_=+-]{1,64}$`)

// messageID derives a Message-ID from the notification ID: the same on
// every retry, so that mail systems and people can drop duplicates.
func messageID(id, from string) string {
	local := id
	if !idAtom.MatchString(id) {
		b := make([]byte, 16)
		if id == "" {
			rand.Read(b)
		} else {
			sum := sha256.Sum256([]byte(id))
			copy(b, sum[:])
		}
		local = hex.EncodeToString(b)
	}
	domain := "certctl.invalid"
	if _, d, ok := strings.Cut(from, "@"); ok && d != "" && !strings.ContainsAny(d, "<>[] ") {
		domain = d
	}
	return "<certctl." + local + "@" + domain + ">"
}

// view is what the templates show.
type view struct {
	Title, Message, URL, ID, Severity string
	Facts                             []notifymsg.Fact
	Color                             string
}

var severityColor = map[string]string{
	plugin.SeverityCritical: "#b3261e",
	plugin.SeverityWarning:  "#a15c00",
	plugin.SeverityInfo:     "#1f5fae",
}

func newView(n plugin.Notification, kind notifymsg.Kind) view {
	sev := notifymsg.Severity(n, kind)
	c := severityColor[sev]
	if c == "" {
		c = "#333333"
	}
	return view{Title: notifymsg.Title(n), Message: n.Message, URL: n.URL, ID: n.ID, Severity: sev,
		Facts: notifymsg.Facts(n, kind), Color: c}
}

var textTemplate = texttemplate.Must(texttemplate.New("text").Parse(`{{.Title}}
{{if .Message}}
{{.Message}}
{{end}}
{{range .Facts}}{{.Label}}: {{.Value}}
{{end}}{{if .URL}}
Open in certctl: {{.URL}}
{{end}}
-- 
Sent by certctl{{if .ID}} (notification {{.ID}}){{end}}
`))

// htmlTemplate is html/template: every value is escaped for its context,
// and a link that is not http(s) is neutralised.
var htmlTemplate = template.Must(template.New("html").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{.Title}}</title></head>
<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;color:#222">
<h2 style="color:{{.Color}};margin:0 0 12px">{{.Title}}</h2>
{{if .Message}}<p style="white-space:pre-wrap">{{.Message}}</p>
{{end}}{{if .Facts}}<table cellpadding="4" style="border-collapse:collapse">
{{range .Facts}}<tr><th align="left" style="color:#555">{{.Label}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
{{end}}{{if .URL}}<p><a href="{{.URL}}">Open in certctl</a></p>
{{end}}<p style="color:#888;font-size:small">Sent by certctl{{if .ID}} (notification {{.ID}}){{end}}</p>
</body></html>
`))

// addressList returns the bare addresses of a list, for RCPT TO.
func addressList(l []*mail.Address) []string {
	out := make([]string, len(l))
	for i, a := range l {
		out[i] = a.Address
	}
	return out
}
