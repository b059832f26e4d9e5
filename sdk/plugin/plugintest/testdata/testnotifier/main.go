// Command testnotifier is a notifier plugin for the conformance kit's own
// tests: it POSTs each notification's ID to the configured URL, "copies"
// times (a correct notifier delivers once; more copies break the contract).
package main

import (
	"context"
	"net/http"
	"strings"

	"github.com/certctl/certctl/sdk/plugin"
)

var schema = plugin.Schema{Fields: []plugin.Field{
	{Name: "url", Type: plugin.TypeString, Required: true, Description: "Where notifications are POSTed."},
	{Name: "copies", Type: plugin.TypeInt, Default: 1, Description: "How many times each is sent (1 is right)."},
}}

type notifier struct{}

func (notifier) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "test", Kind: plugin.KindNotifier, Version: "0.1.0", Schema: schema}, nil
}

func (notifier) ValidateConfig(_ context.Context, req plugin.ValidateConfigRequest) error {
	cfg := req.Config
	cfg, err := schema.Normalize(cfg)
	if err != nil {
		return err
	}
	if !strings.HasPrefix(cfg.String("url"), "http://") {
		return plugin.InvalidConfig("url", "must be an http URL")
	}
	return nil
}

func (n notifier) send(ctx context.Context, cfg plugin.Config, note plugin.Notification) (plugin.SendResult, error) {
	if err := n.ValidateConfig(ctx, plugin.ValidateConfigRequest{Config: cfg}); err != nil {
		return plugin.SendResult{}, err
	}
	cfg, _ = schema.Normalize(cfg)
	for range cfg.Int("copies") {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.String("url"), strings.NewReader(note.ID))
		if err != nil {
			return plugin.SendResult{}, err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return plugin.SendResult{}, plugin.Errorf(plugin.CodeTransient, "post: %v", err)
		}
		resp.Body.Close()
	}
	return plugin.SendResult{MessageID: note.ID}, nil
}

func (n notifier) SendAlert(ctx context.Context, req plugin.SendRequest) (plugin.SendResult, error) {
	cfg, note := req.Config, req.Notification
	return n.send(ctx, cfg, note)
}

func (n notifier) SendEvent(ctx context.Context, req plugin.SendRequest) (plugin.SendResult, error) {
	cfg, note := req.Config, req.Notification
	return n.send(ctx, cfg, note)
}

func main() { plugin.Serve(notifier{}) }
