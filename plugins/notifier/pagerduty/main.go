// Command certctl-plugin-notifier-pagerduty sends certctl notifications to
// PagerDuty through the Events API v2.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newNotifier(plugin.Logger())) }
