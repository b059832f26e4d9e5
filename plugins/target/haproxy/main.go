// Command certctl-plugin-target-haproxy is certctl's HAProxy target: it
// writes the certificate, its chain and its key as the one PEM file a
// bind line's crt names, checks the configuration (haproxy -c), reloads
// HAProxy, puts the previous file back if either fails, and verifies the
// served certificate with a TLS handshake.
//
// haproxy.go describes HAProxy to the shared engine in
// plugins/target/internal/filetarget, which does the writing, the
// rollback and the verification for all file-based targets.
package main

import (
	"github.com/certctl/certctl/plugins/target/internal/filetarget"
	"github.com/certctl/certctl/sdk/plugin"
)

func main() { plugin.Serve(filetarget.New(spec, plugin.Logger())) }
