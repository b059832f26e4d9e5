data "certctl_agent" "web01" {
  name = "web-01"
}
