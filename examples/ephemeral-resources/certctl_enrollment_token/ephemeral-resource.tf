# A fresh token for a host the same configuration sets up, never stored in
# the plan or the state. Here it goes into the host's agent.env over SSH
# (the systemd unit in agent/dist reads it at the agent's first start).
ephemeral "certctl_enrollment_token" "web03" {
  agent_name = "web-03"
  labels     = { role = "web" }
  ttl        = "30m"
}

resource "terraform_data" "web03_agent" {
  input = "web-03"

  provisioner "local-exec" {
    command = <<-EOT
      printf 'CERTCTL_SERVER_URL=%s\nCERTCTL_AGENT_TOKEN=%s\n' "$CERTCTL_URL" "$TOKEN" |
        ssh root@web-03 'umask 077 && cat > /etc/certctl/agent.env && systemctl enable --now certctl-agent'
    EOT
    environment = {
      TOKEN = ephemeral.certctl_enrollment_token.web03.token
    }
  }
}
