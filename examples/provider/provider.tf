terraform {
  required_version = ">= 1.11"
  required_providers {
    certctl = {
      source = "certctl/certctl"
    }
  }
}

# Every setting may come from the environment instead: CERTCTL_URL and
# CERTCTL_API_KEY, as the agent and the CLI read them.
provider "certctl" {
  endpoint = "https://certctl.example.com"
  api_key  = var.certctl_api_key

  # A server whose certificate a private CA signed:
  ca_file = "/etc/ssl/certs/internal-ca.pem"
}

variable "certctl_api_key" {
  type      = string
  sensitive = true
}
