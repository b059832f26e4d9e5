// Command certctl-plugin-issuer-vault is certctl's Vault issuer: it has
// CSRs signed by HashiCorp Vault's PKI secrets engine (<mount>/sign/<role>),
// revokes through <mount>/revoke, and authenticates with a token or with
// AppRole, all through Vault's official Go API client.
//
// The files by concern: issuer.go holds the plugin.Issuer methods, the
// schema and the reading of configuration; client.go builds the Vault
// client and logs in (AppRole tokens are cached and renewed); errors.go
// turns Vault's answers into error codes; pki.go calls the PKI engine.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newIssuer()) }
