// Command certctl-plugin-target-f5 is certctl's F5 BIG-IP target: it
// deploys a certificate, its chain and key to a BIG-IP through iControl
// REST and points a client-SSL profile at them.
//
// A deployment logs in for a token, uploads the PEM files, installs them
// as certificate and key objects whose names carry the certificate's
// serial (so the new pair lands beside the one in use), then switches
// the profile's certKeyChain (and, when asked, attaches the profile to a
// virtual server) in one iControl REST transaction (calls inside it carry
// X-F5-REST-Coordination-Id), so that the profile moves from the old pair
// to the new one at once or not at all. The token is deleted at the end. ValidateDeployment reads the profile back
// and compares the serial of the certificate it references, and
// optionally that of the certificate served at verify_address.
//
// The iControl REST endpoints used, as F5 documents them:
//
//	POST   /mgmt/shared/authn/login                       token login (loginProviderName "tmos")
//	DELETE /mgmt/shared/authz/tokens/<token>              logout
//	POST   /mgmt/shared/file-transfer/uploads/<file>      upload, 1 MiB chunks with Content-Range
//	POST   /mgmt/tm/sys/crypto/cert                       {"command":"install","name":..,"from-local-file":..}
//	POST   /mgmt/tm/sys/crypto/key                        same, for the key
//	GET    /mgmt/tm/sys/crypto/cert/~<partition>~<name>  installed certificate (serialNumber)
//	GET    /mgmt/tm/sys/crypto/key/~<partition>~<name>   installed key (existence only)
//	DELETE /mgmt/tm/sys/crypto/cert|key/~<p>~<name>       previous versions, after a switch
//	POST   /mgmt/tm/util/unix-rm                          removes the uploaded files
//	GET    /mgmt/tm/auth/partition/<partition>            the partition exists
//	GET    /mgmt/tm/ltm/profile/client-ssl/~<p>~<name>    the profile and its parent
//	POST   /mgmt/tm/ltm/profile/client-ssl                create the profile (in the transaction)
//	PATCH  /mgmt/tm/ltm/profile/client-ssl/~<p>~<name>    switch its certKeyChain (in the transaction)
//	GET    /mgmt/tm/ltm/virtual/~<p>~<name>/profiles      profiles attached to virtual_server
//	POST   /mgmt/tm/ltm/virtual/~<p>~<name>/profiles      attach the profile (in the transaction)
//	POST   /mgmt/tm/transaction                           begin a transaction ({} -> transId)
//	PATCH  /mgmt/tm/transaction/<id>                      commit ({"state":"VALIDATING"}, without the coordination header)
//	GET    /mgmt/tm/transaction/<id>                      a commit still validating
//	DELETE /mgmt/tm/transaction/<id>                      discard a transaction not committed
//
// This plugin was written from F5's documentation of iControl REST and
// tested against a fake of those endpoints (see fake_test.go); it has not
// yet been tried against a real BIG-IP.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newTarget(plugin.Logger())) }
