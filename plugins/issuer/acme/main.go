// Command certctl-plugin-issuer-acme is certctl's ACME issuer: certificates
// from Let's Encrypt and any other RFC 8555 CA, through
// golang.org/x/crypto/acme.
//
// It keeps no state of its own: the account (key and URL) is in the
// issuer's configuration, stored by the host (the key encrypted), and an
// order's state is in its OrderID, which the host stores with the job. So
// a plugin process that dies mid-order is replaced by one that resumes it.
//
// The files by concern: issuer.go holds the plugin.Issuer methods, account
// registration and revocation; config.go the schema and the reading of
// configuration; order.go the order's steps (challenges, DNS-01 records,
// finalization, chains, renewal information); client.go the HTTP side
// (directory, retries, signed requests x/crypto/acme cannot make);
// errors.go the classification of the CA's problem documents.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newIssuer()) }
