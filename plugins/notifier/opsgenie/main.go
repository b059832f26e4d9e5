// Command certctl-plugin-notifier-opsgenie creates Opsgenie alerts from
// certctl notifications through the Alert API.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newNotifier(plugin.Logger())) }
