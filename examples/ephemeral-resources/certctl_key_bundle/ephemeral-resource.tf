# The key of a server-key certificate, handed to another system during the
# run without being stored in the plan or the state (an admin key is needed).
ephemeral "certctl_key_bundle" "lb" {
  certificate_id = certctl_certificate.lb.id
}

resource "certctl_certificate" "lb" {
  name        = "lb"
  common_name = "lb.example.com"
  issuer_id   = certctl_issuer.internal.id
  key_mode    = "server"
  wait_for    = "issued"
}

# For instance into a secret store whose provider takes write-only values:
#   data_json_wo = jsonencode({
#     cert = ephemeral.certctl_key_bundle.lb.fullchain_pem
#     key  = ephemeral.certctl_key_bundle.lb.private_key_pem
#   })
