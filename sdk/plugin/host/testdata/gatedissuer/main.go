// Command gatedissuer is an issuer plugin for the host's upgrade tests.
// Its name is what its file name says (certctl-plugin-issuer-<name>), so
// one build serves as any plugin. IssueCertificate answers with the
// process's pid as the order id, so that a test sees which process
// served a call; with "gate" set to a directory it first leaves a file
// there and waits until a file named "open" appears, so that a test
// holds calls in flight for as long as it needs.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/certctl/certctl/sdk/plugin"
)

type issuer struct {
	plugin.UnimplementedIssuer
	name string
}

func (i issuer) Info(context.Context) (plugin.Info, error) {
	return plugin.Info{Name: i.name, Kind: plugin.KindIssuer, Version: "1.0.0", Schema: plugin.Schema{Fields: []plugin.Field{
		{Name: "gate", Type: plugin.TypeString},
	}}}, nil
}

func (issuer) ValidateConfig(context.Context, plugin.ValidateConfigRequest) error { return nil }

func (issuer) IssueCertificate(ctx context.Context, req plugin.IssueRequest) (plugin.IssueResult, error) {
	if gate := req.Config.String("gate"); gate != "" {
		f, err := os.CreateTemp(gate, fmt.Sprintf("arrived-%d-", os.Getpid()))
		if err != nil {
			return plugin.IssueResult{}, err
		}
		f.Close()
		// Polling a file is crude, but the plugin gets nothing from the
		// test but its configuration.
		for {
			if _, err := os.Stat(filepath.Join(gate, "open")); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return plugin.IssueResult{}, ctx.Err()
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	return plugin.IssueResult{Status: plugin.StatusIssued, OrderID: strconv.Itoa(os.Getpid())}, nil
}

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "certctl-plugin-issuer-")
	plugin.Serve(issuer{name: name})
}
