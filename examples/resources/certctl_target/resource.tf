data "certctl_agent" "web01" {
  name = "web-01"
}

resource "certctl_target" "web01_nginx" {
  name     = "web-01-nginx"
  type     = "nginx"
  agent_id = data.certctl_agent.web01.id
  config = jsonencode({
    certificate_path = "/etc/nginx/tls/www.crt"
    chain_path       = "/etc/nginx/tls/www.chain.crt"
    key_path         = "/etc/nginx/tls/www.key"
    verify_address   = "127.0.0.1:443"
  })
}
