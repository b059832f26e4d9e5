# A complete certctl configuration: a CA, an agent enrolled with a token
# that never reaches the state, the NGINX it serves as a target, and a
# certificate issued on the agent's host and deployed there.
#
# The agent is started on the machine running Terraform, by
# start-agent.sh; on real hosts the token goes into their provisioning
# (cloud-init user data, an image build) instead. The provider reads the
# server's address and an admin API key from CERTCTL_URL and
# CERTCTL_API_KEY.

terraform {
  required_version = ">= 1.11"
  required_providers {
    certctl = {
      source = "certctl/certctl"
    }
  }
}

provider "certctl" {}

variable "server_url" {
  description = "The certctl server's URL, as the agent reaches it."
  type        = string
}

variable "agent_name" {
  description = "Name of the web server's agent."
  type        = string
  default     = "web-01"
}

variable "agent_binary" {
  description = "Path of certctl-agent (its target plugins are in plugins/ beside it)."
  type        = string
}

variable "agent_state_dir" {
  description = "Directory where the agent keeps its credential, its keys and its pid file."
  type        = string
}

variable "nginx_conf" {
  description = "The NGINX configuration file the target validates and reloads."
  type        = string
}

variable "certificate_path" {
  description = "Where NGINX reads its certificate (ssl_certificate)."
  type        = string
}

variable "key_path" {
  description = "Where NGINX reads its key (ssl_certificate_key)."
  type        = string
}

variable "verify_address" {
  description = "host:port where NGINX serves the certificate, checked after each deployment."
  type        = string
}

variable "common_name" {
  description = "The name the certificate is for."
  type        = string
  default     = "www.example.com"
}

# A CA of certctl's own, issuing 30-day certificates.
resource "certctl_issuer" "ca" {
  name = "example-ca"
  type = "local"
  config = jsonencode({
    common_name = "Example internal CA"
    validity    = "30d"
  })
}

# A single-use token for the web server's agent. Ephemeral: it exists only
# during this run and is in neither the plan nor the state.
ephemeral "certctl_enrollment_token" "web" {
  agent_name = var.agent_name
  labels     = { role = "web" }
  ttl        = "15m"
}

# Starts the agent with the token (once; the agent keeps its credential).
resource "terraform_data" "agent" {
  input = {
    name      = var.agent_name
    state_dir = var.agent_state_dir
  }

  provisioner "local-exec" {
    command = "${path.module}/start-agent.sh"
    environment = {
      AGENT_BINARY            = var.agent_binary
      CERTCTL_SERVER_URL      = var.server_url
      CERTCTL_AGENT_STATE_DIR = var.agent_state_dir
      CERTCTL_AGENT_TOKEN     = ephemeral.certctl_enrollment_token.web.token
    }
  }

  provisioner "local-exec" {
    when    = destroy
    command = "if [ -f '${self.input.state_dir}/agent.pid' ]; then kill $(cat '${self.input.state_dir}/agent.pid') || true; fi"
  }
}

# The agent, once enrolled.
data "certctl_agent" "web" {
  name       = var.agent_name
  depends_on = [terraform_data.agent]
}

# The NGINX on the agent's host.
resource "certctl_target" "nginx" {
  name     = "${var.agent_name}-nginx"
  type     = "nginx"
  agent_id = data.certctl_agent.web.id
  config = jsonencode({
    certificate_path = var.certificate_path
    key_path         = var.key_path
    validate_command = ["nginx", "-t", "-q", "-c", var.nginx_conf]
    reload_command   = ["nginx", "-s", "reload", "-c", var.nginx_conf]
    verify_address   = var.verify_address
  })
}

# The certificate: its key is made on the agent's host (key_mode "agent",
# the default for a target on an agent) and never leaves it. Apply waits
# until NGINX serves it.
resource "certctl_certificate" "www" {
  name         = "www"
  common_name  = var.common_name
  sans         = [var.common_name]
  issuer_id    = certctl_issuer.ca.id
  target_ids   = [certctl_target.nginx.id]
  labels       = { team = "web" }
  wait_for     = "deployed"
  wait_timeout = "5m"
}

output "serial_number" {
  description = "Serial number of the certificate NGINX serves."
  value       = certctl_certificate.www.serial_number
}

output "not_after" {
  description = "When it expires; certctl renews it before then by itself."
  value       = certctl_certificate.www.not_after
}
