package main

import (
	"github.com/certctl/certctl/plugins/target/internal/filetarget"
	"github.com/certctl/certctl/sdk/plugin"
)

// Names of nginx's own fields.
const (
	fieldCertificatePath = "certificate_path"
	fieldChainPath       = "chain_path"
	fieldKeyPath         = "key_path"
)

var spec = filetarget.Spec{
	Name: "nginx",
	Description: "Deploys to nginx: writes the certificate (with its chain) and key files atomically, " +
		"checks the configuration, reloads nginx, rolls back on failure, and verifies the served serial with a TLS handshake.",
	PathFields: []plugin.Field{
		{Name: fieldCertificatePath, Type: plugin.TypeString, Required: true,
			Description: "Absolute path of the file ssl_certificate names, e.g. /etc/nginx/ssl/example.com.crt. It receives the certificate followed by its chain (the full chain nginx serves), unless chain_path is set. An existing file keeps its mode and owner; a new one gets 0644."},
		{Name: fieldChainPath, Type: plugin.TypeString,
			Description: "Absolute path of a separate file for the chain alone (e.g. for ssl_trusted_certificate). Empty (the default): the chain is appended to certificate_path. When set, certificate_path holds the certificate alone, and nginx serves no chain unless configured to."},
		{Name: fieldKeyPath, Type: plugin.TypeString, Required: true,
			Description: "Absolute path of the file ssl_certificate_key names, e.g. /etc/nginx/ssl/example.com.key. A new file gets mode 0600; an existing one keeps its mode minus any permission for others."},
	},
	LeafField:       fieldCertificatePath,
	DefaultValidate: []string{"nginx", "-t"},
	DefaultReload:   []string{"nginx", "-s", "reload"},
	ValidateExample: `["nginx", "-t", "-c", "/etc/nginx/nginx.conf"]`,
	ReloadExample:   `["systemctl", "reload", "nginx"]`,
	Layout:          filetarget.SeparateFiles(fieldCertificatePath, fieldChainPath, fieldKeyPath),
}
