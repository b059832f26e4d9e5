resource "certctl_notification_rule" "prod_failures" {
  name        = "prod-failures"
  notifier_id = certctl_notifier.ops.id
  events      = ["certificate.renewal_failed", "deployment.failed", "certificate.expiring"]
  expiry_days = [14, 3]

  certificate_labels = { env = "prod" }
}
