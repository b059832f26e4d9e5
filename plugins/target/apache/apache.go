package main

import (
	"github.com/certctl/certctl/plugins/target/internal/filetarget"
	"github.com/certctl/certctl/sdk/plugin"
)

// Names of Apache's own fields.
const (
	fieldCertificatePath = "certificate_path"
	fieldChainPath       = "chain_path"
	fieldKeyPath         = "key_path"
)

var spec = filetarget.Spec{
	Name: "apache",
	Description: "Deploys to Apache httpd (mod_ssl): writes the certificate, chain and key files atomically, " +
		"checks the configuration, reloads Apache gracefully, rolls back on failure, and verifies the served serial with a TLS handshake.",
	PathFields: []plugin.Field{
		{Name: fieldCertificatePath, Type: plugin.TypeString, Required: true,
			Description: "Absolute path of the file SSLCertificateFile names, e.g. /etc/apache2/ssl/example.com.crt. It receives the certificate followed by its chain (Apache 2.4.8 and later serve the chain from this file), unless chain_path is set. An existing file keeps its mode and owner; a new one gets 0644."},
		{Name: fieldChainPath, Type: plugin.TypeString,
			Description: "Absolute path of the file SSLCertificateChainFile names, for configurations that keep the chain apart (required before Apache 2.4.8). Empty (the default): the chain is appended to certificate_path."},
		{Name: fieldKeyPath, Type: plugin.TypeString, Required: true,
			Description: "Absolute path of the file SSLCertificateKeyFile names, e.g. /etc/apache2/ssl/example.com.key. A new file gets mode 0600; an existing one keeps its mode minus any permission for others."},
	},
	LeafField:       fieldCertificatePath,
	DefaultValidate: []string{"apachectl", "configtest"},
	DefaultReload:   []string{"apachectl", "-k", "graceful"},
	ValidateExample: `["apache2ctl", "-f", "/etc/apache2/apache2.conf", "-t"]`,
	ReloadExample:   `["systemctl", "reload", "apache2"]`,
	Layout:          filetarget.SeparateFiles(fieldCertificatePath, fieldChainPath, fieldKeyPath),
}
