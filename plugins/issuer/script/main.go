// Command certctl-plugin-issuer-script is certctl's script issuer: it has
// certificates signed by a command of the user's choosing (an OpenSSL CA,
// an in-house tool), which gets the CSR on stdin and the request in
// environment variables and prints the certificate and its chain as PEM.
//
// The files by concern: issuer.go holds the plugin.Issuer methods, the
// schema and the reading of configuration; request.go turns requests into
// the command's environment; run.go runs a command with a timeout and
// bounded output and classifies how it ended; output.go reads what the
// command printed.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newIssuer()) }
