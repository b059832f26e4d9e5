// Command certctl-plugin-target-nginx is certctl's nginx target: it
// writes a certificate and its key where nginx's ssl_certificate and
// ssl_certificate_key point, checks the configuration (nginx -t), reloads
// nginx (nginx -s reload), puts the previous files back if either fails,
// and verifies the served certificate with a TLS handshake.
//
// nginx.go describes nginx to the shared engine in
// plugins/target/internal/filetarget, which does the writing, the
// rollback and the verification for all file-based targets.
package main

import (
	"github.com/certctl/certctl/plugins/target/internal/filetarget"
	"github.com/certctl/certctl/sdk/plugin"
)

func main() { plugin.Serve(filetarget.New(spec, plugin.Logger())) }
