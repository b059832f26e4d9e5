-- A certificate may name the CA's certificate profile to issue it with
-- (ACME profiles such as Let's Encrypt's "tlsserver" or "shortlived"),
-- sent to the issuer as IssueRequest.Profile; '' for the issuer's default.

-- +goose Up
ALTER TABLE managed_certificates ADD COLUMN profile text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE managed_certificates DROP COLUMN IF EXISTS profile;
