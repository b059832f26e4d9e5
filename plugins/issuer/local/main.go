// Command certctl-plugin-issuer-local is certctl's built-in local CA: a
// private certificate authority whose certificate and key live in the
// issuer's configuration, stored by the host (sensitive fields encrypted)
// and passed in full with every call, so the plugin itself keeps no state.
//
// The files by concern: issuer.go holds the plugin.Issuer methods, the
// schema and the reading of configuration; ca.go creates, loads and checks
// the CA; keys.go the key types; sign.go issues certificates from CSRs;
// crl.go signs revocation lists.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newIssuer()) }
