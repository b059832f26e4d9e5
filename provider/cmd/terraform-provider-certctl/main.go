// Command terraform-provider-certctl is the Terraform provider for certctl:
// it manages issuers, targets, notifiers, certificates, renewal policies,
// notification rules, enrollment tokens and API keys of a certctl server
// through its REST API (sdk/client). Terraform starts it; it is not run by
// hand, except with -debug to attach a debugger.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/certctl/certctl/provider/internal/provider"
)

// version is set at build time by make build's -X flag.
var version = "dev"

// Address is where Terraform configurations find the provider: its
// required_providers source "certctl/certctl" on the default registry host.
const Address = "registry.terraform.io/certctl/certctl"

func main() {
	debug := flag.Bool("debug", false, "run the provider in debug mode, for a debugger such as delve")
	flag.Parse()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: Address,
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err)
	}
}
