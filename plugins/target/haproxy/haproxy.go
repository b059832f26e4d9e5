package main

import (
	"github.com/certctl/certctl/plugins/target/internal/filetarget"
	"github.com/certctl/certctl/sdk/plugin"
)

// fieldPEMPath names the combined PEM file.
const fieldPEMPath = "pem_path"

var spec = filetarget.Spec{
	Name: "haproxy",
	Description: "Deploys to HAProxy: writes the combined certificate, chain and key PEM file atomically, " +
		"checks the configuration, reloads HAProxy, rolls back on failure, and verifies the served serial with a TLS handshake.",
	PathFields: []plugin.Field{
		{Name: fieldPEMPath, Type: plugin.TypeString, Required: true,
			Description: "Absolute path of the PEM file a bind line's crt names, e.g. /etc/haproxy/certs/example.com.pem. It receives the certificate, its chain and its private key, in that order. A new file gets mode 0600; an existing one keeps its mode minus any permission for others."},
	},
	LeafField:       fieldPEMPath,
	DefaultValidate: []string{"haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg"},
	DefaultReload:   []string{"systemctl", "reload", "haproxy"},
	ValidateExample: `["haproxy", "-c", "-f", "/etc/haproxy/haproxy.cfg", "-f", "/etc/haproxy/conf.d"]`,
	ReloadExample:   `["sh", "-c", "kill -USR2 $(cat /run/haproxy.pid)"] for a master-worker HAProxy outside systemd`,
	Layout:          filetarget.CombinedFile(fieldPEMPath),
}
