package main

import (
	"bytes"
	"context"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certctl/certctl/plugins/internal/plugintesting"
	"github.com/certctl/certctl/sdk/plugin"
)

var (
	fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	fullNote = plugin.Notification{
		ID:              "ntf-0001",
		Event:           "certificate.expiring",
		Severity:        plugin.SeverityCritical,
		Title:           "Zertifikat www läuft in 3 Tagen ab",
		Message:         "Renewal failed: <b>rate limited</b> & retrying",
		OccurredAt:      time.Date(2026, 3, 1, 11, 59, 0, 0, time.UTC),
		URL:             "https://certctl.example.com/certificates/c-1?tab=versions&x=1",
		CertificateID:   "c-1",
		CertificateName: "www",
		CommonName:      "www.example.com",
		SANs:            []string{"www.example.com", "example.com"},
		SerialNumber:    "0a1b2c",
		NotAfter:        time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC),
		Details:         map[string]string{"days_left": "3"},
	}
)

func testNotifier() *notifier {
	n := newNotifier(nil)
	n.now = func() time.Time { return fixedNow }
	return n
}

func baseConfig(host string, port int, mode string) plugin.Config {
	return plugin.Config{
		"host": host, "port": port, "tls": mode,
		"from": "certctl <certctl@example.com>", "to": []any{"ops@example.com", "Pat Doe <pat@example.org>"},
		"insecure_skip_verify": true, "timeout": "5s", "retry_backoff": "1ms",
	}
}

// parsed is a received message taken apart.
type parsed struct {
	header     mail.Header
	subject    string
	text, html string
}

func parseMessage(t *testing.T, data []byte) parsed {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v\n%s", err, data)
	}
	var p parsed
	p.header = m.Header
	p.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("subject: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", m.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		if cte := part.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Errorf("Content-Transfer-Encoding %q", cte)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(part))
		if err != nil {
			t.Fatalf("quoted-printable: %v", err)
		}
		switch ct := part.Header.Get("Content-Type"); ct {
		case "text/plain; charset=utf-8":
			p.text = string(body)
		case "text/html; charset=utf-8":
			p.html = string(body)
		default:
			t.Errorf("unexpected part %q", ct)
		}
	}
	return p
}

func TestSendSTARTTLSWithAuth(t *testing.T) {
	t.Parallel()
	be := &backend{user: "certctl", pass: "pa55 wörd"}
	host, port := startSMTP(t, withSTARTTLS, be)
	cfg := baseConfig(host, port, "starttls")
	cfg["username"], cfg["password"] = "certctl", "pa55 wörd"
	res, err := testNotifier().SendAlert(context.Background(), plugin.SendRequest{Config: cfg, Notification: fullNote})
	if err != nil {
		t.Fatalf("SendAlert: %v", err)
	}
	msgs := be.received()
	if len(msgs) != 1 {
		t.Fatalf("%d messages received, want 1", len(msgs))
	}
	got := msgs[0]
	if got.from != "certctl@example.com" || !slices.Equal(got.to, []string{"ops@example.com", "pat@example.org"}) {
		t.Errorf("envelope from %q to %q", got.from, got.to)
	}
	if got.user != "certctl" || !got.tls {
		t.Errorf("authenticated as %q, TLS %v; want certctl over TLS", got.user, got.tls)
	}
	p := parseMessage(t, got.data)
	if h := p.header.Get("From"); h != `"certctl" <certctl@example.com>` {
		t.Errorf("From %q", h)
	}
	if h := p.header.Get("To"); h != `<ops@example.com>, "Pat Doe" <pat@example.org>` {
		t.Errorf("To %q", h)
	}
	if p.subject != "[certctl] Zertifikat www läuft in 3 Tagen ab" {
		t.Errorf("Subject %q", p.subject)
	}
	if h := p.header.Get("Message-ID"); h != "<certctl.ntf-0001@example.com>" || res.MessageID != h {
		t.Errorf("Message-ID %q, MessageID %q", h, res.MessageID)
	}
	if d, err := p.header.Date(); err != nil || !d.Equal(fixedNow) {
		t.Errorf("Date %v (%v)", d, err)
	}
	for k, v := range map[string]string{"MIME-Version": "1.0", "Auto-Submitted": "auto-generated",
		"X-Certctl-Event": "certificate.expiring", "X-Certctl-Severity": "critical"} {
		if h := p.header.Get(k); h != v {
			t.Errorf("%s %q, want %q", k, h, v)
		}
	}
	for _, want := range []string{
		"Zertifikat www läuft in 3 Tagen ab\n",
		"Renewal failed: <b>rate limited</b> & retrying\n",
		"Certificate: www\n", "Common name: www.example.com\n", "SANs: www.example.com, example.com\n",
		"Serial number: 0a1b2c\n", "Expires: 2026-03-04 00:00 UTC\n", "Severity: critical\n",
		"Event: certificate.expiring\n", "Days left: 3\n",
		"Open in certctl: https://certctl.example.com/certificates/c-1?tab=versions&x=1\n",
		"Sent by certctl (notification ntf-0001)",
	} {
		if !strings.Contains(strings.ReplaceAll(p.text, "\r\n", "\n"), want) {
			t.Errorf("text part lacks %q:\n%s", want, p.text)
		}
	}
	for _, want := range []string{
		"<h2 style=\"color:#b3261e;margin:0 0 12px\">Zertifikat www läuft in 3 Tagen ab</h2>",
		"Renewal failed: &lt;b&gt;rate limited&lt;/b&gt; &amp; retrying",
		"<th align=\"left\" style=\"color:#555\">Common name</th><td>www.example.com</td>",
		`<a href="https://certctl.example.com/certificates/c-1?tab=versions&amp;x=1">Open in certctl</a>`,
	} {
		if !strings.Contains(p.html, want) {
			t.Errorf("HTML part lacks %q:\n%s", want, p.html)
		}
	}
	if strings.Contains(p.html, "<b>") {
		t.Error("HTML part carries the message's markup unescaped")
	}
}

func TestSendImplicitTLS(t *testing.T) {
	t.Parallel()
	be := &backend{user: "u", pass: "p"}
	host, port := startSMTP(t, implicitTLS, be)
	cfg := baseConfig(host, port, "tls")
	cfg["username"], cfg["password"] = "u", "p"
	cfg["server_name"] = "localhost"
	if _, err := testNotifier().SendEvent(context.Background(), plugin.SendRequest{Config: cfg, Notification: plugin.Notification{ID: "n2", Event: "certificate.renewed", Title: "www renewed"}}); err != nil {
		t.Fatalf("SendEvent: %v", err)
	}
	msgs := be.received()
	if len(msgs) != 1 || !msgs[0].tls || msgs[0].user != "u" {
		t.Fatalf("received %+v", msgs)
	}
	p := parseMessage(t, msgs[0].data)
	if p.subject != "[certctl] www renewed" || !strings.Contains(p.text, "Severity: info") || p.html == "" {
		t.Errorf("subject %q, text %q", p.subject, p.text)
	}
}

func TestSendPlainRelay(t *testing.T) {
	t.Parallel()
	be := &backend{}
	host, port := startSMTP(t, plainOnly, be)
	if _, err := testNotifier().SendAlert(context.Background(), plugin.SendRequest{Config: baseConfig(host, port, "none"), Notification: fullNote}); err != nil {
		t.Fatalf("SendAlert: %v", err)
	}
	if msgs := be.received(); len(msgs) != 1 || msgs[0].tls {
		t.Fatalf("received %+v", msgs)
	}
}

func TestSendFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mode      serverMode
		be        *backend
		silent    bool
		cfg       plugin.Config // on top of baseConfig
		wantCode  string
		wantMsg   string
		wantTries int // messages that reached DATA
		wantAuths int
	}{
		{
			name: "server refuses the credentials (535)", mode: withSTARTTLS, be: &backend{user: "u", pass: "right"},
			cfg:      plugin.Config{"tls": "starttls", "username": "u", "password": "wrong"},
			wantCode: plugin.CodePermanent, wantMsg: "535", wantAuths: 1,
		},
		{
			name: "server answers 451 at DATA", mode: withSTARTTLS, be: &backend{dataErr: errTryLater},
			cfg:      plugin.Config{"tls": "starttls", "max_attempts": 2},
			wantCode: plugin.CodeTransient, wantMsg: "451", wantTries: 2,
		},
		{
			name: "server refuses a recipient (550)", mode: withSTARTTLS, be: &backend{rcptErr: errNoSuchUser},
			cfg:      plugin.Config{"tls": "starttls"},
			wantCode: plugin.CodePermanent, wantMsg: "550",
		},
		{
			name: "STARTTLS required but not offered", mode: plainOnly, be: &backend{},
			cfg:      plugin.Config{"tls": "starttls"},
			wantCode: plugin.CodePermanent, wantMsg: "does not offer STARTTLS",
		},
		{
			name: "untrusted certificate", mode: withSTARTTLS, be: &backend{},
			cfg:      plugin.Config{"tls": "starttls", "insecure_skip_verify": false, "server_name": "localhost"},
			wantCode: plugin.CodePermanent, wantMsg: "not trusted",
		},
		{
			name: "implicit TLS against a plain server", mode: plainOnly, be: &backend{},
			cfg:      plugin.Config{"tls": "tls"},
			wantCode: plugin.CodePermanent, wantMsg: "does not speak TLS",
		},
		{
			name: "no greeting within the timeout", silent: true,
			cfg:      plugin.Config{"tls": "starttls", "timeout": "200ms", "max_attempts": 2},
			wantCode: plugin.CodeTransient, wantMsg: "no answer within 200ms",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var host string
			var port int
			if tt.silent {
				host, port = startSilent(t)
			} else {
				host, port = startSMTP(t, tt.mode, tt.be)
			}
			cfg := baseConfig(host, port, "starttls")
			for k, v := range tt.cfg {
				cfg[k] = v
			}
			start := time.Now()
			_, err := testNotifier().SendAlert(context.Background(), plugin.SendRequest{Config: cfg, Notification: fullNote})
			if got := plugin.ErrorCode(err); got != tt.wantCode {
				t.Fatalf("error %v: code %q, want %q", err, got, tt.wantCode)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("error %q does not say %q", err, tt.wantMsg)
			}
			if p, _ := cfg["password"].(string); p != "" && strings.Contains(err.Error(), p) {
				t.Errorf("error reveals the password: %v", err)
			}
			if time.Since(start) > 5*time.Second {
				t.Errorf("took %s", time.Since(start))
			}
			if tt.be != nil {
				if got := len(tt.be.received()); got != tt.wantTries {
					t.Errorf("%d messages reached DATA, want %d", got, tt.wantTries)
				}
				tt.be.mu.Lock()
				auths := tt.be.auths
				tt.be.mu.Unlock()
				if auths != tt.wantAuths {
					t.Errorf("%d AUTH attempts, want %d", auths, tt.wantAuths)
				}
			}
		})
	}
}

func TestSendEndsWithContext(t *testing.T) {
	t.Parallel()
	host, port := startSilent(t)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	cfg := baseConfig(host, port, "starttls")
	cfg["timeout"] = "30s"
	start := time.Now()
	_, err := testNotifier().SendAlert(ctx, plugin.SendRequest{Config: cfg, Notification: fullNote})
	if plugin.ErrorCode(err) != plugin.CodeCanceled {
		t.Fatalf("error %v, want canceled", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("returned after %s", time.Since(start))
	}
}

func TestBuildMessageResistsInjection(t *testing.T) {
	t.Parallel()
	cfg, err := readConfig(plugin.Config{"host": "smtp.example.com", "from": "certctl@example.com", "to": []any{"ops@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	n := plugin.Notification{
		ID: "a b/c", Event: "certificate.expiring\r\nBcc: evil@example.net", Title: "hi\r\nBcc: evil@example.net",
		Message: "<script>alert(1)</script>", URL: "javascript:alert(1)",
	}
	msg, id, err := buildMessage(cfg, n, "alert", fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Bcc") != "" {
		t.Error("a line break in the title added a header")
	}
	if !strings.HasPrefix(id, "<certctl.") || strings.ContainsAny(id, " /") || m.Header.Get("Message-ID") != id {
		t.Errorf("Message-ID %q", id)
	}
	p := parseMessage(t, msg)
	if strings.Contains(p.html, "<script>") || strings.Contains(p.html, "javascript:") {
		t.Errorf("HTML part is not escaped:\n%s", p.html)
	}
}

func TestMessageID(t *testing.T) {
	t.Parallel()
	tests := []struct{ id, from, want string }{
		{"ntf-1", "a@example.com", "<certctl.ntf-1@example.com>"},
		{"ntf-1", "a@example.com", "<certctl.ntf-1@example.com>"}, // stable
		{"x y", "a@example.com", ""},                              // hashed, checked below
		{"ntf-1", "bad", "<certctl.ntf-1@certctl.invalid>"},
	}
	for _, tt := range tests {
		got := messageID(tt.id, tt.from)
		if tt.id == "x y" {
			// A hashed ID: the same input gives the same value.
			if got != messageID(tt.id, tt.from) || !strings.HasSuffix(got, "@example.com>") || len(got) != len("<certctl.@example.com>")+32 {
				t.Errorf("messageID(%q) = %q", tt.id, got)
			}
			continue
		}
		if got != tt.want {
			t.Errorf("messageID(%q, %q) = %q, want %q", tt.id, tt.from, got, tt.want)
		}
	}
	if a, b := messageID("", "a@example.com"), messageID("", "a@example.com"); a == b {
		t.Error("IDs for notifications without ID must differ")
	}
}

func TestValidateConfig(t *testing.T) {
	t.Parallel()
	base := func(extra plugin.Config) plugin.Config {
		c := plugin.Config{"host": "smtp.example.com", "from": "certctl@example.com", "to": []any{"ops@example.com"}}
		for k, v := range extra {
			if v == nil {
				delete(c, k)
			} else {
				c[k] = v
			}
		}
		return c
	}
	tests := []struct {
		name      string
		cfg       plugin.Config
		wantField string
	}{
		{"minimal", base(nil), ""},
		{"full", base(plugin.Config{"port": 465, "tls": "tls", "username": "u", "password": "p", "server_name": "mail.example.com",
			"insecure_skip_verify": false, "timeout": "20s", "max_attempts": 2, "retry_backoff": "3s"}), ""},
		{"IP host", base(plugin.Config{"host": "192.0.2.10", "server_name": "smtp.example.com"}), ""},
		{"relay without TLS", base(plugin.Config{"tls": "none", "port": 25}), ""},
		{"missing host", base(plugin.Config{"host": nil}), "host"},
		{"host with scheme", base(plugin.Config{"host": "smtp://smtp.example.com"}), "host"},
		{"host with port", base(plugin.Config{"host": "smtp.example.com:587"}), "host"},
		{"port zero", base(plugin.Config{"port": 0}), "port"},
		{"port too high", base(plugin.Config{"port": 70000}), "port"},
		{"unknown tls mode", base(plugin.Config{"tls": "ssl"}), "tls"},
		{"credentials without TLS", base(plugin.Config{"tls": "none", "username": "u", "password": "p"}), "tls"},
		{"username without password", base(plugin.Config{"username": "u"}), "password"},
		{"password without username", base(plugin.Config{"password": "p"}), "password"},
		{"missing from", base(plugin.Config{"from": nil}), "from"},
		{"bad from", base(plugin.Config{"from": "certctl"}), "from"},
		{"missing to", base(plugin.Config{"to": nil}), "to"},
		{"empty to", base(plugin.Config{"to": []any{}}), "to"},
		{"bad recipient", base(plugin.Config{"to": []any{"ops@example.com", "not an address"}}), "to"},
		{"recipient with line break", base(plugin.Config{"to": []any{"ops@example.com\r\nRCPT TO:<x@y>"}}), "to"},
		{"bad server_name", base(plugin.Config{"server_name": "a b"}), "server_name"},
		{"bad timeout", base(plugin.Config{"timeout": "0s"}), "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := testNotifier().ValidateConfig(context.Background(), plugin.ValidateConfigRequest{Config: tt.cfg})
			plugintesting.WantInvalidField(t, err, tt.wantField)
		})
	}
}

func TestPluginProcess(t *testing.T) {
	t.Parallel()
	n := plugintesting.OpenNotifier(t, ".", "email")
	plugintesting.WantSensitive(t, n, "password")
	info, err := n.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if f, ok := info.Schema.Field("password"); !ok || !f.Sensitive {
		t.Errorf("password must be sensitive: %+v", f)
	}
	be := &backend{user: "certctl", pass: "secret"}
	host, port := startSMTP(t, withSTARTTLS, be)
	cfg := baseConfig(host, port, "starttls")
	cfg["username"], cfg["password"] = "certctl", "secret"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := n.SendAlert(ctx, plugin.SendRequest{Config: cfg, Notification: fullNote})
	if err != nil {
		t.Fatalf("SendAlert: %v", err)
	}
	if res.MessageID != "<certctl.ntf-0001@example.com>" {
		t.Errorf("MessageID %q", res.MessageID)
	}
	msgs := be.received()
	if len(msgs) != 1 || msgs[0].user != "certctl" || !msgs[0].tls {
		t.Fatalf("received %+v", msgs)
	}
	if p := parseMessage(t, msgs[0].data); p.subject != "[certctl] "+fullNote.Title || p.text == "" || p.html == "" {
		t.Errorf("subject %q", p.subject)
	}
	cfg["password"] = "wrong"
	if _, err := n.SendAlert(ctx, plugin.SendRequest{Config: cfg, Notification: fullNote}); plugin.ErrorCode(err) != plugin.CodePermanent {
		t.Errorf("wrong password through the process: %v, want permanent", err)
	}
}
