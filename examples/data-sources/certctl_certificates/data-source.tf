# Production certificates that expire within 30 days.
data "certctl_certificates" "expiring" {
  labels          = { env = "prod" }
  expiring_before = timeadd(plantimestamp(), "720h")
}

output "expiring" {
  value = [for c in data.certctl_certificates.expiring.certificates : "${c.name} ${c.not_after}"]
}
