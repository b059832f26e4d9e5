terraform import certctl_renewal_policy.two_weeks 01a24838-1b2c-7d3e-8f40-5a6b7c8d9e0f
