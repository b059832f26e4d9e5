// Command bareissuer is an issuer plugin for the conformance kit's own
// tests: it embeds plugin.UnimplementedIssuer and implements nothing but
// Info, so it builds and serves, and the kit must still fail it for not
// validating configurations and not issuing.
package main

import (
	"context"

	"github.com/certctl/certctl/sdk/plugin"
)

type issuer struct{ plugin.UnimplementedIssuer }

func (issuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: "bare", Kind: plugin.KindIssuer, Version: "0.0.1"}, nil
}

func main() { plugin.Serve(issuer{}) }
