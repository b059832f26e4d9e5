-- Honest status: a certificate carries the health of its deployments, and
-- waits on jobs and certificates are woken by the database.
--
-- Deployment health is counted over the deployments of the certificate's
-- current version to the targets bound to it now. It is kept in columns of
-- managed_certificates, maintained by triggers in the same transaction as
-- every change it depends on (a deployment's status, the current version,
-- the bindings, a target's name), rather than aggregated at read time:
-- certificate lists page over 100,000 rows and filter on it, and with the
-- counts on the row a filter is a range scan of a partial index in id
-- order (the list's page order), with no join and no per-row aggregate.

-- +goose Up

ALTER TABLE managed_certificates
    ADD COLUMN deploy_total         integer NOT NULL DEFAULT 0,
    ADD COLUMN deploy_pending       integer NOT NULL DEFAULT 0,
    ADD COLUMN deploy_in_progress   integer NOT NULL DEFAULT 0,
    ADD COLUMN deploy_succeeded     integer NOT NULL DEFAULT 0,
    ADD COLUMN deploy_failed        integer NOT NULL DEFAULT 0,
    -- "deploy to target <name>: <message>" of the latest failed deployment.
    ADD COLUMN deploy_last_error    text NOT NULL DEFAULT '',
    ADD COLUMN deploy_last_error_at timestamptz;

-- The certificate list's deployment_health filters (see store.ListCertificates:
-- its conditions repeat these predicates word for word, so that the planner
-- uses them).
CREATE INDEX managed_certificates_deploy_failed ON managed_certificates (id) WHERE deploy_failed > 0;
CREATE INDEX managed_certificates_deploy_pending ON managed_certificates (id)
    WHERE deploy_pending + deploy_in_progress > 0;
CREATE INDEX managed_certificates_deploy_succeeded ON managed_certificates (id)
    WHERE deploy_total > 0 AND deploy_succeeded = deploy_total;

-- +goose StatementBegin
CREATE FUNCTION certificate_deployment_health(cert uuid, version uuid)
RETURNS TABLE (total integer, pending integer, in_progress integer, succeeded integer, failed integer,
               last_error text, last_error_at timestamptz)
LANGUAGE sql STABLE AS $$
    SELECT count(*)::integer,
           (count(*) FILTER (WHERE d.status = 'pending'))::integer,
           (count(*) FILTER (WHERE d.status = 'in_progress'))::integer,
           (count(*) FILTER (WHERE d.status = 'succeeded'))::integer,
           (count(*) FILTER (WHERE d.status = 'failed'))::integer,
           COALESCE((array_agg('deploy to target ' || t.name || ': ' ||
                         CASE WHEN d.message = '' THEN 'failed' ELSE d.message END
                     ORDER BY COALESCE(d.completed_at, d.updated_at) DESC, d.id DESC)
                     FILTER (WHERE d.status = 'failed'))[1], ''),
           max(COALESCE(d.completed_at, d.updated_at)) FILTER (WHERE d.status = 'failed')
    FROM certificate_targets ct
    JOIN deployments d ON d.version_id = version AND d.target_id = ct.target_id AND d.status <> 'superseded'
    JOIN targets t ON t.id = ct.target_id
    WHERE ct.certificate_id = cert
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- refresh_certificate_deployment_health writes a certificate's health, and
-- only when it changed (most refreshes change nothing: no extra row version).
CREATE FUNCTION refresh_certificate_deployment_health(cert uuid) RETURNS void LANGUAGE sql AS $$
    UPDATE managed_certificates c SET deploy_total = h.total, deploy_pending = h.pending,
        deploy_in_progress = h.in_progress, deploy_succeeded = h.succeeded, deploy_failed = h.failed,
        deploy_last_error = h.last_error, deploy_last_error_at = h.last_error_at
    FROM certificate_deployment_health(cert, (SELECT current_version_id FROM managed_certificates WHERE id = cert)) h
    WHERE c.id = cert AND (c.deploy_total, c.deploy_pending, c.deploy_in_progress, c.deploy_succeeded, c.deploy_failed,
        c.deploy_last_error, c.deploy_last_error_at)
        IS DISTINCT FROM (h.total, h.pending, h.in_progress, h.succeeded, h.failed, h.last_error, h.last_error_at)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
-- For rows that name a certificate (deployments, certificate_targets):
-- refresh that certificate's health.
CREATE FUNCTION certificate_row_health() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM refresh_certificate_deployment_health(OLD.certificate_id);
    ELSE
        PERFORM refresh_certificate_deployment_health(NEW.certificate_id);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER deployments_health_insert_delete AFTER INSERT OR DELETE ON deployments
    FOR EACH ROW EXECUTE FUNCTION certificate_row_health();
CREATE TRIGGER deployments_health_update AFTER UPDATE ON deployments
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status OR OLD.message IS DISTINCT FROM NEW.message)
    EXECUTE FUNCTION certificate_row_health();

CREATE TRIGGER certificate_targets_health AFTER INSERT OR DELETE ON certificate_targets
    FOR EACH ROW EXECUTE FUNCTION certificate_row_health();

-- +goose StatementBegin
-- A new current version starts with the health of its own deployments
-- (none yet, usually): computed into the row being written, so the
-- version change costs no second update of the certificate.
CREATE FUNCTION managed_certificates_health() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT h.total, h.pending, h.in_progress, h.succeeded, h.failed, h.last_error, h.last_error_at
    INTO NEW.deploy_total, NEW.deploy_pending, NEW.deploy_in_progress, NEW.deploy_succeeded, NEW.deploy_failed,
         NEW.deploy_last_error, NEW.deploy_last_error_at
    FROM certificate_deployment_health(NEW.id, NEW.current_version_id) h;
    RETURN NEW;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER managed_certificates_health BEFORE UPDATE OF current_version_id ON managed_certificates
    FOR EACH ROW WHEN (OLD.current_version_id IS DISTINCT FROM NEW.current_version_id)
    EXECUTE FUNCTION managed_certificates_health();

-- +goose StatementBegin
-- A deployment follows its deploy job: whatever ends or restarts the job
-- (an agent's report, an operator's cancel or retry, an agent that took the
-- job and never reported) shows on the deployment, and so on the
-- certificate's health. A cancelled deployment did not deliver: failed.
CREATE FUNCTION jobs_deployment_status() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    st text := CASE NEW.state
        WHEN 'running' THEN 'in_progress'
        WHEN 'succeeded' THEN 'succeeded'
        WHEN 'failed' THEN 'failed'
        WHEN 'cancelled' THEN 'failed'
        ELSE 'pending' END;
BEGIN
    UPDATE deployments SET status = st,
        message = CASE WHEN st IN ('failed', 'pending') THEN NEW.last_error ELSE message END,
        completed_at = CASE WHEN st IN ('succeeded', 'failed') THEN NEW.updated_at END,
        updated_at = NEW.updated_at
    WHERE job_id = NEW.id AND status <> 'superseded'
        AND (status IS DISTINCT FROM st OR (st IN ('failed', 'pending') AND message IS DISTINCT FROM NEW.last_error));
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER jobs_deployment_status AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (NEW.kind = 'deploy' AND OLD.state IS DISTINCT FROM NEW.state)
    EXECUTE FUNCTION jobs_deployment_status();

-- +goose StatementBegin
-- Waits on a job or a certificate (GET ...?wait=) end when a job ends: the
-- job's id, and its certificate's id, are announced on the agent_work
-- channel, whose listener wakes waiters by id (ids are UUIDs, so agents,
-- jobs and certificates never collide). Only final states are announced:
-- a job ends once, so this costs one notification per job, and nothing
-- else settles a wait (agents going offline are seen by the waiters' own
-- periodic re-check).
CREATE FUNCTION jobs_notify_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('agent_work', NEW.id::text);
    IF NEW.certificate_id IS NOT NULL AND NEW.kind <> 'notify' THEN
        PERFORM pg_notify('agent_work', NEW.certificate_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER jobs_notify_done AFTER UPDATE OF state ON jobs
    FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NEW.state IN ('succeeded', 'failed', 'cancelled'))
    EXECUTE FUNCTION jobs_notify_done();

-- A certificate's live jobs, for deciding whether a wait on it is over.
CREATE INDEX jobs_certificate_live ON jobs (certificate_id)
    WHERE state IN ('queued', 'running', 'waiting', 'retrying');

-- +goose StatementBegin
-- A target's name is part of the last error shown; a target that gains an
-- agent hands it the deploy jobs that waited for one (they were made while
-- the target had none, and an agent takes only jobs addressed to it).
CREATE FUNCTION targets_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cert uuid;
BEGIN
    IF OLD.name IS DISTINCT FROM NEW.name THEN
        FOR cert IN SELECT DISTINCT d.certificate_id FROM deployments d
            WHERE d.target_id = NEW.id AND d.status = 'failed'
        LOOP
            PERFORM refresh_certificate_deployment_health(cert);
        END LOOP;
    END IF;
    IF OLD.agent_id IS NULL AND NEW.agent_id IS NOT NULL THEN
        UPDATE deployments SET agent_id = NEW.agent_id
        WHERE target_id = NEW.id AND agent_id IS NULL AND status IN ('pending', 'in_progress');
        UPDATE jobs SET agent_id = NEW.agent_id, updated_at = NEW.updated_at
        WHERE target_id = NEW.id AND kind = 'deploy' AND agent_id IS NULL
            AND state IN ('queued', 'waiting', 'retrying');
        PERFORM pg_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER targets_changed AFTER UPDATE OF name, agent_id ON targets
    FOR EACH ROW EXECUTE FUNCTION targets_changed();

-- Certificates that exist already get their health now.
UPDATE managed_certificates c SET deploy_total = h.total, deploy_pending = h.pending,
    deploy_in_progress = h.in_progress, deploy_succeeded = h.succeeded, deploy_failed = h.failed,
    deploy_last_error = h.last_error, deploy_last_error_at = h.last_error_at
FROM managed_certificates c0 CROSS JOIN LATERAL certificate_deployment_health(c0.id, c0.current_version_id) h
WHERE c.id = c0.id AND h.total > 0;

-- +goose Down
DROP TRIGGER IF EXISTS targets_changed ON targets;
DROP FUNCTION IF EXISTS targets_changed();
DROP INDEX IF EXISTS jobs_certificate_live;
DROP TRIGGER IF EXISTS jobs_notify_done ON jobs;
DROP FUNCTION IF EXISTS jobs_notify_done();
DROP TRIGGER IF EXISTS jobs_deployment_status ON jobs;
DROP FUNCTION IF EXISTS jobs_deployment_status();
DROP TRIGGER IF EXISTS managed_certificates_health ON managed_certificates;
DROP FUNCTION IF EXISTS managed_certificates_health();
DROP TRIGGER IF EXISTS certificate_targets_health ON certificate_targets;
DROP TRIGGER IF EXISTS deployments_health_update ON deployments;
DROP TRIGGER IF EXISTS deployments_health_insert_delete ON deployments;
DROP FUNCTION IF EXISTS certificate_row_health();
DROP FUNCTION IF EXISTS refresh_certificate_deployment_health(uuid);
DROP FUNCTION IF EXISTS certificate_deployment_health(uuid, uuid);
DROP INDEX IF EXISTS managed_certificates_deploy_succeeded;
DROP INDEX IF EXISTS managed_certificates_deploy_pending;
DROP INDEX IF EXISTS managed_certificates_deploy_failed;
ALTER TABLE managed_certificates
    DROP COLUMN IF EXISTS deploy_total,
    DROP COLUMN IF EXISTS deploy_pending,
    DROP COLUMN IF EXISTS deploy_in_progress,
    DROP COLUMN IF EXISTS deploy_succeeded,
    DROP COLUMN IF EXISTS deploy_failed,
    DROP COLUMN IF EXISTS deploy_last_error,
    DROP COLUMN IF EXISTS deploy_last_error_at;
