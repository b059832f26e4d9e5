# The key itself cannot be imported: the server shows it only once.
terraform import certctl_api_key.ci 01a2483b-4e5f-7061-b273-8d9e0f1a2b3c
