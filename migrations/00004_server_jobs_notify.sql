-- Server workers wait for work instead of polling for it: a trigger
-- announces issue, renew, revoke and notify jobs that become due on the
-- server_jobs channel, so that an idle worker of any server sharing the
-- database claims a new job at once. A retry scheduled for later is not
-- announced: workers still poll now and then, for retries that become due
-- and for notifications lost while a listening connection was down. PostgreSQL folds identical notifications
-- of one transaction into one, so a bulk insert wakes each worker once.

-- +goose Up

-- +goose StatementBegin
CREATE FUNCTION jobs_notify_server_jobs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind IN ('issue', 'renew', 'revoke', 'notify')
        AND (NEW.state = 'queued' OR (NEW.state = 'retrying' AND NEW.run_at <= clock_timestamp())) THEN
        PERFORM pg_notify('server_jobs', '');
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER jobs_server_jobs AFTER INSERT OR UPDATE OF state ON jobs
    FOR EACH ROW EXECUTE FUNCTION jobs_notify_server_jobs();

-- +goose Down
DROP TRIGGER IF EXISTS jobs_server_jobs ON jobs;
DROP FUNCTION IF EXISTS jobs_notify_server_jobs();
