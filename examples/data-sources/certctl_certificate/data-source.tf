data "certctl_certificate" "www" {
  name = "www"
}

output "www_not_after" {
  value = data.certctl_certificate.www.not_after
}
