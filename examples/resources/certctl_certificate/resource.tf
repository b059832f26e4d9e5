resource "certctl_certificate" "www" {
  name        = "www"
  common_name = "www.example.com"
  sans        = ["www.example.com", "example.com"]
  issuer_id   = certctl_issuer.internal.id
  target_ids  = [certctl_target.web01_nginx.id]
  key_type    = "ecdsa-p256" # changing it replaces the certificate
  labels      = { team = "web", env = "prod" }

  # The CA's certificate profile, e.g. an ACME issuer's "shortlived" or
  # "tlsserver". Left out, the issuer's default (or a profile set with the
  # CLI or API) is kept; "" goes back to the issuer's default.
  # profile = "tlsserver"

  # Apply returns once every target serves the certificate, or fails.
  wait_for     = "deployed"
  wait_timeout = "10m"
}

output "www_serial" {
  value = certctl_certificate.www.serial_number
}
