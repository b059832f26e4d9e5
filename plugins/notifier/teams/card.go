package main

import (
	"github.com/certctl/certctl/plugins/internal/notifymsg"
	"github.com/certctl/certctl/sdk/plugin"
)

// message is what a Teams webhook accepts: a message with one Adaptive
// Card attachment.
type message struct {
	Type        string       `json:"type"` // "message"
	Attachments []attachment `json:"attachments"`
}

type attachment struct {
	ContentType string `json:"contentType"` // application/vnd.microsoft.card.adaptive
	ContentURL  any    `json:"contentUrl"`  // null, as Microsoft's examples send it
	Content     card   `json:"content"`
}

// card is an Adaptive Card 1.4 (the newest version Teams renders
// everywhere, including mobile).
type card struct {
	Schema  string    `json:"$schema"`
	Type    string    `json:"type"` // "AdaptiveCard"
	Version string    `json:"version"`
	Body    []element `json:"body"`
	Actions []action  `json:"actions,omitempty"`
	MSTeams *msteams  `json:"msteams,omitempty"`
}

// element is a TextBlock or a FactSet.
type element struct {
	Type   string `json:"type"`
	Text   string `json:"text,omitempty"`
	Size   string `json:"size,omitempty"`
	Weight string `json:"weight,omitempty"`
	Color  string `json:"color,omitempty"`
	Wrap   bool   `json:"wrap,omitempty"`
	Facts  []fact `json:"facts,omitempty"`
}

type fact struct {
	Title string `json:"title"`
	Value string `json:"value"`
}

type action struct {
	Type  string `json:"type"` // "Action.OpenUrl"
	Title string `json:"title"`
	URL   string `json:"url"`
}

// msteams widens the card to the channel's width.
type msteams struct {
	Width string `json:"width"`
}

const (
	adaptiveCardType = "application/vnd.microsoft.card.adaptive"
	cardSchema       = "http://adaptivecards.io/schemas/adaptive-card.json"
)

// titleColor is the TextBlock colour of each severity.
var titleColor = map[string]string{
	plugin.SeverityCritical: "Attention",
	plugin.SeverityWarning:  "Warning",
	plugin.SeverityInfo:     "Accent",
}

func newMessage(n plugin.Notification, kind notifymsg.Kind) message {
	severity := notifymsg.Severity(n, kind)
	c := card{Schema: cardSchema, Type: "AdaptiveCard", Version: "1.4", MSTeams: &msteams{Width: "Full"}}
	c.Body = append(c.Body, element{Type: "TextBlock", Text: notifymsg.Title(n), Size: "Large", Weight: "Bolder",
		Color: titleColor[severity], Wrap: true})
	if n.Message != "" {
		c.Body = append(c.Body, element{Type: "TextBlock", Text: n.Message, Wrap: true})
	}
	var facts []fact
	for _, f := range notifymsg.Facts(n, kind) {
		facts = append(facts, fact{Title: f.Label, Value: f.Value})
	}
	if len(facts) > 0 {
		c.Body = append(c.Body, element{Type: "FactSet", Facts: facts})
	}
	if n.URL != "" {
		c.Actions = []action{{Type: "Action.OpenUrl", Title: "Open in certctl", URL: n.URL}}
	}
	return message{Type: "message", Attachments: []attachment{{ContentType: adaptiveCardType, Content: c}}}
}
