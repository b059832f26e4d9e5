# One NGINX target per online Linux web agent.
data "certctl_agents" "web" {
  os     = "linux"
  status = "online"
  labels = { role = "web" }
}

resource "certctl_target" "nginx" {
  for_each = { for a in data.certctl_agents.web.agents : a.name => a }

  name     = "${each.key}-nginx"
  type     = "nginx"
  agent_id = each.value.id
  config = jsonencode({
    certificate_path = "/etc/nginx/tls/site.crt"
    key_path         = "/etc/nginx/tls/site.key"
  })
}
