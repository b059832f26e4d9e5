# An issuer is imported by its id.
terraform import certctl_issuer.internal 01a24834-4da2-7ab2-91b4-23609b162868
