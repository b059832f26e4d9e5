// Command certctl-plugin-notifier-webhook is certctl's generic webhook
// notifier: it POSTs each notification as signed JSON to a URL.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newNotifier(plugin.Logger())) }
