// Command certctl-plugin-target-apache is certctl's Apache httpd target:
// it writes a certificate and its key where SSLCertificateFile and
// SSLCertificateKeyFile point (and the chain where SSLCertificateChainFile
// does, if used), checks the configuration (apachectl configtest), makes
// Apache reload gracefully (apachectl -k graceful), puts the previous
// files back if either fails, and verifies the served certificate with a
// TLS handshake.
//
// apache.go describes Apache to the shared engine in
// plugins/target/internal/filetarget, which does the writing, the
// rollback and the verification for all file-based targets.
package main

import (
	"github.com/certctl/certctl/plugins/target/internal/filetarget"
	"github.com/certctl/certctl/sdk/plugin"
)

func main() { plugin.Serve(filetarget.New(spec, plugin.Logger())) }
