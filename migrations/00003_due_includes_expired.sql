-- Expired certificates are still renewed (their renewal may have failed
-- until they expired): the scheduler's due scan includes them.

-- +goose Up
DROP INDEX IF EXISTS managed_certificates_due;
CREATE INDEX managed_certificates_due ON managed_certificates (next_renewal_at)
    WHERE status IN ('active', 'failed', 'expired');

-- +goose Down
DROP INDEX IF EXISTS managed_certificates_due;
CREATE INDEX managed_certificates_due ON managed_certificates (next_renewal_at)
    WHERE status IN ('active', 'failed');
