# The token is kept in the state (sensitive). The ephemeral resource of
# the same name keeps it out of the state.
resource "certctl_enrollment_token" "web02" {
  agent_name = "web-02"
  labels     = { role = "web" }
  ttl        = "2h"
}

output "web02_token" {
  value     = certctl_enrollment_token.web02.token
  sensitive = true
}
