// Command certctl-plugin-notifier-teams posts certctl notifications to a
// Microsoft Teams channel as Adaptive Cards, through a Workflows (Power
// Automate) webhook or a legacy incoming webhook.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newNotifier(plugin.Logger())) }
