resource "certctl_renewal_policy" "two_weeks" {
  name               = "two-weeks-before"
  mode               = "days_before"
  days_before_expiry = 14
  jitter_fraction    = 0.02
}

resource "certctl_renewal_policy" "default" {
  name           = "two-thirds"
  mode           = "fraction"
  renew_fraction = 0.66
  is_default     = true
}
