-- The web console (issue 11): sign-in sessions, and the indexes its pages
-- read through.
--
-- A session is created when a user signs in with an API key; the browser
-- holds a random token in a cookie, the table only its SHA-256 (a copy of
-- the table lets no one in). A session acts as its API key: revoking or
-- deleting the key ends its sessions. Sessions live here, not in a
-- server's memory, so that any replica serves them and signing out ends
-- them everywhere.

-- +goose Up
CREATE TABLE console_sessions (
    token_hash   bytea PRIMARY KEY,
    api_key_id   uuid NOT NULL REFERENCES api_keys (id) ON DELETE CASCADE,
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL
);
CREATE INDEX console_sessions_api_key ON console_sessions (api_key_id);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);

-- Certificate list sorted by name, and searched by common name prefix.
CREATE INDEX managed_certificates_name_id ON managed_certificates (name, id);
CREATE INDEX managed_certificates_cn_pattern ON managed_certificates (common_name text_pattern_ops);
-- Dashboard: expiries by week, and renewals and failures of the last 30
-- days, each counted from an index alone (the INCLUDEd columns spare
-- reading the table).
CREATE INDEX managed_certificates_expiry_status ON managed_certificates (not_after) INCLUDE (status);
CREATE INDEX jobs_finished_issuance ON jobs (finished_at) INCLUDE (state)
    WHERE kind IN ('issue', 'renew') AND state IN ('succeeded', 'failed');
-- Agent page: the agent's recent work.
CREATE INDEX jobs_agent_id ON jobs (agent_id, id) WHERE agent_id IS NOT NULL;
-- Dashboard: recent failed deployments.
CREATE INDEX deployments_failed ON deployments (id) WHERE status = 'failed';

-- +goose Down
DROP INDEX IF EXISTS deployments_failed;
DROP INDEX IF EXISTS jobs_agent_id;
DROP INDEX IF EXISTS jobs_finished_issuance;
DROP INDEX IF EXISTS managed_certificates_expiry_status;
DROP INDEX IF EXISTS managed_certificates_cn_pattern;
DROP INDEX IF EXISTS managed_certificates_name_id;
DROP TABLE IF EXISTS console_sessions;
