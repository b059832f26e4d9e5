// Command certctl-plugin-notifier-slack posts certctl notifications to a
// Slack channel through an incoming webhook, as Block Kit messages.
package main

import "github.com/certctl/certctl/sdk/plugin"

func main() { plugin.Serve(newNotifier(plugin.Logger())) }
