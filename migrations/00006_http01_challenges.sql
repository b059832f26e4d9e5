-- ACME HTTP-01 challenges that an issuance job presents while its order is
-- pending (issue 10). A row is one token served at
-- http://<identifier>/.well-known/acme-challenge/<token>, by the server's
-- responder (agent_id NULL: any replica answers from this table) or by the
-- agent that owns the certificate's targets.
--
-- state: 'pending' until the agent reports the token served (server rows
-- start 'presented'); 'presented' while served; 'cleanup' once the job has
-- ended and the agent must stop serving it (its report deletes the row).
-- Server rows are deleted when the job ends.

-- +goose Up

CREATE TABLE http01_challenges (
    job_id            uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    token             text NOT NULL,
    identifier        text NOT NULL,
    key_authorization text NOT NULL,
    agent_id          uuid REFERENCES agents (id) ON DELETE CASCADE,
    state             text NOT NULL CHECK (state IN ('pending', 'presented', 'cleanup')),
    created_at        timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    PRIMARY KEY (job_id, token)
);
-- The responder looks tokens up; agents look up their own rows.
CREATE INDEX http01_challenges_token ON http01_challenges (token);
CREATE INDEX http01_challenges_agent ON http01_challenges (agent_id, state) WHERE agent_id IS NOT NULL;

-- An agent's long poll is woken when it has challenges to present or to
-- clean up, as for its other work (migration 00002).
-- +goose StatementBegin
CREATE FUNCTION http01_challenges_notify_agent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.agent_id IS NOT NULL AND NEW.state IN ('pending', 'cleanup') THEN
        PERFORM pg_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;
-- +goose StatementEnd

CREATE TRIGGER http01_challenges_agent_work AFTER INSERT OR UPDATE OF state ON http01_challenges
    FOR EACH ROW EXECUTE FUNCTION http01_challenges_notify_agent();

-- +goose Down
DROP TRIGGER IF EXISTS http01_challenges_agent_work ON http01_challenges;
DROP FUNCTION IF EXISTS http01_challenges_notify_agent();
DROP TABLE IF EXISTS http01_challenges;
