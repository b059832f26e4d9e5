data "certctl_plugins" "notifiers" {
  kind = "notifier"
}

output "notifier_types" {
  value = [for p in data.certctl_plugins.notifiers.plugins : p.name]
}
