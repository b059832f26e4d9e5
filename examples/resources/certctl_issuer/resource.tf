# A CA of certctl's own that generates its key at creation.
resource "certctl_issuer" "internal" {
  name = "internal-ca"
  type = "local"
  config = jsonencode({
    common_name     = "Example internal CA"
    validity        = "30d"
    allowed_domains = ["example.com", "example.net"]
  })
}

# A CA whose key exists already: the key is a write-only argument, sent to
# the server (which keeps it encrypted) and never stored in the state.
resource "certctl_issuer" "imported" {
  name   = "imported-ca"
  type   = "local"
  config = jsonencode({ ca_certificate_pem = file("ca.pem") })

  sensitive_config_wo         = jsonencode({ ca_private_key_pem = var.ca_private_key_pem })
  sensitive_config_wo_version = 1 # raise it to send a new key
}

variable "ca_private_key_pem" {
  type      = string
  sensitive = true
  ephemeral = true
}
