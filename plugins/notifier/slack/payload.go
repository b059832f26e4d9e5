package main

import (
	"strings"

	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

// Limits of Slack's Block Kit.
const (
	maxHeader        = 150
	maxSectionText   = 3000
	maxFieldText     = 2000
	maxFieldsPerItem = 10
	maxFallback      = 3000
	maxButtonURL     = 3000
)

// message is an incoming-webhook message: fallback text (notifications,
// screen readers), blocks, and the legacy overrides.
type message struct {
	Text      string  `json:"text"`
	Blocks    []block `json:"blocks"`
	Channel   string  `json:"channel,omitempty"`
	Username  string  `json:"username,omitempty"`
	IconEmoji string  `json:"icon_emoji,omitempty"`
}

type block struct {
	Type     string    `json:"type"`
	Text     *text     `json:"text,omitempty"`
	Fields   []text    `json:"fields,omitempty"`
	Elements []element `json:"elements,omitempty"`
}

type text struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

type element struct {
	Type     string `json:"type"` // button in actions, mrkdwn in context
	Text     any    `json:"text"` // a text object for a button, a string for mrkdwn
	URL      string `json:"url,omitempty"`
	ActionID string `json:"action_id,omitempty"`
}

var severityEmoji = map[string]string{
	plugin.SeverityCritical: ":rotating_light:",
	plugin.SeverityWarning:  ":warning:",
	plugin.SeverityInfo:     ":information_source:",
}

func newMessage(cfg config, n plugin.Notification, kind notifymsg.Kind) message {
	severity := notifymsg.Severity(n, kind)
	title := notifymsg.Title(n)
	m := message{Channel: cfg.channel, Username: cfg.username, IconEmoji: cfg.iconEmoji}

	fallback := "[" + strings.ToUpper(severity) + "] " + title
	if n.Message != "" {
		fallback += ": " + n.Message
	}
	m.Text = notifymsg.Truncate(escape(fallback), maxFallback)

	header := title
	if e := severityEmoji[severity]; e != "" {
		header = e + " " + title
	}
	m.Blocks = append(m.Blocks, block{Type: "header", Text: &text{Type: "plain_text", Text: notifymsg.Truncate(header, maxHeader), Emoji: true}})
	if n.Message != "" {
		m.Blocks = append(m.Blocks, block{Type: "section", Text: &text{Type: "mrkdwn", Text: notifymsg.Truncate(escape(n.Message), maxSectionText)}})
	}
	facts := notifymsg.Facts(n, kind)
	for len(facts) > 0 {
		chunk := facts[:min(len(facts), maxFieldsPerItem)]
		facts = facts[len(chunk):]
		b := block{Type: "section"}
		for _, f := range chunk {
			b.Fields = append(b.Fields, text{Type: "mrkdwn", Text: notifymsg.Truncate("*"+escape(f.Label)+"*\n"+escape(f.Value), maxFieldText)})
		}
		m.Blocks = append(m.Blocks, b)
	}
	if n.URL != "" && len(n.URL) <= maxButtonURL {
		m.Blocks = append(m.Blocks, block{Type: "actions", Elements: []element{{
			Type: "button", Text: text{Type: "plain_text", Text: "Open in certctl"}, URL: n.URL, ActionID: "certctl_open",
		}}})
	}
	ctx := "certctl"
	if n.ID != "" {
		ctx += " · notification " + escape(n.ID)
	}
	m.Blocks = append(m.Blocks, block{Type: "context", Elements: []element{{Type: "mrkdwn", Text: ctx}}})
	return m
}

// escape makes s literal in Slack mrkdwn and text: &, < and > are the
// characters Slack asks senders to escape.
var escape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
