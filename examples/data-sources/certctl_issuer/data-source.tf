# The CA the server creates at its first start; trust its certificate.
data "certctl_issuer" "local" {
  name = "local"
}

output "ca_certificate_pem" {
  value = data.certctl_issuer.local.ca_certificate_pem
}
