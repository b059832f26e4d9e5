resource "certctl_api_key" "ci" {
  name       = "ci-pipeline"
  role       = "operator"
  expires_at = "2027-12-31T00:00:00Z"
}

output "ci_key" {
  value     = certctl_api_key.ci.key
  sensitive = true
}
