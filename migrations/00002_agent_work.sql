-- Agents long-poll for work. A trigger announces new or changed work for an
-- agent on the agent_work channel (payload: the agent id), so that the
-- server holding that agent's long-poll answers at once, whichever server
-- created the work.

-- +goose Up

-- +goose StatementBegin
CREATE FUNCTION jobs_notify_agent_work() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.agent_id IS NOT NULL AND NEW.state IN ('waiting', 'queued', 'retrying') THEN
        PERFORM pg_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER jobs_agent_work AFTER INSERT OR UPDATE OF state ON jobs
    FOR EACH ROW EXECUTE FUNCTION jobs_notify_agent_work();

-- Deploy jobs an agent may take: waiting ones, and retries that are due.
CREATE INDEX jobs_agent_work ON jobs (agent_id, run_at) WHERE state IN ('waiting', 'retrying');

-- +goose Down
DROP INDEX IF EXISTS jobs_agent_work;
DROP TRIGGER IF EXISTS jobs_agent_work ON jobs;
DROP FUNCTION IF EXISTS jobs_notify_agent_work();
