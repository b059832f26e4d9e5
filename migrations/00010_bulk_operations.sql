-- Bulk operations: durable background actions over every certificate a
-- filter selects, however many (a CA-distrust day re-issues 100,000). An
-- operation walks the certificates in id order (ids are UUIDv7, so the
-- walk is stable) in chunks; each chunk, its jobs, its audit events and
-- the cursor's move commit together, so a crash leaves a chunk either
-- wholly done or not begun. One server replica drives an operation at a
-- time, under a lease as jobs have; another takes over when it expires.

-- +goose Up
CREATE TABLE bulk_operations (
    id               uuid PRIMARY KEY,
    kind             text NOT NULL CHECK (kind IN ('reissue')),
    status           text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'cancelled', 'failed')),
    -- The certificate filter (status, issuer_id, target_id, expiring_before, name_prefix).
    filter           jsonb NOT NULL,
    to_issuer_id     uuid REFERENCES issuers (id) ON DELETE RESTRICT,
    reason           text NOT NULL DEFAULT '',
    max_per_second   double precision,
    created_by       text NOT NULL,
    created_by_name  text NOT NULL DEFAULT '',
    -- The walk: the last certificate id handled (NULL before the first
    -- chunk) and the largest certificate id when the operation began;
    -- certificates declared later are not part of it.
    cursor_id        uuid,
    until_id         uuid,
    walk_ended_at    timestamptz,
    -- Certificates the filter matched when the operation began.
    estimated_total  integer NOT NULL DEFAULT 0,
    matched          integer NOT NULL DEFAULT 0,
    started          integer NOT NULL DEFAULT 0,
    adopted          integer NOT NULL DEFAULT 0,
    skipped          integer NOT NULL DEFAULT 0,
    last_error       text NOT NULL DEFAULT '',
    lease_owner      text,
    lease_expires_at timestamptz,
    created_at       timestamptz NOT NULL,
    updated_at       timestamptz NOT NULL,
    finished_at      timestamptz
);
CREATE INDEX bulk_operations_running ON bulk_operations (id) WHERE status = 'running';

-- Certificates whose issuance was already running (or held an order at
-- the old CA) when the walk reached them: the operation enqueues theirs
-- once that one has ended.
CREATE TABLE bulk_operation_deferred (
    operation_id   uuid NOT NULL REFERENCES bulk_operations (id) ON DELETE CASCADE,
    certificate_id uuid NOT NULL REFERENCES managed_certificates (id) ON DELETE CASCADE,
    PRIMARY KEY (operation_id, certificate_id)
);
CREATE INDEX bulk_operation_deferred_certificate ON bulk_operation_deferred (certificate_id);

-- The jobs an operation created or took over; its progress is counted from them.
ALTER TABLE jobs ADD COLUMN operation_id uuid REFERENCES bulk_operations (id) ON DELETE SET NULL;
CREATE INDEX jobs_operation ON jobs (operation_id, state) WHERE operation_id IS NOT NULL;

-- +goose Down
DROP INDEX IF EXISTS jobs_operation;
ALTER TABLE jobs DROP COLUMN IF EXISTS operation_id;
DROP TABLE IF EXISTS bulk_operation_deferred;
DROP TABLE IF EXISTS bulk_operations;
