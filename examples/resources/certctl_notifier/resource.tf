# A webhook whose URL and signing secret never reach the state.
resource "certctl_notifier" "ops" {
  name   = "ops-webhook"
  type   = "webhook"
  config = jsonencode({ timeout = "5s", max_attempts = 5 })

  sensitive_config_wo = jsonencode({
    url    = var.webhook_url
    secret = var.webhook_secret
  })
  sensitive_config_wo_version = 1 # raise it to rotate the secret
}

# Slack, with its webhook URL kept in the state (marked sensitive).
resource "certctl_notifier" "slack" {
  name             = "team-slack"
  type             = "slack"
  config           = jsonencode({ channel = "#certificates" })
  sensitive_config = jsonencode({ webhook_url = var.slack_webhook_url })
}

variable "webhook_url" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "webhook_secret" {
  type      = string
  sensitive = true
  ephemeral = true
}

variable "slack_webhook_url" {
  type      = string
  sensitive = true
}
