-- NOTIFY takes one lock for the whole database at commit and holds it
-- until the commit is on disk, so every transaction that announces
-- something (a new job, a job that ended) commits one after another, each
-- waiting for its own WAL flush: under load this, not CPU, capped issuance
-- (docs/performance.md). The triggers that announce work now call
-- certctl_notify, which does what pg_notify does, unless the transaction
-- set certctl.defer_notify: then it only remembers the notification in
-- certctl.deferred_notify (transaction-local, duplicates folded as
-- PostgreSQL folds them), and the server sends what was remembered right
-- after the commit, in a transaction of its own that waits for no flush
-- (store.Store.InTx). Every listener already treats a notification as a
-- hint and re-checks on a timer, so the one lost when a server dies
-- between the two costs a delay, never work.

-- +goose Up

-- +goose StatementBegin
CREATE FUNCTION certctl_notify(channel text, payload text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    item text := channel || chr(31) || payload;
    pending text;
BEGIN
    IF current_setting('certctl.defer_notify', true) IS DISTINCT FROM 'on' THEN
        PERFORM pg_notify(channel, payload);
        RETURN;
    END IF;
    pending := coalesce(current_setting('certctl.deferred_notify', true), '');
    IF pending = '' THEN
        PERFORM set_config('certctl.deferred_notify', item, true);
    ELSIF position(chr(30) || item || chr(30) in chr(30) || pending || chr(30)) = 0 THEN
        PERFORM set_config('certctl.deferred_notify', pending || chr(30) || item, true);
    END IF;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify_agent_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.agent_id IS NOT NULL AND NEW.state IN ('waiting', 'queued', 'retrying') THEN
        PERFORM certctl_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify_server_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind IN ('issue', 'renew', 'revoke', 'notify')
        AND (NEW.state = 'queued' OR (NEW.state = 'retrying' AND NEW.run_at <= clock_timestamp())) THEN
        PERFORM certctl_notify('server_jobs', '');
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM certctl_notify('agent_work', NEW.id::text);
    IF NEW.certificate_id IS NOT NULL AND NEW.kind <> 'notify' THEN
        PERFORM certctl_notify('agent_work', NEW.certificate_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION targets_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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
        PERFORM certctl_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION http01_challenges_notify_agent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.agent_id IS NOT NULL AND NEW.state IN ('pending', 'cleanup') THEN
        PERFORM certctl_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify_agent_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.agent_id IS NOT NULL AND NEW.state IN ('waiting', 'queued', 'retrying') THEN
        PERFORM pg_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify_server_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind IN ('issue', 'renew', 'revoke', 'notify')
        AND (NEW.state = 'queued' OR (NEW.state = 'retrying' AND NEW.run_at <= clock_timestamp())) THEN
        PERFORM pg_notify('server_jobs', '');
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION jobs_notify_done() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('agent_work', NEW.id::text);
    IF NEW.certificate_id IS NOT NULL AND NEW.kind <> 'notify' THEN
        PERFORM pg_notify('agent_work', NEW.certificate_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION targets_changed() RETURNS trigger LANGUAGE plpgsql AS $$
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

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION http01_challenges_notify_agent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.agent_id IS NOT NULL AND NEW.state IN ('pending', 'cleanup') THEN
        PERFORM pg_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

DROP FUNCTION IF EXISTS certctl_notify(text, text);
