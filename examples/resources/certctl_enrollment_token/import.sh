# The token itself cannot be imported: the server shows it only once.
terraform import certctl_enrollment_token.web02 01a2483a-3d4e-7f50-a162-7c8d9e0f1a2b
