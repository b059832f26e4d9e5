// Command noprovision is an issuer plugin for the server's tests that has
// nothing to provision: it embeds plugin.UnimplementedIssuer and
// implements Info and ValidateConfig only, with a typed configuration.
package main

import (
	"context"

	"github.com/certctl/certctl/sdk/plugin"
)

type config struct {
	Endpoint string `certctl:"endpoint,required" description:"Where the CA is."`
	Token    string `certctl:"token,sensitive" description:"The CA's API token."`
	Retries  int    `certctl:"retries" default:"3" description:"Attempts per request."`
}

type issuer struct{ plugin.UnimplementedIssuer }

func (issuer) Info(context.Context) (plugin.Info, error) {
	schema, err := plugin.SchemaFrom(config{})
	return plugin.Info{Name: "noprovision", Kind: plugin.KindIssuer, Version: "0.0.1", Schema: schema}, err
}

func (issuer) ValidateConfig(_ context.Context, req plugin.ValidateConfigRequest) error {
	var c config
	return plugin.DecodeConfig(req.Config, &c)
}

func main() { plugin.Serve(issuer{}) }
