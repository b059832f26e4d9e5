// Command certctl-plugin-notifier-email sends certctl notifications as
// e-mail through an SMTP server.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newNotifier(plugin.Logger())) }
