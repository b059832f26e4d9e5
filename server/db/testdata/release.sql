-- certctl release fixture: written by TestReleaseFixture (server/db/releasefixture_test.go); do not edit.
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

--
-- Name: audit_events_append_only(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.audit_events_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;


--
-- Name: certctl_notify(text, text); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.certctl_notify(channel text, payload text) RETURNS void
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: certificate_deployment_health(uuid, uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.certificate_deployment_health(cert uuid, version uuid) RETURNS TABLE(total integer, pending integer, in_progress integer, succeeded integer, failed integer, last_error text, last_error_at timestamp with time zone)
    LANGUAGE sql STABLE
    AS $$
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


--
-- Name: certificate_row_health(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.certificate_row_health() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM refresh_certificate_deployment_health(OLD.certificate_id);
    ELSE
        PERFORM refresh_certificate_deployment_health(NEW.certificate_id);
    END IF;
    RETURN NULL;
END;
$$;


--
-- Name: http01_challenges_notify_agent(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.http01_challenges_notify_agent() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.agent_id IS NOT NULL AND NEW.state IN ('pending', 'cleanup') THEN
        PERFORM certctl_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;


--
-- Name: jobs_deployment_status(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.jobs_deployment_status() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


--
-- Name: jobs_notify_agent_work(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.jobs_notify_agent_work() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.agent_id IS NOT NULL AND NEW.state IN ('waiting', 'queued', 'retrying') THEN
        PERFORM certctl_notify('agent_work', NEW.agent_id::text);
    END IF;
    RETURN NULL;
END;
$$;


--
-- Name: jobs_notify_done(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.jobs_notify_done() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM certctl_notify('agent_work', NEW.id::text);
    IF NEW.certificate_id IS NOT NULL AND NEW.kind <> 'notify' THEN
        PERFORM certctl_notify('agent_work', NEW.certificate_id::text);
    END IF;
    RETURN NULL;
END;
$$;


--
-- Name: jobs_notify_server_jobs(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.jobs_notify_server_jobs() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.kind IN ('issue', 'renew', 'revoke', 'notify')
        AND (NEW.state = 'queued' OR (NEW.state = 'retrying' AND NEW.run_at <= clock_timestamp())) THEN
        PERFORM certctl_notify('server_jobs', '');
    END IF;
    RETURN NULL;
END;
$$;


--
-- Name: managed_certificates_health(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.managed_certificates_health() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    SELECT h.total, h.pending, h.in_progress, h.succeeded, h.failed, h.last_error, h.last_error_at
    INTO NEW.deploy_total, NEW.deploy_pending, NEW.deploy_in_progress, NEW.deploy_succeeded, NEW.deploy_failed,
         NEW.deploy_last_error, NEW.deploy_last_error_at
    FROM certificate_deployment_health(NEW.id, NEW.current_version_id) h;
    RETURN NEW;
END;
$$;


--
-- Name: refresh_certificate_deployment_health(uuid); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.refresh_certificate_deployment_health(cert uuid) RETURNS void
    LANGUAGE sql
    AS $$
    UPDATE managed_certificates c SET deploy_total = h.total, deploy_pending = h.pending,
        deploy_in_progress = h.in_progress, deploy_succeeded = h.succeeded, deploy_failed = h.failed,
        deploy_last_error = h.last_error, deploy_last_error_at = h.last_error_at
    FROM certificate_deployment_health(cert, (SELECT current_version_id FROM managed_certificates WHERE id = cert)) h
    WHERE c.id = cert AND (c.deploy_total, c.deploy_pending, c.deploy_in_progress, c.deploy_succeeded, c.deploy_failed,
        c.deploy_last_error, c.deploy_last_error_at)
        IS DISTINCT FROM (h.total, h.pending, h.in_progress, h.succeeded, h.failed, h.last_error, h.last_error_at)
$$;


--
-- Name: targets_changed(); Type: FUNCTION; Schema: public; Owner: -
--

CREATE FUNCTION public.targets_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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


SET default_table_access_method = heap;

--
-- Name: agent_credentials; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agent_credentials (
    id uuid NOT NULL,
    agent_id uuid NOT NULL,
    token_hash bytea NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone,
    revoked_at timestamp with time zone
);


--
-- Name: agents; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.agents (
    id uuid NOT NULL,
    name text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    os text DEFAULT ''::text NOT NULL,
    arch text DEFAULT ''::text NOT NULL,
    ip_address inet,
    hostname text DEFAULT ''::text NOT NULL,
    agent_version text DEFAULT ''::text NOT NULL,
    uptime_seconds bigint DEFAULT 0 NOT NULL,
    plugins jsonb DEFAULT '[]'::jsonb NOT NULL,
    last_heartbeat_at timestamp with time zone,
    enrolled_at timestamp with time zone NOT NULL,
    retired_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT agents_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'online'::text, 'offline'::text, 'retired'::text])))
);


--
-- Name: api_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_keys (
    id uuid NOT NULL,
    name text NOT NULL,
    key_prefix text NOT NULL,
    key_hash bytea NOT NULL,
    role text NOT NULL,
    expires_at timestamp with time zone,
    revoked_at timestamp with time zone,
    last_used_at timestamp with time zone,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT api_keys_role_check CHECK ((role = ANY (ARRAY['admin'::text, 'operator'::text, 'viewer'::text])))
);


--
-- Name: audit_events; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_events (
    id uuid NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    actor text NOT NULL,
    actor_type text NOT NULL,
    actor_name text DEFAULT ''::text NOT NULL,
    action text NOT NULL,
    resource_type text NOT NULL,
    resource_id text DEFAULT ''::text NOT NULL,
    outcome text NOT NULL,
    request_id text DEFAULT ''::text NOT NULL,
    details jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT audit_events_actor_type_check CHECK ((actor_type = ANY (ARRAY['api_key'::text, 'agent'::text, 'system'::text]))),
    CONSTRAINT audit_events_outcome_check CHECK ((outcome = ANY (ARRAY['success'::text, 'failure'::text, 'denied'::text])))
);


--
-- Name: certificate_targets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.certificate_targets (
    certificate_id uuid NOT NULL,
    target_id uuid NOT NULL
);


--
-- Name: certificate_versions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.certificate_versions (
    id uuid NOT NULL,
    certificate_id uuid NOT NULL,
    spec_revision bigint NOT NULL,
    serial_number text NOT NULL,
    fingerprint_sha256 text NOT NULL,
    subject text DEFAULT ''::text NOT NULL,
    sans text[] DEFAULT '{}'::text[] NOT NULL,
    not_before timestamp with time zone NOT NULL,
    not_after timestamp with time zone NOT NULL,
    certificate_pem text NOT NULL,
    chain_pem text DEFAULT ''::text NOT NULL,
    csr_pem text DEFAULT ''::text NOT NULL,
    private_key_enc bytea,
    renewal_window_start timestamp with time zone,
    renewal_window_end timestamp with time zone,
    issuer_id uuid,
    job_id uuid,
    status text DEFAULT 'active'::text NOT NULL,
    revoked_at timestamp with time zone,
    revocation_reason text,
    created_at timestamp with time zone NOT NULL,
    CONSTRAINT certificate_versions_status_check CHECK ((status = ANY (ARRAY['active'::text, 'superseded'::text, 'revoked'::text])))
);


--
-- Name: console_sessions; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.console_sessions (
    token_hash bytea NOT NULL,
    api_key_id uuid NOT NULL,
    csrf_token text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);


--
-- Name: crls; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.crls (
    issuer_id uuid NOT NULL,
    number bigint NOT NULL,
    this_update timestamp with time zone NOT NULL,
    next_update timestamp with time zone NOT NULL,
    der bytea NOT NULL,
    entries integer NOT NULL,
    dirty boolean DEFAULT false NOT NULL
);


--
-- Name: deployments; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.deployments (
    id uuid NOT NULL,
    certificate_id uuid NOT NULL,
    version_id uuid NOT NULL,
    target_id uuid NOT NULL,
    agent_id uuid,
    job_id uuid,
    status text DEFAULT 'pending'::text NOT NULL,
    message text DEFAULT ''::text NOT NULL,
    metadata jsonb DEFAULT '{}'::jsonb NOT NULL,
    verified_at timestamp with time zone,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    completed_at timestamp with time zone,
    CONSTRAINT deployments_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'in_progress'::text, 'succeeded'::text, 'failed'::text, 'superseded'::text])))
);


--
-- Name: enrollment_tokens; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.enrollment_tokens (
    id uuid NOT NULL,
    token_hash bytea NOT NULL,
    token_prefix text NOT NULL,
    agent_name text,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    used_by_agent_id uuid,
    revoked_at timestamp with time zone,
    created_by text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: http01_challenges; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.http01_challenges (
    job_id uuid NOT NULL,
    token text NOT NULL,
    identifier text NOT NULL,
    key_authorization text NOT NULL,
    agent_id uuid,
    state text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT http01_challenges_state_check CHECK ((state = ANY (ARRAY['pending'::text, 'presented'::text, 'cleanup'::text])))
);


--
-- Name: issuers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.issuers (
    id uuid NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    config_secret bytea,
    secret_fields text[] DEFAULT '{}'::text[] NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT issuers_config_object CHECK ((jsonb_typeof(config) = 'object'::text))
);


--
-- Name: jobs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.jobs (
    id uuid NOT NULL,
    kind text NOT NULL,
    state text DEFAULT 'queued'::text NOT NULL,
    certificate_id uuid,
    target_id uuid,
    agent_id uuid,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    attempt integer DEFAULT 0 NOT NULL,
    max_attempts integer DEFAULT 10 NOT NULL,
    run_at timestamp with time zone NOT NULL,
    lease_owner text,
    lease_expires_at timestamp with time zone,
    last_error text DEFAULT ''::text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT jobs_kind_check CHECK ((kind = ANY (ARRAY['issue'::text, 'renew'::text, 'revoke'::text, 'deploy'::text, 'notify'::text]))),
    CONSTRAINT jobs_state_check CHECK ((state = ANY (ARRAY['queued'::text, 'running'::text, 'waiting'::text, 'retrying'::text, 'succeeded'::text, 'failed'::text, 'cancelled'::text])))
);


--
-- Name: managed_certificates; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.managed_certificates (
    id uuid NOT NULL,
    name text NOT NULL,
    common_name text NOT NULL,
    sans text[] DEFAULT '{}'::text[] NOT NULL,
    issuer_id uuid NOT NULL,
    key_type text NOT NULL,
    key_mode text NOT NULL,
    renewal_policy_id uuid,
    status text DEFAULT 'pending'::text NOT NULL,
    labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    current_version_id uuid,
    not_after timestamp with time zone,
    next_renewal_at timestamp with time zone,
    spec_revision bigint DEFAULT 1 NOT NULL,
    last_error text DEFAULT ''::text NOT NULL,
    expiry_alert_days integer,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    deploy_total integer DEFAULT 0 NOT NULL,
    deploy_pending integer DEFAULT 0 NOT NULL,
    deploy_in_progress integer DEFAULT 0 NOT NULL,
    deploy_succeeded integer DEFAULT 0 NOT NULL,
    deploy_failed integer DEFAULT 0 NOT NULL,
    deploy_last_error text DEFAULT ''::text NOT NULL,
    deploy_last_error_at timestamp with time zone,
    profile text DEFAULT ''::text NOT NULL,
    CONSTRAINT managed_certificates_key_mode_check CHECK ((key_mode = ANY (ARRAY['agent'::text, 'server'::text]))),
    CONSTRAINT managed_certificates_key_type_check CHECK ((key_type = ANY (ARRAY['ecdsa-p256'::text, 'ecdsa-p384'::text, 'rsa-2048'::text, 'rsa-3072'::text, 'rsa-4096'::text, 'ed25519'::text]))),
    CONSTRAINT managed_certificates_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'issuing'::text, 'active'::text, 'renewing'::text, 'failed'::text, 'expired'::text, 'revoked'::text])))
);


--
-- Name: notification_rules; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_rules (
    id uuid NOT NULL,
    name text NOT NULL,
    notifier_id uuid NOT NULL,
    events text[] NOT NULL,
    expiry_days integer[] DEFAULT '{30,14,7,1}'::integer[] NOT NULL,
    certificate_labels jsonb DEFAULT '{}'::jsonb NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: notifications; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notifications (
    id uuid NOT NULL,
    event text NOT NULL,
    notifier_id uuid,
    rule_id uuid,
    certificate_id uuid,
    agent_id uuid,
    dedupe_key text NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    next_attempt_at timestamp with time zone,
    last_error text,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    CONSTRAINT notifications_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'sending'::text, 'sent'::text, 'retrying'::text, 'dead'::text, 'no_notifier'::text])))
);


--
-- Name: notifiers; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notifiers (
    id uuid NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    config_secret bytea,
    secret_fields text[] DEFAULT '{}'::text[] NOT NULL,
    enabled boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT notifiers_config_object CHECK ((jsonb_typeof(config) = 'object'::text))
);


--
-- Name: plugins; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.plugins (
    kind text NOT NULL,
    name text NOT NULL,
    version text DEFAULT ''::text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    path text NOT NULL,
    sha256 text NOT NULL,
    schema jsonb DEFAULT '{}'::jsonb NOT NULL,
    registered_at timestamp with time zone NOT NULL,
    CONSTRAINT plugins_kind_check CHECK ((kind = ANY (ARRAY['issuer'::text, 'target'::text, 'notifier'::text])))
);


--
-- Name: renewal_policies; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.renewal_policies (
    id uuid NOT NULL,
    name text NOT NULL,
    mode text NOT NULL,
    renew_fraction double precision,
    days_before_expiry integer,
    jitter_fraction double precision DEFAULT 0.05 NOT NULL,
    reuse_key boolean DEFAULT false NOT NULL,
    use_issuer_window boolean DEFAULT true NOT NULL,
    is_default boolean DEFAULT false NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT renewal_policies_days_before_expiry_check CHECK ((days_before_expiry > 0)),
    CONSTRAINT renewal_policies_jitter_fraction_check CHECK (((jitter_fraction >= (0)::double precision) AND (jitter_fraction < (0.5)::double precision))),
    CONSTRAINT renewal_policies_mode_check CHECK ((mode = ANY (ARRAY['fraction'::text, 'days_before'::text]))),
    CONSTRAINT renewal_policies_mode_fields CHECK ((((mode = 'fraction'::text) AND (renew_fraction IS NOT NULL)) OR ((mode = 'days_before'::text) AND (days_before_expiry IS NOT NULL)))),
    CONSTRAINT renewal_policies_renew_fraction_check CHECK (((renew_fraction > (0)::double precision) AND (renew_fraction < (1)::double precision)))
);


--
-- Name: schema_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.schema_migrations (
    id integer NOT NULL,
    version_id bigint NOT NULL,
    is_applied boolean NOT NULL,
    tstamp timestamp without time zone DEFAULT now() NOT NULL
);


--
-- Name: schema_migrations_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

ALTER TABLE public.schema_migrations ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME public.schema_migrations_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);


--
-- Name: settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.settings (
    name text NOT NULL,
    value jsonb NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: targets; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.targets (
    id uuid NOT NULL,
    name text NOT NULL,
    type text NOT NULL,
    agent_id uuid,
    config jsonb DEFAULT '{}'::jsonb NOT NULL,
    config_secret bytea,
    secret_fields text[] DEFAULT '{}'::text[] NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    CONSTRAINT targets_config_object CHECK ((jsonb_typeof(config) = 'object'::text))
);


--
-- Data for Name: agent_credentials; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agent_credentials VALUES ('01a24a50-ec50-730b-a544-d29090078b08', '01a24a50-ec4b-7e13-88df-8463f1535c40', '\xc754c423e003e38746b8a846206eeac3c2e1f9cf06c83c040c6a10f5a5b4bb77', '2026-12-06 07:45:47.083919+00', NULL, NULL);


--
-- Data for Name: agents; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.agents VALUES ('01a24a50-ec4b-7e13-88df-8463f1535c40', 'web-01', 'online', '{"zone": "eu"}', 'linux', 'amd64', '192.0.2.10', 'web-01.example.com', '0.9.0', 600, '[{"kind": "target", "name": "nginx", "version": "1.0.0"}]', '2026-12-06 07:45:47.092283+00', '2026-12-06 07:45:47.083919+00', NULL, '2026-12-06 07:45:47.083919+00', '2026-12-06 07:45:47.092283+00');


--
-- Data for Name: api_keys; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.api_keys VALUES ('01a24a50-ea99-757d-8f51-cfcf5666f387', 'bootstrap-admin', 'cck_dBrhNCbN', '\x302d87be726188bf2d881cd1f596b10a9a2f39df394d498df9b9acc06396cb6f', 'admin', NULL, NULL, '2026-12-06 07:45:46.850123+00', 'certctl-server', '2026-12-06 07:45:46.649349+00');
INSERT INTO public.api_keys VALUES ('01a24a50-ec07-7380-80ea-552aaee78aff', 'test-viewer', 'cck_mAfRCffk', '\x518fc1a4abb879effab44c37465f6b48488640bbfcc66c5ac9da6c9595409dd6', 'viewer', NULL, NULL, NULL, 'certctl-server', '2026-12-06 07:45:47.015226+00');
INSERT INTO public.api_keys VALUES ('01a24a50-ec07-7987-8d32-0c1a59ddc482', 'test-operator', 'cck_oy6OS-yZ', '\xb9dc8b849a6b19bc019cd45da0746b61aa6818aa5370ce204e35976439938788', 'operator', NULL, NULL, NULL, 'certctl-server', '2026-12-06 07:45:47.015607+00');
INSERT INTO public.api_keys VALUES ('01a24a50-ec09-7077-897e-e2ab9821a43b', 'leaked', 'cck_s7ASy_VM', '\xfb751a4deccb2f632fa90bffb46014fa90638000a1e6aff4852d06da58a06f6d', 'viewer', NULL, '2026-12-06 07:45:47.018403+00', NULL, 'bootstrap-admin', '2026-12-06 07:45:47.017006+00');


--
-- Data for Name: audit_events; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit_events VALUES ('01a24a50-ea9a-7950-82e4-ea5bb0588c88', '2026-12-06 07:45:46.65061+00', 'system', 'system', 'certctl-server', 'api_key.bootstrap', 'api_key', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'success', '', '{"prefix": "cck_dBrhNCbN", "source": "generated"}');
INSERT INTO public.audit_events VALUES ('01a24a50-eb5d-7440-b7cf-891441cf784d', '2026-12-06 07:45:46.845279+00', 'system', 'system', 'certctl-server', 'issuer.create', 'issuer', '01a24a50-eaa8-7ebd-b028-82b166239562', 'success', '', '{"name": "local", "type": "local"}');
INSERT INTO public.audit_events VALUES ('01a24a50-eb66-729f-b585-650d20a8c755', '2026-12-06 07:45:46.854172+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'issuer.create', 'issuer', '01a24a50-eb63-7c7b-a377-56cd5030af04', 'success', '9e596aa43c5e47d7429064b8', '{"name": "p256-ca", "type": "local"}');
INSERT INTO public.audit_events VALUES ('01a24a50-eb69-73d8-8e8a-dbb99ed1fbbc', '2026-12-06 07:45:46.857252+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'issuer.create', 'issuer', '01a24a50-eb67-7864-a581-e0e7434d5fae', 'success', 'a7516ef99d07229a385ed383', '{"name": "narrow-ca", "type": "local"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ebff-7a85-b947-f8ec676ff1bb', '2026-12-06 07:45:47.007689+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'notifier.create', 'notifier', '01a24a50-eb70-70f8-a62c-6692ac3019f8', 'success', 'd77176b23fbbe73e694b8d48', '{"name": "ops-hook", "type": "webhook"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec03-7160-8244-30a266f3b835', '2026-12-06 07:45:47.01109+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'notification_rule.create', 'notification_rule', '01a24a50-ec01-7889-bf4b-592f0e458c0b', 'success', 'd4ef29a830ee9decf1cfee74', '{"name": "all-to-ops", "events": ["certificate.issued", "certificate.renewed", "deployment.failed"]}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec06-749e-95b2-a4965efe8729', '2026-12-06 07:45:47.014303+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'renewal_policy.create', 'renewal_policy', '01a24a50-ec04-7ef9-86c6-80ce05008e33', 'success', '4703f92379c4457e2130d818', '{"mode": "days_before", "name": "two-weeks"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec07-7577-83f3-86b6336d960a', '2026-12-06 07:45:47.015358+00', 'system', 'system', 'certctl-server', 'api_key.create', 'api_key', '01a24a50-ec07-7380-80ea-552aaee78aff', 'success', '', '{"name": "test-viewer", "role": "viewer", "prefix": "cck_mAfRCffk"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec07-7cdd-8e4b-dc90eb7a28b9', '2026-12-06 07:45:47.015843+00', 'system', 'system', 'certctl-server', 'api_key.create', 'api_key', '01a24a50-ec07-7987-8d32-0c1a59ddc482', 'success', '', '{"name": "test-operator", "role": "operator", "prefix": "cck_oy6OS-yZ"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec09-7404-8760-5dd295317756', '2026-12-06 07:45:47.017263+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'api_key.create', 'api_key', '01a24a50-ec09-7077-897e-e2ab9821a43b', 'success', '226728b220638fdf0ae902d5', '{"name": "leaked", "role": "viewer", "prefix": "cck_s7ASy_VM"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec0d-7a60-8f56-b7db9ad5fba5', '2026-12-06 07:45:47.02168+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'api_key.revoke', 'api_key', '01a24a50-ec09-7077-897e-e2ab9821a43b', 'success', '6771451ffd4071e4ef7246a0', '{"name": "leaked", "prefix": "cck_s7ASy_VM"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec0f-7c5d-8862-9a39622ea40b', '2026-12-06 07:45:47.02381+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'console_session.create', 'api_key', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'success', '', '{}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec14-742a-bde6-4c1872100da4', '2026-12-06 07:45:47.028273+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'enrollment_token.create', 'enrollment_token', '01a24a50-ec13-72de-93ed-23ed5f8663e9', 'success', 'ac5d4feec1b2d9ff081144ba', '{"prefix": "cce_rBhX1rtW", "agent_name": "web-01", "expires_at": "2026-12-07T07:45:47.027187Z"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec1a-785c-8fbf-f1b49b81e288', '2026-12-06 07:45:47.034548+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'enrollment_token.create', 'enrollment_token', '01a24a50-ec1a-75e6-9cf5-b74576127d8f', 'success', 'de66befbb37b560995e81958', '{"prefix": "cce_DxStj9PE", "agent_name": "", "expires_at": "2027-01-05T07:45:47.034386Z"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec1d-773f-b8f0-8670147e5210', '2026-12-06 07:45:47.037475+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'enrollment_token.create', 'enrollment_token', '01a24a50-ec1d-7367-8c03-fd5fcc8dede7', 'success', '5e7b3d46318a49da4db2a9ca', '{"prefix": "cce_kxG-bXs-", "agent_name": "", "expires_at": "2026-12-07T07:45:47.037222Z"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec46-778a-a4d2-9114e5f0fa3e', '2026-12-06 07:45:47.078495+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'enrollment_token.revoke', 'enrollment_token', '01a24a50-ec1d-7367-8c03-fd5fcc8dede7', 'success', 'a3a841a50b6d34a97d169713', '{"prefix": "cce_kxG-bXs-"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec51-7748-ac82-7b59d98ea48e', '2026-12-06 07:45:47.089477+00', '01a24a50-ec4b-7e13-88df-8463f1535c40', 'agent', 'web-01', 'agent.enroll', 'agent', '01a24a50-ec4b-7e13-88df-8463f1535c40', 'success', '6c8aea78c7bd9ebd84734068', '{"name": "web-01", "token": "cce_rBhX1rtW", "hostname": "web-01.example.com"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec5b-7075-abd6-0a7b0996342c', '2026-12-06 07:45:47.09903+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'target.create', 'target', '01a24a50-ec57-7eb1-bb12-4166647c328c', 'success', '3f7c801edb1e89ac207b98f4', '{"name": "web-nginx", "type": "nginx"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec60-7578-98d0-66ca2cf1ce0a', '2026-12-06 07:45:47.104358+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'target.create', 'target', '01a24a50-ec5f-7f34-9ee3-cf9edd716466', 'success', '9d15d6c309d8aef78b8c4472', '{"name": "api-nginx", "type": "nginx"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ec62-701f-9719-830fdc3517d8', '2026-12-06 07:45:47.106008+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'target.create', 'target', '01a24a50-ec61-7c10-9ea3-bb56709cb50e', 'success', '35d57bcdd2796c3bd543137c', '{"name": "spare-nginx", "type": "nginx"}');
INSERT INTO public.audit_events VALUES ('01a24a50-eca8-763e-a542-f19044a04074', '2026-12-06 07:45:47.17641+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-ec7d-7837-a3c7-25b3b6f8ea68', 'success', 'af6a8a478f541cda0b67da3f', '{"kind": "issue", "state": "queued", "trigger": "created", "certificate_id": "01a24a50-ec77-7577-9ccd-519b590d51af"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ecd0-70e5-9dff-31e4823ef944', '2026-12-06 07:45:47.216059+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.create', 'certificate', '01a24a50-ec77-7577-9ccd-519b590d51af', 'success', 'af6a8a478f541cda0b67da3f', '{"name": "billing", "common_name": "billing.example.com"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ecff-7bb3-a4f3-da8355a59665', '2026-12-06 07:45:47.263767+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-ecff-7149-828a-04a428067683', 'success', '292768bbf3b3655501a94f4f', '{"kind": "issue", "state": "queued", "trigger": "created", "certificate_id": "01a24a50-ecfd-7a92-9e41-817c77cc1346"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed00-7a51-8ff7-1aba5bf6e67f', '2026-12-06 07:45:47.264676+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.create', 'certificate', '01a24a50-ecfd-7a92-9e41-817c77cc1346', 'success', '292768bbf3b3655501a94f4f', '{"name": "intranet", "common_name": "intranet.example.com"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed04-7a07-b5c1-ad71de8819d8', '2026-12-06 07:45:47.268657+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-ed04-7305-8164-4aee456b7431', 'success', 'cc8e2e771571d560cfb9e8ce', '{"kind": "issue", "state": "queued", "trigger": "created", "certificate_id": "01a24a50-ed03-7b49-ba60-ef063f053293"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed05-752e-865e-2911e1bcc5d1', '2026-12-06 07:45:47.269339+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.create', 'certificate', '01a24a50-ed03-7b49-ba60-ef063f053293', 'success', 'cc8e2e771571d560cfb9e8ce', '{"name": "old-vpn", "common_name": "vpn.example.com"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed0b-748f-934f-fd49273789b1', '2026-12-06 07:45:47.275299+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-ed0a-7b44-8e55-71892ec031b1', 'success', '48e15f76219409db8b5a6df1', '{"kind": "issue", "state": "queued", "trigger": "created", "certificate_id": "01a24a50-ed0a-7503-bc1d-daac3b1d99c8"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed0c-70b1-a86f-f70ab38982e3', '2026-12-06 07:45:47.276045+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.create', 'certificate', '01a24a50-ed0a-7503-bc1d-daac3b1d99c8', 'success', '48e15f76219409db8b5a6df1', '{"name": "outsider", "common_name": "outsider.example.org"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed1d-73bc-a4b9-86e76a4ad158', '2026-12-06 07:45:47.293245+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-ed15-78c9-8eb4-14a19f896b92', 'success', '9f62bf29990d3898fdc16676', '{"kind": "issue", "state": "waiting", "trigger": "created", "certificate_id": "01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed1f-75e2-b43b-57e5bc2a6a61', '2026-12-06 07:45:47.295386+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.create', 'certificate', '01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', 'success', '9f62bf29990d3898fdc16676', '{"name": "web", "common_name": "www.example.com"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed32-7d15-9de5-35563ce02542', '2026-12-06 07:45:47.314857+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-ed31-763d-aed5-e59b63e9771a', 'success', '18c9e309ad98564e726492d6', '{"kind": "issue", "state": "waiting", "trigger": "created", "certificate_id": "01a24a50-ed25-74b1-b325-2340b5b8c263"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed33-7bb6-8b52-fa6f204d1344', '2026-12-06 07:45:47.315767+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.create', 'certificate', '01a24a50-ed25-74b1-b325-2340b5b8c263', 'success', '18c9e309ad98564e726492d6', '{"name": "api", "common_name": "api.example.com"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed45-712b-8edd-9b45860bfed9', '2026-12-06 07:45:47.333077+00', '01a24a50-ec4b-7e13-88df-8463f1535c40', 'agent', 'web-01', 'job.submit_csr', 'job', '01a24a50-ed15-78c9-8eb4-14a19f896b92', 'success', 'a84773dfd663a5629f41c6f0', '{"certificate_id": "01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed4a-79e4-8838-69a010c0fb26', '2026-12-06 07:45:47.338648+00', '01a24a50-ec4b-7e13-88df-8463f1535c40', 'agent', 'web-01', 'job.submit_csr', 'job', '01a24a50-ed31-763d-aed5-e59b63e9771a', 'success', 'c93f0a675172406d94b76764', '{"certificate_id": "01a24a50-ed25-74b1-b325-2340b5b8c263"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed9e-73b9-9a80-2c19a1aa237d', '2026-12-06 07:45:47.421781+00', 'system', 'system', 'certctl-server', 'job.created', 'job', '01a24a50-ed9d-7ca6-b087-7d3b6539889b', 'success', '', '{"kind": "notify", "state": "queued", "trigger": "certificate.issued", "certificate_id": "01a24a50-ed03-7b49-ba60-ef063f053293"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed9d-7be0-b4cf-e5b16ece9079', '2026-12-06 07:45:47.421778+00', 'system', 'system', 'certctl-server', 'certificate.issued', 'certificate', '01a24a50-ed03-7b49-ba60-ef063f053293', 'success', '', '{"job_id": "01a24a50-ed04-7305-8164-4aee456b7431", "not_after": "2027-03-06T07:45:47Z", "version_id": "01a24a50-ed9d-7a47-8c87-2c4e3b0eb81f", "serial_number": "e7687c54fe95952156f3bb1a44cae626", "next_renewal_at": "2027-01-31T18:44:55Z"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed9d-7be8-b2f5-8827ef615b13', '2026-12-06 07:45:47.42178+00', 'system', 'system', 'certctl-server', 'job.succeeded', 'job', '01a24a50-ed04-7305-8164-4aee456b7431', 'success', '', '{"kind": "issue", "attempt": 1}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee61-78f7-b9be-686e2c23c42b', '2026-12-06 07:45:47.617588+00', 'system', 'system', 'certctl-server', 'job.failed', 'job', '01a24a50-ed0a-7b44-8e55-71892ec031b1', 'failure', '', '{"kind": "issue", "error": "common name \"outsider.example.org\" is outside allowed_domains (invalid_input)", "attempt": 1, "max_attempts": 8}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed85-7d20-9822-29e88a7d4d96', '2026-12-06 07:45:47.3971+00', 'system', 'system', 'certctl-server', 'job.created', 'job', '01a24a50-ed85-73d1-84af-afcc5b1aaee6', 'success', '', '{"kind": "notify", "state": "queued", "trigger": "certificate.issued", "certificate_id": "01a24a50-ec77-7577-9ccd-519b590d51af"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed85-70f6-b147-d91d49a62681', '2026-12-06 07:45:47.397063+00', 'system', 'system', 'certctl-server', 'certificate.issued', 'certificate', '01a24a50-ec77-7577-9ccd-519b590d51af', 'success', '', '{"job_id": "01a24a50-ec7d-7837-a3c7-25b3b6f8ea68", "not_after": "2027-03-06T07:45:47Z", "version_id": "01a24a50-ed82-7193-9e51-17c7f1600054", "serial_number": "95bffd1de819bf245052b1d7eabde31f", "next_renewal_at": "2027-02-02T16:39:56Z"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ed85-7103-bb9c-42f86506ceea', '2026-12-06 07:45:47.397066+00', 'system', 'system', 'certctl-server', 'job.succeeded', 'job', '01a24a50-ec7d-7837-a3c7-25b3b6f8ea68', 'success', '', '{"kind": "issue", "attempt": 1}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee62-77ce-be93-2dfb65a0535c', '2026-12-06 07:45:47.612233+00', 'system', 'system', 'certctl-server', 'job.created', 'job', '01a24a50-ee5c-7425-af7d-77bbd893cf98', 'success', '', '{"kind": "notify", "state": "queued", "trigger": "certificate.issued", "certificate_id": "01a24a50-ecfd-7a92-9e41-817c77cc1346"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee5c-7388-9890-928659a15f52', '2026-12-06 07:45:47.612231+00', 'system', 'system', 'certctl-server', 'certificate.issued', 'certificate', '01a24a50-ecfd-7a92-9e41-817c77cc1346', 'success', '', '{"job_id": "01a24a50-ecff-7149-828a-04a428067683", "not_after": "2027-01-05T07:45:47Z", "version_id": "01a24a50-ee5c-7318-bc2e-0ba67f3e8550", "serial_number": "ef736f0f3d8aef5aa9c6d5f60383cf93", "next_renewal_at": "2026-12-22T02:19:06Z"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee5c-738d-831c-e35a549ff137', '2026-12-06 07:45:47.612232+00', 'system', 'system', 'certctl-server', 'job.succeeded', 'job', '01a24a50-ecff-7149-828a-04a428067683', 'success', '', '{"kind": "issue", "attempt": 1}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee46-7be5-b525-49d717a91807', '2026-12-06 07:45:47.588086+00', 'system', 'system', 'certctl-server', 'job.created', 'job', '01a24a50-ee44-72c9-87ec-e71f4c2a172c', 'success', '', '{"kind": "notify", "state": "queued", "trigger": "certificate.issued", "certificate_id": "01a24a50-ed25-74b1-b325-2340b5b8c263"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee44-7126-a698-38f9dcd3e910', '2026-12-06 07:45:47.588075+00', 'system', 'system', 'certctl-server', 'certificate.issued', 'certificate', '01a24a50-ed25-74b1-b325-2340b5b8c263', 'success', '', '{"job_id": "01a24a50-ed31-763d-aed5-e59b63e9771a", "not_after": "2027-03-06T07:45:47Z", "version_id": "01a24a50-ee44-7009-ac58-9026e400814c", "serial_number": "3d40280af1426aa05de68445759a7df3", "next_renewal_at": "2027-02-04T00:54:01Z"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee44-7131-b812-ba68f8080721', '2026-12-06 07:45:47.588078+00', 'system', 'system', 'certctl-server', 'job.succeeded', 'job', '01a24a50-ed31-763d-aed5-e59b63e9771a', 'success', '', '{"kind": "issue", "attempt": 1}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee44-7147-b629-eeb4c5117714', '2026-12-06 07:45:47.588083+00', 'system', 'system', 'certctl-server', 'job.created', 'job', '01a24a50-ee44-7137-97be-955b264847d8', 'success', '', '{"kind": "deploy", "state": "waiting", "trigger": "issued", "target_id": "01a24a50-ec5f-7f34-9ee3-cf9edd716466", "certificate_id": "01a24a50-ed25-74b1-b325-2340b5b8c263"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee5e-71dd-8ce5-e3139e31b4c8', '2026-12-06 07:45:47.61056+00', 'system', 'system', 'certctl-server', 'job.created', 'job', '01a24a50-ee5a-793d-ae23-9dc03b7a3a97', 'success', '', '{"kind": "notify", "state": "queued", "trigger": "certificate.issued", "certificate_id": "01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee5a-786e-adcb-3a31918edf4f', '2026-12-06 07:45:47.610552+00', 'system', 'system', 'certctl-server', 'certificate.issued', 'certificate', '01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', 'success', '', '{"job_id": "01a24a50-ed15-78c9-8eb4-14a19f896b92", "not_after": "2027-03-06T07:45:47Z", "version_id": "01a24a50-ee5a-77d9-94dd-7a0598dad618", "serial_number": "bf063ec86c4982e53cdf21aa32b6ae58", "next_renewal_at": "2027-02-03T12:00:41Z"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee5a-7874-8881-4ab7f75ea70c', '2026-12-06 07:45:47.610554+00', 'system', 'system', 'certctl-server', 'job.succeeded', 'job', '01a24a50-ed15-78c9-8eb4-14a19f896b92', 'success', '', '{"kind": "issue", "attempt": 1}');
INSERT INTO public.audit_events VALUES ('01a24a50-ee5a-7886-9780-13c7f708967b', '2026-12-06 07:45:47.610558+00', 'system', 'system', 'certctl-server', 'job.created', 'job', '01a24a50-ee5a-787b-9a02-de7d1b1852b5', 'success', '', '{"kind": "deploy", "state": "waiting", "trigger": "issued", "target_id": "01a24a50-ec57-7eb1-bb12-4166647c328c", "certificate_id": "01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf"}');
INSERT INTO public.audit_events VALUES ('01a24a50-eed9-71ec-a015-2455ea1f4958', '2026-12-06 07:45:47.737126+00', 'system', 'system', 'certctl-server', 'notification.sent', 'notification', '01a24a50-ed85-7396-ae5d-17eb0a664bf7', 'success', '', '{"event": "certificate.issued", "message_id": "", "notifier_id": "01a24a50-eb70-70f8-a62c-6692ac3019f8"}');
INSERT INTO public.audit_events VALUES ('01a24a50-eee0-7ccc-a092-cabfd1b5d25f', '2026-12-06 07:45:47.744839+00', 'system', 'system', 'certctl-server', 'notification.sent', 'notification', '01a24a50-ed9d-7ca2-94bc-85a5dee4692c', 'success', '', '{"event": "certificate.issued", "message_id": "", "notifier_id": "01a24a50-eb70-70f8-a62c-6692ac3019f8"}');
INSERT INTO public.audit_events VALUES ('01a24a50-eee3-7851-abbd-c4260f38bf4b', '2026-12-06 07:45:47.747545+00', 'system', 'system', 'certctl-server', 'notification.sent', 'notification', '01a24a50-ee5a-793a-b662-03fc2ace9540', 'success', '', '{"event": "certificate.issued", "message_id": "", "notifier_id": "01a24a50-eb70-70f8-a62c-6692ac3019f8"}');
INSERT INTO public.audit_events VALUES ('01a24a50-eee8-779f-bef8-58fbc05a9853', '2026-12-06 07:45:47.752499+00', 'system', 'system', 'certctl-server', 'notification.sent', 'notification', '01a24a50-ee44-728f-9336-da637354bba3', 'success', '', '{"event": "certificate.issued", "message_id": "", "notifier_id": "01a24a50-eb70-70f8-a62c-6692ac3019f8"}');
INSERT INTO public.audit_events VALUES ('01a24a50-eef9-7ea2-9145-1c02c1dbfb18', '2026-12-06 07:45:47.769959+00', 'system', 'system', 'certctl-server', 'notification.sent', 'notification', '01a24a50-ee5c-741f-af0e-1ba34d98b02b', 'success', '', '{"event": "certificate.issued", "message_id": "", "notifier_id": "01a24a50-eb70-70f8-a62c-6692ac3019f8"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef15-74dd-a8a8-5a3591e3b7cc', '2026-12-06 07:45:47.797319+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-ef0d-7469-b82a-ae2a7cdab0ff', 'success', 'b8ea82a73ab38fff6570a473', '{"kind": "renew", "state": "queued", "trigger": "manual", "certificate_id": "01a24a50-ecfd-7a92-9e41-817c77cc1346"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef18-7683-aa11-67668a2f3c9f', '2026-12-06 07:45:47.800427+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.renew', 'certificate', '01a24a50-ecfd-7a92-9e41-817c77cc1346', 'success', 'b8ea82a73ab38fff6570a473', '{"job_id": "01a24a50-ef0d-7469-b82a-ae2a7cdab0ff"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef1f-7ecc-9389-1eff642ca4b6', '2026-12-06 07:45:47.80797+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-ef1f-71d4-9448-d872048bc68c', 'success', '657b4575350c9ab69be3120a', '{"kind": "revoke", "state": "queued", "trigger": "manual", "certificate_id": "01a24a50-ed03-7b49-ba60-ef063f053293"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef22-7680-b079-7bc696d0a9c7', '2026-12-06 07:45:47.810426+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.revoke', 'certificate', '01a24a50-ed03-7b49-ba60-ef063f053293', 'success', '657b4575350c9ab69be3120a', '{"job_id": "01a24a50-ef1f-71d4-9448-d872048bc68c", "reason": 4}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef4e-7dec-abb8-5eac43b6430b', '2026-12-06 07:45:47.854913+00', 'system', 'system', 'certctl-server', 'certificate.revoked', 'certificate', '01a24a50-ed03-7b49-ba60-ef063f053293', 'success', '', '{"note": "", "job_id": "01a24a50-ef1f-71d4-9448-d872048bc68c", "reason": "superseded", "version_id": "01a24a50-ed9d-7a47-8c87-2c4e3b0eb81f", "serial_number": "e7687c54fe95952156f3bb1a44cae626"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef59-7188-be99-068fe4f54505', '2026-12-06 07:45:47.864501+00', 'system', 'system', 'certctl-server', 'job.created', 'job', '01a24a50-ef58-7869-a3b3-08ae51fa0c0f', 'success', '', '{"kind": "notify", "state": "queued", "trigger": "certificate.renewed", "certificate_id": "01a24a50-ecfd-7a92-9e41-817c77cc1346"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef58-7799-a0c9-1a41b23b1efc', '2026-12-06 07:45:47.864498+00', 'system', 'system', 'certctl-server', 'certificate.renewed', 'certificate', '01a24a50-ecfd-7a92-9e41-817c77cc1346', 'success', '', '{"job_id": "01a24a50-ef0d-7469-b82a-ae2a7cdab0ff", "not_after": "2027-01-05T07:45:47Z", "version_id": "01a24a50-ef58-7603-b193-73ec1d4f6928", "serial_number": "d5dc2389cd00211c89ae88293a012bf0", "next_renewal_at": "2026-12-22T02:19:06Z"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef58-77a2-8c84-b0216c8d4b81', '2026-12-06 07:45:47.8645+00', 'system', 'system', 'certctl-server', 'job.succeeded', 'job', '01a24a50-ef0d-7469-b82a-ae2a7cdab0ff', 'success', '', '{"kind": "renew", "attempt": 1}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef6a-7df9-ab9a-25f0aedb7812', '2026-12-06 07:45:47.882916+00', 'system', 'system', 'certctl-server', 'notification.sent', 'notification', '01a24a50-ef58-7863-b5e2-0c83762e8c3c', 'success', '', '{"event": "certificate.renewed", "message_id": "", "notifier_id": "01a24a50-eb70-70f8-a62c-6692ac3019f8"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef89-7c92-88f1-5b048c8aa669', '2026-12-06 07:45:47.913824+00', '01a24a50-ec4b-7e13-88df-8463f1535c40', 'agent', 'web-01', 'deployment.failed', 'deployment', '01a24a50-ee44-713b-a7fc-c11e2bcc1a90', 'failure', '26ae765a1eb1fbef75f3cc8d', '{"job_id": "01a24a50-ee44-7137-97be-955b264847d8", "message": "nginx -t: certificate file not readable", "target_id": "01a24a50-ec5f-7f34-9ee3-cf9edd716466", "version_id": "01a24a50-ee44-7009-ac58-9026e400814c", "served_serial": ""}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef8c-70f7-904d-47a259053c82', '2026-12-06 07:45:47.916063+00', 'system', 'system', 'certctl-server', 'job.created', 'job', '01a24a50-ef8a-7dbf-b10a-4e593efcca07', 'success', '26ae765a1eb1fbef75f3cc8d', '{"kind": "notify", "state": "queued", "trigger": "deployment.failed", "certificate_id": "01a24a50-ed25-74b1-b325-2340b5b8c263"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef92-79f4-a137-6f19a27c2f62', '2026-12-06 07:45:47.922653+00', '01a24a50-ec4b-7e13-88df-8463f1535c40', 'agent', 'web-01', 'deployment.succeeded', 'deployment', '01a24a50-ee5a-787f-ab9e-11356bd74a79', 'success', '558ac06d6cb69bd9d0d25925', '{"job_id": "01a24a50-ee5a-787b-9a02-de7d1b1852b5", "message": "nginx reloaded", "target_id": "01a24a50-ec57-7eb1-bb12-4166647c328c", "version_id": "01a24a50-ee5a-77d9-94dd-7a0598dad618", "served_serial": "bf063ec86c4982e53cdf21aa32b6ae58"}');
INSERT INTO public.audit_events VALUES ('01a24a50-ef9b-7ece-8128-4148022dfcbf', '2026-12-06 07:45:47.93197+00', 'system', 'system', 'certctl-server', 'notification.sent', 'notification', '01a24a50-ef8a-7db8-aa93-74fe76525956', 'success', '', '{"event": "deployment.failed", "message_id": "", "notifier_id": "01a24a50-eb70-70f8-a62c-6692ac3019f8"}');
INSERT INTO public.audit_events VALUES ('01a24a50-efa0-7832-8dcd-12fd04173914', '2026-12-06 07:45:47.936537+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-efa0-70de-afce-e7cf266aeeda', 'success', 'fe4b92bfb5a16248a5909c15', '{"kind": "issue", "state": "queued", "trigger": "created", "certificate_id": "01a24a50-ef9f-74e1-a420-d8c17bebc7f8"}');
INSERT INTO public.audit_events VALUES ('01a24a50-efa1-700b-b936-9257952bb513', '2026-12-06 07:45:47.937003+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.create', 'certificate', '01a24a50-ef9f-74e1-a420-d8c17bebc7f8', 'success', 'fe4b92bfb5a16248a5909c15', '{"name": "mail", "common_name": "mail.example.com"}');
INSERT INTO public.audit_events VALUES ('01a24a50-efc0-72e3-8a51-8bc2eeb5a17c', '2026-12-06 07:45:47.968189+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'job.created', 'job', '01a24a50-efbf-7b1f-a5ee-4cd30aa7ed89', 'success', 'aeb65574e435ebdeb31fb257', '{"kind": "issue", "state": "queued", "trigger": "created", "certificate_id": "01a24a50-efbf-74d3-ae4f-af06a6211ef7"}');
INSERT INTO public.audit_events VALUES ('01a24a50-efc0-7c2e-ad47-572b09b8e7d5', '2026-12-06 07:45:47.968798+00', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'api_key', 'bootstrap-admin', 'certificate.create', 'certificate', '01a24a50-efbf-74d3-ae4f-af06a6211ef7', 'success', 'aeb65574e435ebdeb31fb257', '{"name": "shop", "common_name": "shop.example.com"}');


--
-- Data for Name: certificate_targets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.certificate_targets VALUES ('01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', '01a24a50-ec57-7eb1-bb12-4166647c328c');
INSERT INTO public.certificate_targets VALUES ('01a24a50-ed25-74b1-b325-2340b5b8c263', '01a24a50-ec5f-7f34-9ee3-cf9edd716466');


--
-- Data for Name: certificate_versions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.certificate_versions VALUES ('01a24a50-ed82-7193-9e51-17c7f1600054', '01a24a50-ec77-7577-9ccd-519b590d51af', 1, '95bffd1de819bf245052b1d7eabde31f', '81f566a32194fc701c2e1686281e74947e78fa9213f47932cf9f95c9c381224d', 'CN=billing.example.com', '{billing.example.com}', '2026-12-06 07:44:47+00', '2027-03-06 07:45:47+00', '-----BEGIN CERTIFICATE-----
MIICCjCCAZGgAwIBAgIRAJW//R3oGb8kUFKx1+q94x8wCgYIKoZIzj0EAwMwLTEQ
MA4GA1UEChMHY2VydGN0bDEZMBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTAeFw0y
NjEyMDYwNzQ0NDdaFw0yNzAzMDYwNzQ1NDdaMB4xHDAaBgNVBAMTE2JpbGxpbmcu
ZXhhbXBsZS5jb20wWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARIbnDX8XLbRB2O
uTZslDQ/N36DCl8RQpEB/ZsEDKegnspczBgDcAGf6ZC/Gmv7Zbo13wb1X/p4YOOx
e88Oavyko4GgMIGdMA4GA1UdDwEB/wQEAwIHgDAdBgNVHSUEFjAUBggrBgEFBQcD
AQYIKwYBBQUHAwIwDAYDVR0TAQH/BAIwADAdBgNVHQ4EFgQUcnu/MfkpeC8RvY4e
SuIJooilVyMwHwYDVR0jBBgwFoAU5RQsOU7jRwzbSTRG9Bl04OD6b8wwHgYDVR0R
BBcwFYITYmlsbGluZy5leGFtcGxlLmNvbTAKBggqhkjOPQQDAwNnADBkAjBs91xy
Y/hVuz22+Nbc21ZSNvRRH9dy0NHUP9lnwOjYrqQbdJiNTO3WTUqy4qtbETsCME9F
d0ubxAdfcv2fXxjBcROE8GHDMOhsgEZ5Nb2ThWXUk2gMMbl2tgqwR5Cna/8g8w==
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE-----
MIIB2zCCAWCgAwIBAgIQZl4HBRiwoeHmRduotG5nrTAKBggqhkjOPQQDAzAtMRAw
DgYDVQQKEwdjZXJ0Y3RsMRkwFwYDVQQDExBjZXJ0Y3RsIGxvY2FsIENBMB4XDTI2
MTIwNjA3NDQ0NloXDTM2MTIwMzA3NDU0NlowLTEQMA4GA1UEChMHY2VydGN0bDEZ
MBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTB2MBAGByqGSM49AgEGBSuBBAAiA2IA
BJ2h363w5jXxFJ1zzzMT84gFglmNzmXUPeA+d8UIAMRq0AOWwChJNg5fYCBmBth1
/zHYENM3cVYdrWDf9JmxXarziUfR9KsraxLCQ5xbVTN5U9/97oZe2l9kWcFLucbu
ZaNFMEMwDgYDVR0PAQH/BAQDAgGGMBIGA1UdEwEB/wQIMAYBAf8CAQAwHQYDVR0O
BBYEFOUULDlO40cM20k0RvQZdODg+m/MMAoGCCqGSM49BAMDA2kAMGYCMQCh1m3F
04aj4vCvt8OIS9LEQvoiJ5hxP9JBrnWcRV+ghGN0aRNIoT9EYPI67RsycGECMQDO
QcGe/UgzOxq7+uQQpqjhPK8an4Y4r9ripmuMKTQM2R4Y9xrZSOqPZDdbkIyw/NQ=
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE REQUEST-----
MIIBCjCBsQIBADAeMRwwGgYDVQQDExNiaWxsaW5nLmV4YW1wbGUuY29tMFkwEwYH
KoZIzj0CAQYIKoZIzj0DAQcDQgAESG5w1/Fy20Qdjrk2bJQ0Pzd+gwpfEUKRAf2b
BAynoJ7KXMwYA3ABn+mQvxpr+2W6Nd8G9V/6eGDjsXvPDmr8pKAxMC8GCSqGSIb3
DQEJDjEiMCAwHgYDVR0RBBcwFYITYmlsbGluZy5leGFtcGxlLmNvbTAKBggqhkjO
PQQDAgNIADBFAiEA9jP1Qm2TX+bKFEo+dIZXKY6P1UD9BNrqArUQmwCJJisCIDef
wvbZB/g6zZFvwiZ8045+B5OFL3EnvaL+rgJWOdFI
-----END CERTIFICATE REQUEST-----
', '\x02ad7a1a3fe90a3c0e37a361229457b4ee8ad3b2c27bf2b7ed1bb33a0212eac84227fefa1a5d26f270698d0bcbc3e0317a6bb978a700198ead27e9d87285ab3b841c50926748221a5a3881adc113c96f47c35b030b064cf07e90982f4161282eed7fdf2418d6a5d59a41cf8117eb7b211dfcf43f8f9f54e59cb43460babdc846bdb3760d1c18303bcc73c80539d81ff4a027a1584573fc032be8d1036ccf0554a19444d349c9e231539c11286ad9bc72d84c8f96411e36e36a674ef8c115a17b2ca5152a7065df72b9f2f133b76b1bbc5095d86bf74431782e5b77ca7af55ee71037b0e08d6d53593bdb3b398c5c925474e055e1555c0adf98b34c653293d59cb4f1972891752d4e2fae2bee2e3692d232dc', NULL, NULL, '01a24a50-eaa8-7ebd-b028-82b166239562', '01a24a50-ec7d-7837-a3c7-25b3b6f8ea68', 'active', NULL, NULL, '2026-12-06 07:45:47.397002+00');
INSERT INTO public.certificate_versions VALUES ('01a24a50-ee44-7009-ac58-9026e400814c', '01a24a50-ed25-74b1-b325-2340b5b8c263', 1, '3d40280af1426aa05de68445759a7df3', '4e7eb186d7d7189d37b858744ece07a055e8c2f1af7e914d4cdccdbcb2c852b8', 'CN=api.example.com', '{api.example.com}', '2026-12-06 07:44:47+00', '2027-03-06 07:45:47+00', '-----BEGIN CERTIFICATE-----
MIICAjCCAYigAwIBAgIQPUAoCvFCaqBd5oRFdZp98zAKBggqhkjOPQQDAzAtMRAw
DgYDVQQKEwdjZXJ0Y3RsMRkwFwYDVQQDExBjZXJ0Y3RsIGxvY2FsIENBMB4XDTI2
MTIwNjA3NDQ0N1oXDTI3MDMwNjA3NDU0N1owGjEYMBYGA1UEAxMPYXBpLmV4YW1w
bGUuY29tMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE7vrAaOtNKBM1tLERpYoz
w/EPuvOV2i1m1A80J8X/J2caGWMQHkPOS6iQP0wHRHPx/cSBqPPDaYJ2ksY1weDD
WKOBnDCBmTAOBgNVHQ8BAf8EBAMCB4AwHQYDVR0lBBYwFAYIKwYBBQUHAwEGCCsG
AQUFBwMCMAwGA1UdEwEB/wQCMAAwHQYDVR0OBBYEFDqgir7wlechSsuzLlnn7F7S
eaqUMB8GA1UdIwQYMBaAFOUULDlO40cM20k0RvQZdODg+m/MMBoGA1UdEQQTMBGC
D2FwaS5leGFtcGxlLmNvbTAKBggqhkjOPQQDAwNoADBlAjBE/gNWs4NSF0MF4DWj
3kjhvGI3ATxJ3Xc7JN7eygEXQC1BFt7hiCNS3w7uRGv3ksQCMQDxcjTjvNjLoV1J
/p3fngV2FT1UWUbFYM8LvNLLOvIHcrq+KFjGDT8Elu7RYX/1PAs=
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE-----
MIIB2zCCAWCgAwIBAgIQZl4HBRiwoeHmRduotG5nrTAKBggqhkjOPQQDAzAtMRAw
DgYDVQQKEwdjZXJ0Y3RsMRkwFwYDVQQDExBjZXJ0Y3RsIGxvY2FsIENBMB4XDTI2
MTIwNjA3NDQ0NloXDTM2MTIwMzA3NDU0NlowLTEQMA4GA1UEChMHY2VydGN0bDEZ
MBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTB2MBAGByqGSM49AgEGBSuBBAAiA2IA
BJ2h363w5jXxFJ1zzzMT84gFglmNzmXUPeA+d8UIAMRq0AOWwChJNg5fYCBmBth1
/zHYENM3cVYdrWDf9JmxXarziUfR9KsraxLCQ5xbVTN5U9/97oZe2l9kWcFLucbu
ZaNFMEMwDgYDVR0PAQH/BAQDAgGGMBIGA1UdEwEB/wQIMAYBAf8CAQAwHQYDVR0O
BBYEFOUULDlO40cM20k0RvQZdODg+m/MMAoGCCqGSM49BAMDA2kAMGYCMQCh1m3F
04aj4vCvt8OIS9LEQvoiJ5hxP9JBrnWcRV+ghGN0aRNIoT9EYPI67RsycGECMQDO
QcGe/UgzOxq7+uQQpqjhPK8an4Y4r9ripmuMKTQM2R4Y9xrZSOqPZDdbkIyw/NQ=
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE REQUEST-----
MIIBATCBqQIBADAaMRgwFgYDVQQDEw9hcGkuZXhhbXBsZS5jb20wWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAATu+sBo600oEzW0sRGlijPD8Q+685XaLWbUDzQnxf8n
ZxoZYxAeQ85LqJA/TAdEc/H9xIGo88NpgnaSxjXB4MNYoC0wKwYJKoZIhvcNAQkO
MR4wHDAaBgNVHREEEzARgg9hcGkuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwIDRwAw
RAIgf3SIx0QVQ6//GtM3q6owHVIz6FerJVqHWL3biFwuC9UCIG05GX4VnJ0d8liX
HT+mqqGgv5jbsjX+4EK8BL+m5sYu
-----END CERTIFICATE REQUEST-----
', NULL, NULL, NULL, '01a24a50-eaa8-7ebd-b028-82b166239562', '01a24a50-ed31-763d-aed5-e59b63e9771a', 'active', NULL, NULL, '2026-12-06 07:45:47.588053+00');
INSERT INTO public.certificate_versions VALUES ('01a24a50-ee5a-77d9-94dd-7a0598dad618', '01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', 1, 'bf063ec86c4982e53cdf21aa32b6ae58', 'c5f1a1246da641df927edff966f7e9afa92600f6b8cbad320ad8b08e61a740d8', 'CN=www.example.com', '{www.example.com}', '2026-12-06 07:44:47+00', '2027-03-06 07:45:47+00', '-----BEGIN CERTIFICATE-----
MIICAjCCAYmgAwIBAgIRAL8GPshsSYLlPN8hqjK2rlgwCgYIKoZIzj0EAwMwLTEQ
MA4GA1UEChMHY2VydGN0bDEZMBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTAeFw0y
NjEyMDYwNzQ0NDdaFw0yNzAzMDYwNzQ1NDdaMBoxGDAWBgNVBAMTD3d3dy5leGFt
cGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJPTinY9AHwr2mEOYaw9
LjAacuSv6RotPcGTe+hQtX2gR1B1NIwLIMH3bHrTNH/KYOVEj0FIyQVpQrdy2ZrK
XxajgZwwgZkwDgYDVR0PAQH/BAQDAgeAMB0GA1UdJQQWMBQGCCsGAQUFBwMBBggr
BgEFBQcDAjAMBgNVHRMBAf8EAjAAMB0GA1UdDgQWBBTOpmS8hQEoBb6lipOCMVOE
2WybyzAfBgNVHSMEGDAWgBTlFCw5TuNHDNtJNEb0GXTg4PpvzDAaBgNVHREEEzAR
gg93d3cuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwMDZwAwZAIwER7a9lepw+1qDo2t
THvbolxFYFYuCVn0txZDqs+emM8Tb0MImUMPvHHzJcrEwhY7AjA9AWyif7gp/3po
CMgr595623yvaZ5QqZ+206ko+fUSvaYtjuihJZndksXp96CMQ7g=
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE-----
MIIB2zCCAWCgAwIBAgIQZl4HBRiwoeHmRduotG5nrTAKBggqhkjOPQQDAzAtMRAw
DgYDVQQKEwdjZXJ0Y3RsMRkwFwYDVQQDExBjZXJ0Y3RsIGxvY2FsIENBMB4XDTI2
MTIwNjA3NDQ0NloXDTM2MTIwMzA3NDU0NlowLTEQMA4GA1UEChMHY2VydGN0bDEZ
MBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTB2MBAGByqGSM49AgEGBSuBBAAiA2IA
BJ2h363w5jXxFJ1zzzMT84gFglmNzmXUPeA+d8UIAMRq0AOWwChJNg5fYCBmBth1
/zHYENM3cVYdrWDf9JmxXarziUfR9KsraxLCQ5xbVTN5U9/97oZe2l9kWcFLucbu
ZaNFMEMwDgYDVR0PAQH/BAQDAgGGMBIGA1UdEwEB/wQIMAYBAf8CAQAwHQYDVR0O
BBYEFOUULDlO40cM20k0RvQZdODg+m/MMAoGCCqGSM49BAMDA2kAMGYCMQCh1m3F
04aj4vCvt8OIS9LEQvoiJ5hxP9JBrnWcRV+ghGN0aRNIoT9EYPI67RsycGECMQDO
QcGe/UgzOxq7+uQQpqjhPK8an4Y4r9ripmuMKTQM2R4Y9xrZSOqPZDdbkIyw/NQ=
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE REQUEST-----
MIIBAjCBqQIBADAaMRgwFgYDVQQDEw93d3cuZXhhbXBsZS5jb20wWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAAST04p2PQB8K9phDmGsPS4wGnLkr+kaLT3Bk3voULV9
oEdQdTSMCyDB92x60zR/ymDlRI9BSMkFaUK3ctmayl8WoC0wKwYJKoZIhvcNAQkO
MR4wHDAaBgNVHREEEzARgg93d3cuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwIDSAAw
RQIhAL+twqSSDxP69iifj3kqIeeJOLrRqJJ6C37syWYBdO++AiA62QOtmTLH8/CX
1K4EGJdop4BE4AJlMyUXG2A4nhqX/A==
-----END CERTIFICATE REQUEST-----
', NULL, NULL, NULL, '01a24a50-eaa8-7ebd-b028-82b166239562', '01a24a50-ed15-78c9-8eb4-14a19f896b92', 'active', NULL, NULL, '2026-12-06 07:45:47.610532+00');
INSERT INTO public.certificate_versions VALUES ('01a24a50-ed9d-7a47-8c87-2c4e3b0eb81f', '01a24a50-ed03-7b49-ba60-ef063f053293', 1, 'e7687c54fe95952156f3bb1a44cae626', 'af8b6ca01f1cfb53cfdc56def51757e1c27695d0103dfc91be2b7dd9aedd8bda', 'CN=vpn.example.com', '{vpn.example.com}', '2026-12-06 07:44:47+00', '2027-03-06 07:45:47+00', '-----BEGIN CERTIFICATE-----
MIICAjCCAYmgAwIBAgIRAOdofFT+lZUhVvO7GkTK5iYwCgYIKoZIzj0EAwMwLTEQ
MA4GA1UEChMHY2VydGN0bDEZMBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTAeFw0y
NjEyMDYwNzQ0NDdaFw0yNzAzMDYwNzQ1NDdaMBoxGDAWBgNVBAMTD3Zwbi5leGFt
cGxlLmNvbTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABLxa4uS0mpEKuaGOhCRh
CW1f/qDjoD8aoT2L4qOR5KFtDXtcYCZCAT1ExN76HVRm8ZSO60r8/fkMfg+MCdyf
I7SjgZwwgZkwDgYDVR0PAQH/BAQDAgeAMB0GA1UdJQQWMBQGCCsGAQUFBwMBBggr
BgEFBQcDAjAMBgNVHRMBAf8EAjAAMB0GA1UdDgQWBBSOnbpqc/nkoOX37xY9QbYo
cfMzVjAfBgNVHSMEGDAWgBTlFCw5TuNHDNtJNEb0GXTg4PpvzDAaBgNVHREEEzAR
gg92cG4uZXhhbXBsZS5jb20wCgYIKoZIzj0EAwMDZwAwZAIwHxuiT/SsmGbM7Ksh
12rHcPtUC6GXEv+uetX43LLpxp2SJt6Ti/M8dSnRAWL6qVetAjA5Glnl/Yf+aytH
1RBfLsgq7DlYe0Ak1P+h8OKxi8pd0qrNjDfYxtAEBSP2pat3bIk=
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE-----
MIIB2zCCAWCgAwIBAgIQZl4HBRiwoeHmRduotG5nrTAKBggqhkjOPQQDAzAtMRAw
DgYDVQQKEwdjZXJ0Y3RsMRkwFwYDVQQDExBjZXJ0Y3RsIGxvY2FsIENBMB4XDTI2
MTIwNjA3NDQ0NloXDTM2MTIwMzA3NDU0NlowLTEQMA4GA1UEChMHY2VydGN0bDEZ
MBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTB2MBAGByqGSM49AgEGBSuBBAAiA2IA
BJ2h363w5jXxFJ1zzzMT84gFglmNzmXUPeA+d8UIAMRq0AOWwChJNg5fYCBmBth1
/zHYENM3cVYdrWDf9JmxXarziUfR9KsraxLCQ5xbVTN5U9/97oZe2l9kWcFLucbu
ZaNFMEMwDgYDVR0PAQH/BAQDAgGGMBIGA1UdEwEB/wQIMAYBAf8CAQAwHQYDVR0O
BBYEFOUULDlO40cM20k0RvQZdODg+m/MMAoGCCqGSM49BAMDA2kAMGYCMQCh1m3F
04aj4vCvt8OIS9LEQvoiJ5hxP9JBrnWcRV+ghGN0aRNIoT9EYPI67RsycGECMQDO
QcGe/UgzOxq7+uQQpqjhPK8an4Y4r9ripmuMKTQM2R4Y9xrZSOqPZDdbkIyw/NQ=
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE REQUEST-----
MIIBAjCBqQIBADAaMRgwFgYDVQQDEw92cG4uZXhhbXBsZS5jb20wWTATBgcqhkjO
PQIBBggqhkjOPQMBBwNCAAS8WuLktJqRCrmhjoQkYQltX/6g46A/GqE9i+KjkeSh
bQ17XGAmQgE9RMTe+h1UZvGUjutK/P35DH4PjAncnyO0oC0wKwYJKoZIhvcNAQkO
MR4wHDAaBgNVHREEEzARgg92cG4uZXhhbXBsZS5jb20wCgYIKoZIzj0EAwIDSAAw
RQIhAMszt/z39cougE0vyxVZZrr9tEMzAaaz0DcIREbaePq4AiBRY4xHvAFBwYk2
JjPFO0nCEd0G4ybUka8VEehSxGR2BQ==
-----END CERTIFICATE REQUEST-----
', '\x02ad7a1a3f39c78f418e2ce41489e3dbcbb7d535c45dd89730ebe7845356c47819775a6a5f3ae193f1c026e70012ff1a44e8060d06522e79f8cb54ad0f44d81016015b4a5cbdcab313b7ef28e3f2de9fbb6190c7c66d876804b6a02dd5a105338221be119a72c8107f60bad65f15cbb818de211e20d0cee7ad98596c63216deba4307b165cdbea727dba644a08b3e2dc859c69cc44700def8214b43d8b004aea60307ffd633e1e816dd4f8d86113960581bbb506b4630cb87fdde914cdf0d0cef25cb7ad788784560d449dc4ee1c8237f8916197b5ea4f3094a30df8e2748301ffd05ad8397ba9d3c4b47ed0f68012cadb38aa90b8fa460d26b54ef8be02d33bea3a8fbc26844a4bb09ef602c0ce7b595d6e', NULL, NULL, '01a24a50-eaa8-7ebd-b028-82b166239562', '01a24a50-ed04-7305-8164-4aee456b7431', 'revoked', '2026-12-06 07:45:47.816335+00', 'superseded', '2026-12-06 07:45:47.421719+00');
INSERT INTO public.certificate_versions VALUES ('01a24a50-ef58-7603-b193-73ec1d4f6928', '01a24a50-ecfd-7a92-9e41-817c77cc1346', 1, 'd5dc2389cd00211c89ae88293a012bf0', '9d30a63bcdf2f2a5bd88af4cd8c160195c6fdc1c8d5fe63063291b42feeed1bf', 'CN=intranet.example.com', '{intranet.example.com,wiki.example.com}', '2026-12-06 07:44:47+00', '2027-01-05 07:45:47+00', '-----BEGIN CERTIFICATE-----
MIICyTCCAnCgAwIBAgIRANXcI4nNACEcia6IKToBK/AwCgYIKoZIzj0EAwIwLTEQ
MA4GA1UEChMHY2VydGN0bDEZMBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTAeFw0y
NjEyMDYwNzQ0NDdaFw0yNzAxMDUwNzQ1NDdaMB8xHTAbBgNVBAMTFGludHJhbmV0
LmV4YW1wbGUuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA5DD7
mKNNIicx+dMvXnWnTvVFFfV+TFogXN3EZXI+saEbz54DIz2pISTJe05RfcH6nWbm
BtrcOBy41+NdfaHfaHMuTJXwK3WyzGvKoQSp/W7lH9mxP/EJW6erQ9L6uyuar2dc
j6INGZjQvnbJu1GCYQldLsMf8/YyUFAoCEaXAqV+W5FhNt1n62p0pKI3L5D53v4w
x5vgCyxVtFlHGmv6lYsWHe6t+bJijKn7Wfmc0Ax9ywm0p6EH41AAZYgJGGvz3gks
6RmQ+wKyecG/8q6seKLczX+CUDa2LVgQ5VwiZuo+fK8YlgWvOX4nfL/v/1baEBh+
iRuyvwaQEiHs8VSOcQIDAQABo4GzMIGwMA4GA1UdDwEB/wQEAwIFoDAdBgNVHSUE
FjAUBggrBgEFBQcDAQYIKwYBBQUHAwIwDAYDVR0TAQH/BAIwADAdBgNVHQ4EFgQU
uXDEx7v2xXTYfaXs8qrrFHY342wwHwYDVR0jBBgwFoAU83tkuw0b1Tjq7nSTlAT0
WONKotwwMQYDVR0RBCowKIIUaW50cmFuZXQuZXhhbXBsZS5jb22CEHdpa2kuZXhh
bXBsZS5jb20wCgYIKoZIzj0EAwIDRwAwRAIgZeTdUrWEluvz6wtdpHlMDVhhCGgk
IzHhjQ5szp4bhIQCIE4oPveUXglBQHydObYpMhM69SDMIebZKWAEK/V36m/c
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE-----
MIIBnjCCAUOgAwIBAgIQZHyMd6XgDTBnahJ0F9rgMjAKBggqhkjOPQQDAjAtMRAw
DgYDVQQKEwdjZXJ0Y3RsMRkwFwYDVQQDExBjZXJ0Y3RsIGxvY2FsIENBMB4XDTI2
MTIwNjA3NDQ0NloXDTM2MTIwMzA3NDU0NlowLTEQMA4GA1UEChMHY2VydGN0bDEZ
MBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABAw1Q4AM2uzjecfK+owEFXMN15B9Z+7FwJvwK8P8j8WWchcl61o+ZLhHvIpU
rlaIO1KAjl1PPBYBqgvCiS1EEu2jRTBDMA4GA1UdDwEB/wQEAwIBhjASBgNVHRMB
Af8ECDAGAQH/AgEAMB0GA1UdDgQWBBTze2S7DRvVOOrudJOUBPRY40qi3DAKBggq
hkjOPQQDAgNJADBGAiEArqE9nyNmkLgJMf1q0NdKf9h7F9eMbQrAZu1n+QdYU5QC
IQC4fGSthRJ+jPWKQgpsRg18aRx0L/anSZLMhp0jrGsWBA==
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE REQUEST-----
MIICqDCCAZACAQAwHzEdMBsGA1UEAxMUaW50cmFuZXQuZXhhbXBsZS5jb20wggEi
MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQDkMPuYo00iJzH50y9edadO9UUV
9X5MWiBc3cRlcj6xoRvPngMjPakhJMl7TlF9wfqdZuYG2tw4HLjX4119od9ocy5M
lfArdbLMa8qhBKn9buUf2bE/8Qlbp6tD0vq7K5qvZ1yPog0ZmNC+dsm7UYJhCV0u
wx/z9jJQUCgIRpcCpX5bkWE23WfranSkojcvkPne/jDHm+ALLFW0WUcaa/qVixYd
7q35smKMqftZ+ZzQDH3LCbSnoQfjUABliAkYa/PeCSzpGZD7ArJ5wb/yrqx4otzN
f4JQNrYtWBDlXCJm6j58rxiWBa85fid8v+//VtoQGH6JG7K/BpASIezxVI5xAgMB
AAGgRDBCBgkqhkiG9w0BCQ4xNTAzMDEGA1UdEQQqMCiCFGludHJhbmV0LmV4YW1w
bGUuY29tghB3aWtpLmV4YW1wbGUuY29tMA0GCSqGSIb3DQEBCwUAA4IBAQCH5MtC
md7CsDdXFVnkYHZ+5aTpfo6t3AtyPhshnwEog0J441Gf8KuQg9AzBpFZhWn2TWh2
1RPuip5uybfMeNzEv9OKnOjb4zoE1TcK10zjI1lsapKKRTJfsJ/l2QBiCoPeTMH4
Xabs9dubSERh9Vge7gFCu+YpmN6qXF9YbQnAvS8hZa/7VHHBVqlJrogJCIAu+uqh
MCy+wBXDRghf/v7h3tu1ppnrBm7C6VvBej8Dq3BDa8fUhr4sox5AdWKU12QzU50B
R8JpVsjiB8/j2+kAU+3lhMA3QDHYqzbAHwWfZKjY/Bk0mAZrDd/c/KsT4PZg2KDP
07ky0q2EvrjUAfGk
-----END CERTIFICATE REQUEST-----
', '\x02ad7a1a3f4de3b3c39a29ec9240e4f7a257446816ee831bf19afe2864ed6aefe76767786a7ae90f52119c1c5eeecbde3c890d25e091bf853b963bf1c7ae474d05275d053c35bdceb55df519ed44b527b603d64441122920dfeb96b34a84c99dc16d254ebc5559fc513c94c782733e88909b1ee43d304312acbf51a24993c5321d5560f7c55c8a0ff73e233482e902f5f717f4ab16a50ebebc521395c84771f6bb0759a60b1f1189d1e445420280d14dd91230c7ce1ac4103c2e6c3408a0b1dd1c6611d520b789d76abefc153c3156f33c6fbadaa65e707eac7815b158ab1895aee2168bccfeed4d2737930cb732ddf45778780823935ad4c60e00d0d6813eb2f030ce750b4016d13d61ceafd1726877fb50a06c622224d6801d693a5afe207c9cf52393df735099c0c8bcea4a0588432855cd6ea3d947e44475f927966535ae48eda60b755f507bef11dba00eab91a021f691620f31a87fcd66c6eaaa88d9e4e80cf45d736a8f2563d88d5a0358f58bafaeada6c15add1e316dfe84702feaed21f7ff226134d22cc7d1c6f8c0de1e18691c5253ccfad1e66e9428cfe81f24f2bbfbfd0dbeaa9f3a10e84cc6fc6ed2f340f81bdbd6a54127ff87152ca0465548c6d77498ba4d36576ecb9ee7f7f6ef3ad6a8fcb1a0f10bc8efe4257c5cf4511d9e7dfb1f775e18387eb82737e6196dfd7f06ef036c008f95836a571a6e9b15817c53e54fb26e0f1715f221cc890dfa5e1f65d5b87ebd6c9b5997b31ce96931deb1bfb9e33ae6b9b53e998fce735a9318a63d95c393e5fe8bcb8fa75e4c5f57f7abb02e600c45e062ab6b144552783e224c6062803c0d0c59baba605a877ac016192ccad3c96724676ffc09b659753ee3ea52e4809126cdec2b283ab9782705322394a6cb32db8bbe3948315f72517f3c58acd9f1e118e9389c8b371ce207eebe3b243dff6cb58a4f23192cac72eecf2c2dcae19e65fcaf08c275fb10795c2778c39d839594eb580195cdb131f2dac245cd43cdba63ee549b9027b5c5b00a6de160d861b8e70bfdc7f377ba2e2046249693e08fa260f7865daf8ba15bf531f23edecab6822acfe04cad5e855c635b92d3f79972cf107c8f43d331993e6c5eb89b118352ee59d6932f07ce9d7e46fa690743821a7301358ffeb93bec7ba44b9275722ea92562402c3492996be3e69afc8c38cdc894309acb141bd9cf06d82b5e81972725010699f5aba0ff3c540acd6ec5c6a88c8fa1dc46172e4526360a62e9567305e3059a0e9613caf2cbe5e88171b9f67208037e51fb67a5fa6e1d0ad2a28b3f4de74acfc5091c1056700121c882e5788b72faa1d851de5ed9ee66a6002b3331407651c4ac108e55643cdd9a0d479052e432071899f0dc53415ae04e3ce4e9aa0f1ae6fb17f2546152f8ec777897cf79e26a902f46789ff608854124d5823ffa2c1aba477cad9ebe5f1b7e891f12507dea154fda7fa4f75751e440feff06349a74cebf478e64d2a2166e062bf8bc62d0ddb9070624a71bec15ce0f3143e8aa11d5652dfeda569a77703f20edcbfb0a208e40d43ebc61921d58a4d82bc733d27a1de72621fee8a119172e5d8756a909cc313c197ff9069d5d606cf66d63ee31765faf7a12dec941abf4932dbd684d5644807e47f170199922bb4442a20aef8c787f263e579cafce9e6640b9d2ceb15f7fcdb3399218fc9a136c73bdb80d26b87cd593b0efa070cf93bf6410b7f9c04c4a0066ad3e2db3bea5e84b60648a685584a5938aa1e1dbfd7f922b9e958be0f435e1980088a9a57da980fab8ab998764a68e9bac9ca849214cfaf0e501096b01b846dee7dafd17a5507bd9669d8d0cce95c608d5ea21748817150cdece96387bdb78591e7a4ba328e6fae4d40ceba548928b871cf02d2a62cecf82939d1dbb77d0b556c1744c323304bba1476ccb4c51395d9afd7e53429226eb9b2b0e1b5ac08ac3747dd3e3535329441734b3f548ac2578f9bb43e99dbddf225e9c166ddfcaad70b06c515861a04c086f6954e3874af7cfa152dbc5200450fad0599451c68453fe6cde486e1b8f99aafa1cf603cd79104e5497b8096f7952889f65d40a9b8699dedac5c3a01c7c2d0959c6e8899ab3bf9bf4b57a519ad2c60b875748d400e3b43f5ee38af861f9f29a9619fc39418b31e1080ee0873162116518214b90ef83117f3a0b32cec9c764072bc02f66679c847a8c65859cf5d0573046d9166d897e1dafbf48bccda756cd23ecaf7851b4087d6354e3538325aa8a57513c61f13bdc17d66e996cb66f04936c48d42f35ff1ea7fc8a06367b0ec3e54d72bb08854609c09f26aac3306bde8db3de4e2f7683dfc18abfbad30496cf0b1924648d29fdfbe8fbb6e10c4f3dfc6f09713ffcbeaca6b4459694551005fcd65aec39293cbfa8a83501134b07ae66e93e6e14dbd6c45aea6958044807a42234', NULL, NULL, '01a24a50-eb63-7c7b-a377-56cd5030af04', '01a24a50-ef0d-7469-b82a-ae2a7cdab0ff', 'active', NULL, NULL, '2026-12-06 07:45:47.86445+00');
INSERT INTO public.certificate_versions VALUES ('01a24a50-ee5c-7318-bc2e-0ba67f3e8550', '01a24a50-ecfd-7a92-9e41-817c77cc1346', 1, 'ef736f0f3d8aef5aa9c6d5f60383cf93', 'c42172a3be56f70544ef9b5e08eb259baa3ae688caead41d562e6241424f700e', 'CN=intranet.example.com', '{intranet.example.com,wiki.example.com}', '2026-12-06 07:44:47+00', '2027-01-05 07:45:47+00', '-----BEGIN CERTIFICATE-----
MIICyjCCAnCgAwIBAgIRAO9zbw89iu9aqcbV9gODz5MwCgYIKoZIzj0EAwIwLTEQ
MA4GA1UEChMHY2VydGN0bDEZMBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTAeFw0y
NjEyMDYwNzQ0NDdaFw0yNzAxMDUwNzQ1NDdaMB8xHTAbBgNVBAMTFGludHJhbmV0
LmV4YW1wbGUuY29tMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAoRxr
PgvkQ1dk0kAkYgPEFkfAbFVyZ96a0VZV4KdXVkIObYIchHD3rukYtpFQksNb2e5C
w7k2WeYhEr6JUOlowy1hmpn6esN6vMujeAyw02ihqpLf1l5WFSHp+02cnY1Gl9zm
Xx7kJMQvyR7nK9DWHCmHmVwL6UNrWtbD1WdpiuwHkmJfTCe2LP+3mM4SEXIM1zQU
trEXHu9KO+dZ2IjVdIIBKGadXGYq8QFNrTM0aUcxOzveGsmWyd9XxSspo5UdVsJi
BdzuL1iv9FhTpeKFromA9Df5yKpKvzGVh8yKN7pnGUU+YZItkJD2bOpr4ABhopu1
EBdDb2AQX4R4tUp72QIDAQABo4GzMIGwMA4GA1UdDwEB/wQEAwIFoDAdBgNVHSUE
FjAUBggrBgEFBQcDAQYIKwYBBQUHAwIwDAYDVR0TAQH/BAIwADAdBgNVHQ4EFgQU
FwHFp7v2cl4BRTOkTvX/e00QyywwHwYDVR0jBBgwFoAU83tkuw0b1Tjq7nSTlAT0
WONKotwwMQYDVR0RBCowKIIUaW50cmFuZXQuZXhhbXBsZS5jb22CEHdpa2kuZXhh
bXBsZS5jb20wCgYIKoZIzj0EAwIDSAAwRQIgYL5gtlE42DQm7jFauBti8L7AxyNg
CSp94Zl/Q5WicSgCIQC2+EKia/OBtirIuA7kfEPj2Cjp1GB4rIExnHOXPGBeBg==
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE-----
MIIBnjCCAUOgAwIBAgIQZHyMd6XgDTBnahJ0F9rgMjAKBggqhkjOPQQDAjAtMRAw
DgYDVQQKEwdjZXJ0Y3RsMRkwFwYDVQQDExBjZXJ0Y3RsIGxvY2FsIENBMB4XDTI2
MTIwNjA3NDQ0NloXDTM2MTIwMzA3NDU0NlowLTEQMA4GA1UEChMHY2VydGN0bDEZ
MBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH
A0IABAw1Q4AM2uzjecfK+owEFXMN15B9Z+7FwJvwK8P8j8WWchcl61o+ZLhHvIpU
rlaIO1KAjl1PPBYBqgvCiS1EEu2jRTBDMA4GA1UdDwEB/wQEAwIBhjASBgNVHRMB
Af8ECDAGAQH/AgEAMB0GA1UdDgQWBBTze2S7DRvVOOrudJOUBPRY40qi3DAKBggq
hkjOPQQDAgNJADBGAiEArqE9nyNmkLgJMf1q0NdKf9h7F9eMbQrAZu1n+QdYU5QC
IQC4fGSthRJ+jPWKQgpsRg18aRx0L/anSZLMhp0jrGsWBA==
-----END CERTIFICATE-----
', '-----BEGIN CERTIFICATE REQUEST-----
MIICqDCCAZACAQAwHzEdMBsGA1UEAxMUaW50cmFuZXQuZXhhbXBsZS5jb20wggEi
MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQChHGs+C+RDV2TSQCRiA8QWR8Bs
VXJn3prRVlXgp1dWQg5tghyEcPeu6Ri2kVCSw1vZ7kLDuTZZ5iESvolQ6WjDLWGa
mfp6w3q8y6N4DLDTaKGqkt/WXlYVIen7TZydjUaX3OZfHuQkxC/JHucr0NYcKYeZ
XAvpQ2ta1sPVZ2mK7AeSYl9MJ7Ys/7eYzhIRcgzXNBS2sRce70o751nYiNV0ggEo
Zp1cZirxAU2tMzRpRzE7O94ayZbJ31fFKymjlR1WwmIF3O4vWK/0WFOl4oWuiYD0
N/nIqkq/MZWHzIo3umcZRT5hki2QkPZs6mvgAGGim7UQF0NvYBBfhHi1SnvZAgMB
AAGgRDBCBgkqhkiG9w0BCQ4xNTAzMDEGA1UdEQQqMCiCFGludHJhbmV0LmV4YW1w
bGUuY29tghB3aWtpLmV4YW1wbGUuY29tMA0GCSqGSIb3DQEBCwUAA4IBAQBjqsct
EnyPvcElrs/M/nAJliVwKC2ZqMpinJaKV1H9jCF7A83T6/CQTQrJMOrpVZ1b2hSJ
3XS/eazhhCoKHAbS3XdhP1GwHCNvzleSvQ6OK/coazy7H5OEP4LkOJCB1VtCPDBB
Yr6ZuHeIQO78txVq+ripeQCgvatPu1DB1F42L9rdPsr6jbU8x9ip2S3uFgC5Rg2m
25Y3+DBP04h8+mYmeWGb6hPQVkq3FejFYdKfH6h4svcRhCOxyIBK0JSzjjKE9m3V
HgqePkIBGzUmSE49Yb6Eazf9g19yAkHjvmBNQWhPIRFD2YezabWHbu9HGWRJ8jzS
jpWlzjCn6RmAmqV6
-----END CERTIFICATE REQUEST-----
', '\x02ad7a1a3f25621dfcc5edbf1e9adaefabc7ba790bf2aae592f3c6367e62209e88af8f7125567f69c02aa09905e18e73ba7024d2c396ab4fc811f853b5acf3e4e467cfe2c3ba10909f4a67d94cb41ce5688915a454419c5d27146bbdcc241ec7d967e22b23240f8a45d5467fab77b8b7c72c25a1f51738583c772766a83e71d4425db1bbf94707e4c66cda46301e92b9b2e917a8959947a76e2ef5ca9ed1fe3229a059891d6a7c94469b55d7364224f5955fd4815d8deca320b913ab3cbb547cb0526f6105b2647c44e116f424e0514cec371c52e2acde48ee74795adcfdf2de68983f9495416e4097431fd177e7e2b0003356186621503e8889125cc78f8981fa6d57fd7e60ff4e40d838ee8344e0152422587593dd16c013d9d990d5faa88eddf0e8cfef99b21396c322ca5447f7b44fbc33f89d727450513be4bc482a2229515738b4ba262ab7f2dfe74aaa54dafdc4b88c99bdfe097dcdcc9273d866dedc42b677a98626629883d2a2aa5fddbe71ebebefe28ac0e826f40679cfcde8a83f8ef5967c259a2a6b1e8d0fefb4fa403ec58e5a78b4312001cf1988b51009ad9fc148da31840749c88bc55bc4c128127e68a68bddf674781cc77a94f29811eac7bed83d3c36a4b5524656afa9130a8d3896690fd8bc670dd584db02bc244083dd3233d1446edc34b5c6d01a759c4ae116f4353418f850a15aa30bcdf5f571042c877de450106107b1135fbdbddb4aa5592bb0ecabc7a91e84e4c0cb80f1ace7fc51f290bbbe61ed6e5e7989e6d06c5f14258667670a0fdd6f1f0ea8acd8b48eda62b18c90a3d9726add10e46319c01aa53d847f93604d2027ed3f0da205d65abaeba1296ec0aefcea9ea03694e575c4a190241616ca066c5e37d254250104e9acaef5abb9865afe98316bfd02f3cd4f1552d9c435879cc51cf5a0bd6d6b1047043147a83fe7e1eeae1bbfaf8b3e05f5fe50d362e439ee1f87fc0c60e7ace289dab3fc4d9dd6fd11eb3b01db4cc10ebcf347159e071e295162df9a08f20aaf5ae68a74026c1031e2058e9e38ec329d7d3223699559eeeecb179cac80a880b766727de2b70fa37490c5e5625ef70f0678419f1d84f16c18c85ffe640b7d5cec616129b88cbaa5cb26f9c2f8c368f0f8e186a7c9d141d2fdf1b41e15f79970c088a8fbf5d103a2f73517290e2b1f1d426df5ed6feaf5174685d2e24f126a5fa7b68c6e58ed85178bbe6fb9921c157ba1a765abc93939615b6eee597185ed2078da40bf2f6aa8a7364055a3539b8dc431f1a32b0010cd6fb0e044a5c05f171b1d98894bcde5f83b213573ad0f08924674093614fcd6c0cca27aafac5afffcb9a4e2f7d34443fa02de532b5505d94e6520eb1e3633cc7eb7395da678d069ed1d92c99d166a19a2d2c750bc4f5498778ca196fdeef0545e3c7e319dd160e7541db15c81559adf4dbb5284af66b35172d2e9f0c433052a7cbec7b513126eb22e54ac1cec4a08e4fdacfc3b5bc58467d79796572ff26beda9bf5a46ff30377b2830586be9cedc9c9dc68ff222839868c7ffec8ea373a10f493959549644826ee9a3d9605f44874d4d67f4698a8e1cb12ea8c3b592b20f3fd67e49101f2ef625ddf12be6c7d1e54650e53705926c662c45aec4ca2500f87e239cc0c5891a3feb468da2b5308c4c05263d924634c498f75d3dcc313d36e6a5159507ddf4e3c9a8bdaa4e621f7673ce4bc4ba7400e399aab75fd1c5b93cfda550a2450e18c19660d15469d08ba44dc6aa637425f0419ade0197aec84555d6ade4329cf67c62e98db26dc184ce15daee1b5b917d117d9b6b13ef4b050428be7ae73598a03b192820d5765fade7afd675eea07f3fae9dc05e019b47739650ee14cec6930cd7cda15cac314460028648c2e9fb3c135686b1021325e375a8d1dab7c64f4dd65b564bb41b456a62751d5fa734be366c098b7b5af228a3680743a739e2c4885454aba8309ae3fd4d24fa1f116021feb6c5404b6b1898227302bcd84892a04d9052b5641fdfe68208c659b5a6d4fff4c526921edd28e85d182fa7c1f47c2aee5db689a11cdb4f12b841f498c71da43119ce5735d6af16f0cbe36f5654a3f0450f6f5ee27fa5ccf658acf734c9bd86c6f2fb52e054698878c68a816079d556bb26733a05ffb325503450c20f768cdc6dc3c00f8bb1dba1457e889c28ada78291562a161d542b2e54440f9e022406b420c77fa4e9a04744c4648a98be6bfd114897d885ef7ab63f34c6148e46a28fe6a02b11d6ba9a739787f3ea37151fbe454c578c598beb43a1321929b5ab72bf6535e2e9823f8da450ac225a4dff30db29ac83a2bf20489ce67a6613032b32e6b4d33d3a81895a517a13602368f0f84228ac0a20d7744e64e6b9c5487f547314be18f54eba1fa9161c69e78ee4e86b25bf093d0bd2d8855f43d7cf09d9aa372a775c004bab', NULL, NULL, '01a24a50-eb63-7c7b-a377-56cd5030af04', '01a24a50-ecff-7149-828a-04a428067683', 'superseded', NULL, NULL, '2026-12-06 07:45:47.612216+00');


--
-- Data for Name: console_sessions; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.console_sessions VALUES ('\x6bead57c5c25d2c7d08d7bb934788505ec0f47979d0e52133d0ba1e30a6f410e', '01a24a50-ea99-757d-8f51-cfcf5666f387', 'G1539iXoAoKdkJaIn-oGcOk-X_XHLZ9fTVTSVprq8lI', '2026-12-06 07:45:47.022308+00', '2026-12-06 19:45:47.022308+00');


--
-- Data for Name: crls; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.crls VALUES ('01a24a50-eaa8-7ebd-b028-82b166239562', 1, '2026-12-06 07:45:47.885089+00', '2026-12-07 07:45:47.885089+00', '\x3082013b3081c1020101300a06082a8648ce3d040303302d3110300e060355040a13076365727463746c31193017060355040313106365727463746c206c6f63616c204341170d3236313230363037343534375a170d3236313230373037343534375a30323030021100e7687c54fe95952156f3bb1a44cae626170d3236313230363037343534375a300c300a0603551d1504030a0104a02f302d301f0603551d23041830168014e5142c394ee3470cdb493446f41974e0e0fa6fcc300a0603551d140403020101300a06082a8648ce3d04030303690030660231008fa79dcc11d6afec11113f960801e5a2eccb01a7cb0a6437231357c311d6f0a6a2111c44cdacb6cded87cef0a25adaef023100ff833a19bbe404aa7f3b86a628e61d79170e031e85c6a770d27814714606c8f43b60700d761fc71b18ba9dc08a8764b2', 1, false);


--
-- Data for Name: deployments; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.deployments VALUES ('01a24a50-ee44-713b-a7fc-c11e2bcc1a90', '01a24a50-ed25-74b1-b325-2340b5b8c263', '01a24a50-ee44-7009-ac58-9026e400814c', '01a24a50-ec5f-7f34-9ee3-cf9edd716466', '01a24a50-ec4b-7e13-88df-8463f1535c40', '01a24a50-ee44-7137-97be-955b264847d8', 'failed', 'nginx -t: certificate file not readable', '{}', NULL, '2026-12-06 07:45:47.588053+00', '2026-12-06 07:45:47.909773+00', '2026-12-06 07:45:47.909773+00');
INSERT INTO public.deployments VALUES ('01a24a50-ee5a-787f-ab9e-11356bd74a79', '01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', '01a24a50-ee5a-77d9-94dd-7a0598dad618', '01a24a50-ec57-7eb1-bb12-4166647c328c', '01a24a50-ec4b-7e13-88df-8463f1535c40', '01a24a50-ee5a-787b-9a02-de7d1b1852b5', 'succeeded', 'nginx reloaded', '{"served_serial": "bf063ec86c4982e53cdf21aa32b6ae58"}', '2026-12-06 07:45:47.918318+00', '2026-12-06 07:45:47.610532+00', '2026-12-06 07:45:47.918318+00', '2026-12-06 07:45:47.918318+00');


--
-- Data for Name: enrollment_tokens; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.enrollment_tokens VALUES ('01a24a50-ec1a-75e6-9cf5-b74576127d8f', '\x0cf7160e518d06c1664bca5d408898acad311565f55def45abe6f56c5f07adb3', 'cce_DxStj9PE', NULL, '{}', '2027-01-05 07:45:47.034386+00', NULL, NULL, NULL, 'bootstrap-admin', '2026-12-06 07:45:47.034386+00');
INSERT INTO public.enrollment_tokens VALUES ('01a24a50-ec1d-7367-8c03-fd5fcc8dede7', '\x882ac31f8fb67105fc0a8966206e0c485654b083a0ca5d2ce2bbc16711936aa5', 'cce_kxG-bXs-', NULL, '{}', '2026-12-07 07:45:47.037222+00', NULL, NULL, '2026-12-06 07:45:47.039119+00', 'bootstrap-admin', '2026-12-06 07:45:47.037222+00');
INSERT INTO public.enrollment_tokens VALUES ('01a24a50-ec13-72de-93ed-23ed5f8663e9', '\xaff30dd3788745f0be09f2a63071448de2b57dff60f371aa62fcf30a3bba0b36', 'cce_rBhX1rtW', 'web-01', '{"zone": "eu"}', '2026-12-07 07:45:47.027187+00', '2026-12-06 07:45:47.083919+00', '01a24a50-ec4b-7e13-88df-8463f1535c40', NULL, 'bootstrap-admin', '2026-12-06 07:45:47.027187+00');


--
-- Data for Name: http01_challenges; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.http01_challenges VALUES ('01a24a50-efa0-70de-afce-e7cf266aeeda', 'fixture-token', 'shop.example.com', 'fixture-token.thumbprint', '01a24a50-ec4b-7e13-88df-8463f1535c40', 'pending', '2026-12-06 07:45:47.970703+00', '2026-12-06 07:45:47.970703+00');


--
-- Data for Name: issuers; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.issuers VALUES ('01a24a50-eaa8-7ebd-b028-82b166239562', 'local', 'local', '{"validity": "90d", "ca_key_type": "ecdsa-p384", "ca_validity": "3650d", "common_name": "certctl local CA", "max_validity": "397d", "organization": "certctl", "ca_certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIB2zCCAWCgAwIBAgIQZl4HBRiwoeHmRduotG5nrTAKBggqhkjOPQQDAzAtMRAw\nDgYDVQQKEwdjZXJ0Y3RsMRkwFwYDVQQDExBjZXJ0Y3RsIGxvY2FsIENBMB4XDTI2\nMTIwNjA3NDQ0NloXDTM2MTIwMzA3NDU0NlowLTEQMA4GA1UEChMHY2VydGN0bDEZ\nMBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTB2MBAGByqGSM49AgEGBSuBBAAiA2IA\nBJ2h363w5jXxFJ1zzzMT84gFglmNzmXUPeA+d8UIAMRq0AOWwChJNg5fYCBmBth1\n/zHYENM3cVYdrWDf9JmxXarziUfR9KsraxLCQ5xbVTN5U9/97oZe2l9kWcFLucbu\nZaNFMEMwDgYDVR0PAQH/BAQDAgGGMBIGA1UdEwEB/wQIMAYBAf8CAQAwHQYDVR0O\nBBYEFOUULDlO40cM20k0RvQZdODg+m/MMAoGCCqGSM49BAMDA2kAMGYCMQCh1m3F\n04aj4vCvt8OIS9LEQvoiJ5hxP9JBrnWcRV+ghGN0aRNIoT9EYPI67RsycGECMQDO\nQcGe/UgzOxq7+uQQpqjhPK8an4Y4r9ripmuMKTQM2R4Y9xrZSOqPZDdbkIyw/NQ=\n-----END CERTIFICATE-----\n"}', '\x02ad7a1a3f806e9eb2e3a6c8d1667cab1e84e8368fee3abd547333ac3c8b663488c08d699d3fc0441b1db677b6da8c0ef4e8112ee49c2e3e22e3d7372c28153a1bf56b2ed955f4a0c4b73c6d92917ae1eb5a24da6a70e0c82023ba3ee3e3732d029d030ff74c2ef8fc680f4b14588ff8aa5e0a6fdebf5b292789247240b2036f58af92e8e7b47716b6f53755f97033be2eee80de5283b22cc1c3b593fc93bbc9dc8987cc7b6741ef0de81a5a6d15f83dff63d1dc834e24fff6ef65073f1a1689c92c6936a180be152a8ec90be7c9a9e310663d47690f4f45835535dc61ac095c8e94d7c0ac62781cf3875aa7f48da960eb5489e6ea3316940132f377c77d4b2347c2113fbe5b8a384c1f4fedde5c0b954a54d3c27fce27d82bbcd5a26a53cd55656886331c74819c1b413d6f0920220c12f9e1a02192360d73b330784dd7a0e52ecc449bf4e3e9b78316d0ab32aa099f10df14d4a63a77b43aa8ab78de07007c15cc0006dffdd12ad1940677b463b31a17e4', '{ca_private_key_pem}', '2026-12-06 07:45:46.843037+00', '2026-12-06 07:45:46.843037+00');
INSERT INTO public.issuers VALUES ('01a24a50-eb63-7c7b-a377-56cd5030af04', 'p256-ca', 'local', '{"validity": "30d", "ca_key_type": "ecdsa-p256", "ca_validity": "3650d", "common_name": "certctl local CA", "max_validity": "397d", "organization": "certctl", "ca_certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIBnjCCAUOgAwIBAgIQZHyMd6XgDTBnahJ0F9rgMjAKBggqhkjOPQQDAjAtMRAw\nDgYDVQQKEwdjZXJ0Y3RsMRkwFwYDVQQDExBjZXJ0Y3RsIGxvY2FsIENBMB4XDTI2\nMTIwNjA3NDQ0NloXDTM2MTIwMzA3NDU0NlowLTEQMA4GA1UEChMHY2VydGN0bDEZ\nMBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTBZMBMGByqGSM49AgEGCCqGSM49AwEH\nA0IABAw1Q4AM2uzjecfK+owEFXMN15B9Z+7FwJvwK8P8j8WWchcl61o+ZLhHvIpU\nrlaIO1KAjl1PPBYBqgvCiS1EEu2jRTBDMA4GA1UdDwEB/wQEAwIBhjASBgNVHRMB\nAf8ECDAGAQH/AgEAMB0GA1UdDgQWBBTze2S7DRvVOOrudJOUBPRY40qi3DAKBggq\nhkjOPQQDAgNJADBGAiEArqE9nyNmkLgJMf1q0NdKf9h7F9eMbQrAZu1n+QdYU5QC\nIQC4fGSthRJ+jPWKQgpsRg18aRx0L/anSZLMhp0jrGsWBA==\n-----END CERTIFICATE-----\n"}', '\x02ad7a1a3fc22eac163ceb17a5e766ab4e91084682c8155c7692809048ee47f5db079b7b14ceb956790d09791ebc54535ea6337f21f82a42ec6208abeef3286a35a18c58293394d724fc621cbec97476ccc161f7e666c00ec1b8a3c0da8c0c56562fd1cac5dc30c81535d63f6f2b8bdb08fb85bdb6ab67b4d73aa50e9834c042980224d2500fa4242f531dd915b88c98576e5aab488b9394b05a6b080f18c0294e1bd47df9cb40f2d370662cbf0d3cd080303e23e0cc3f17f68753e0d9e69fad6f08dda513866d84c277af9d55e92c18a5a7c1337d6072f7f31e1f665d68d434234af5aa72e940a5138b663d6d8b717883e80ef30b69216747aa9a1a8cd1f78e2907a8f36a6c64db055c109b8446dee8da12eb84459dc66c42997956d4dab17e5582eb9fa0c997ef37cb3ed2b44b1e03', '{ca_private_key_pem}', '2026-12-06 07:45:46.853738+00', '2026-12-06 07:45:46.853738+00');
INSERT INTO public.issuers VALUES ('01a24a50-eb67-7864-a581-e0e7434d5fae', 'narrow-ca', 'local', '{"validity": "90d", "ca_key_type": "ecdsa-p256", "ca_validity": "3650d", "common_name": "certctl local CA", "max_validity": "397d", "organization": "certctl", "allowed_domains": ["example.com"], "ca_certificate_pem": "-----BEGIN CERTIFICATE-----\nMIIBnjCCAUSgAwIBAgIRAMMnKC3FLJXDzGuxpXwnLaUwCgYIKoZIzj0EAwIwLTEQ\nMA4GA1UEChMHY2VydGN0bDEZMBcGA1UEAxMQY2VydGN0bCBsb2NhbCBDQTAeFw0y\nNjEyMDYwNzQ0NDZaFw0zNjEyMDMwNzQ1NDZaMC0xEDAOBgNVBAoTB2NlcnRjdGwx\nGTAXBgNVBAMTEGNlcnRjdGwgbG9jYWwgQ0EwWTATBgcqhkjOPQIBBggqhkjOPQMB\nBwNCAARl3CHhmMTADg8AlQfQs8Z/QSPk+c2gBieM/zcyDLH/Ul49S57xMcx+HvPf\noDbZPh7Gba6EnrvFxvsKkPInriCYo0UwQzAOBgNVHQ8BAf8EBAMCAYYwEgYDVR0T\nAQH/BAgwBgEB/wIBADAdBgNVHQ4EFgQUX/OatnFAZOa0KV/60PGqE/8smrAwCgYI\nKoZIzj0EAwIDSAAwRQIgK28LlkbX4cFipnZxZj2+Mf1PNO+XOXMjatEsefHFO/MC\nIQCzir4Je+faIJK1/pfuGU18xxJUQVk7BJPFEl71jdBdgg==\n-----END CERTIFICATE-----\n"}', '\x02ad7a1a3f04f18a26b1b37f331a2c972e08ae6e1bbf641fc67120aaa496681711d14a5fe1b88fdacb6df6d1b71af545d0a910084be528eea168961e292e56bfdec2a39c0a8c280ff37bb87eba7f363b81e18b572baa7e7161df7186664a3e35695204992c097e0e7e12c6197da77161b557cfb738c7e2f230a6e10647593072fe7acf4fc000361166ce5ecf3a0cfecd3bcc23165b908f182abeba86635125ffc2749f25ac35d7a379cf48f032a5884ff0af57a73cd0c19355f6b184c238e4fcc2ec5019f182f25a6b65f91162d254d26ae2a9ed44b317cb34b70340a0eeeebad304e64fb5c5fea1d9421407e8ec44b9555784c41e62d380670f5d3e87b30c69ab42bd51f146ed928d106c4a85910cc562384677f82b916aae49b8385c206ebcd1e1303c161e047b0553f583a8c27bbc', '{ca_private_key_pem}', '2026-12-06 07:45:46.856771+00', '2026-12-06 07:45:46.856771+00');


--
-- Data for Name: jobs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.jobs VALUES ('01a24a50-ed04-7305-8164-4aee456b7431', 'issue', 'succeeded', '01a24a50-ed03-7b49-ba60-ef063f053293', NULL, NULL, '{"trigger": "created", "spec_revision": 1}', 1, 8, '2026-12-06 07:45:47.268196+00', NULL, NULL, '', '2026-12-06 07:45:47.268196+00', '2026-12-06 07:45:47.421719+00', '2026-12-06 07:45:47.421719+00');
INSERT INTO public.jobs VALUES ('01a24a50-ec7d-7837-a3c7-25b3b6f8ea68', 'issue', 'succeeded', '01a24a50-ec77-7577-9ccd-519b590d51af', NULL, NULL, '{"trigger": "created", "spec_revision": 1}', 1, 8, '2026-12-06 07:45:47.133533+00', NULL, NULL, '', '2026-12-06 07:45:47.133533+00', '2026-12-06 07:45:47.397002+00', '2026-12-06 07:45:47.397002+00');
INSERT INTO public.jobs VALUES ('01a24a50-ed0a-7b44-8e55-71892ec031b1', 'issue', 'failed', '01a24a50-ed0a-7503-bc1d-daac3b1d99c8', NULL, NULL, '{"trigger": "created", "spec_revision": 1}', 1, 8, '2026-12-06 07:45:47.611134+00', NULL, NULL, 'common name "outsider.example.org" is outside allowed_domains (invalid_input)', '2026-12-06 07:45:47.274737+00', '2026-12-06 07:45:47.611134+00', '2026-12-06 07:45:47.611134+00');
INSERT INTO public.jobs VALUES ('01a24a50-ed31-763d-aed5-e59b63e9771a', 'issue', 'succeeded', '01a24a50-ed25-74b1-b325-2340b5b8c263', NULL, '01a24a50-ec4b-7e13-88df-8463f1535c40', '{"csr_pem": "-----BEGIN CERTIFICATE REQUEST-----\nMIIBATCBqQIBADAaMRgwFgYDVQQDEw9hcGkuZXhhbXBsZS5jb20wWTATBgcqhkjO\nPQIBBggqhkjOPQMBBwNCAATu+sBo600oEzW0sRGlijPD8Q+685XaLWbUDzQnxf8n\nZxoZYxAeQ85LqJA/TAdEc/H9xIGo88NpgnaSxjXB4MNYoC0wKwYJKoZIhvcNAQkO\nMR4wHDAaBgNVHREEEzARgg9hcGkuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwIDRwAw\nRAIgf3SIx0QVQ6//GtM3q6owHVIz6FerJVqHWL3biFwuC9UCIG05GX4VnJ0d8liX\nHT+mqqGgv5jbsjX+4EK8BL+m5sYu\n-----END CERTIFICATE REQUEST-----\n", "trigger": "created", "spec_revision": 1}', 1, 8, '2026-12-06 07:45:47.33777+00', NULL, NULL, '', '2026-12-06 07:45:47.313402+00', '2026-12-06 07:45:47.588053+00', '2026-12-06 07:45:47.588053+00');
INSERT INTO public.jobs VALUES ('01a24a50-ecff-7149-828a-04a428067683', 'issue', 'succeeded', '01a24a50-ecfd-7a92-9e41-817c77cc1346', NULL, NULL, '{"trigger": "created", "spec_revision": 1}', 1, 8, '2026-12-06 07:45:47.263083+00', NULL, NULL, '', '2026-12-06 07:45:47.263083+00', '2026-12-06 07:45:47.612216+00', '2026-12-06 07:45:47.612216+00');
INSERT INTO public.jobs VALUES ('01a24a50-ed15-78c9-8eb4-14a19f896b92', 'issue', 'succeeded', '01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', NULL, '01a24a50-ec4b-7e13-88df-8463f1535c40', '{"csr_pem": "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAjCBqQIBADAaMRgwFgYDVQQDEw93d3cuZXhhbXBsZS5jb20wWTATBgcqhkjO\nPQIBBggqhkjOPQMBBwNCAAST04p2PQB8K9phDmGsPS4wGnLkr+kaLT3Bk3voULV9\noEdQdTSMCyDB92x60zR/ymDlRI9BSMkFaUK3ctmayl8WoC0wKwYJKoZIhvcNAQkO\nMR4wHDAaBgNVHREEEzARgg93d3cuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwIDSAAw\nRQIhAL+twqSSDxP69iifj3kqIeeJOLrRqJJ6C37syWYBdO++AiA62QOtmTLH8/CX\n1K4EGJdop4BE4AJlMyUXG2A4nhqX/A==\n-----END CERTIFICATE REQUEST-----\n", "trigger": "created", "spec_revision": 1}', 1, 8, '2026-12-06 07:45:47.328634+00', NULL, NULL, '', '2026-12-06 07:45:47.28557+00', '2026-12-06 07:45:47.610532+00', '2026-12-06 07:45:47.610532+00');
INSERT INTO public.jobs VALUES ('01a24a50-ed85-73d1-84af-afcc5b1aaee6', 'notify', 'succeeded', '01a24a50-ec77-7577-9ccd-519b590d51af', NULL, NULL, '{"trigger": "certificate.issued", "notification_id": "01a24a50-ed85-7396-ae5d-17eb0a664bf7"}', 1, 8, '2026-12-06 07:45:47.734737+00', NULL, NULL, '', '2026-12-06 07:45:47.3971+00', '2026-12-06 07:45:47.734737+00', '2026-12-06 07:45:47.734737+00');
INSERT INTO public.jobs VALUES ('01a24a50-ed9d-7ca6-b087-7d3b6539889b', 'notify', 'succeeded', '01a24a50-ed03-7b49-ba60-ef063f053293', NULL, NULL, '{"trigger": "certificate.issued", "notification_id": "01a24a50-ed9d-7ca2-94bc-85a5dee4692c"}', 1, 8, '2026-12-06 07:45:47.736627+00', NULL, NULL, '', '2026-12-06 07:45:47.421781+00', '2026-12-06 07:45:47.736627+00', '2026-12-06 07:45:47.736627+00');
INSERT INTO public.jobs VALUES ('01a24a50-ee5c-7425-af7d-77bbd893cf98', 'notify', 'succeeded', '01a24a50-ecfd-7a92-9e41-817c77cc1346', NULL, NULL, '{"trigger": "certificate.issued", "notification_id": "01a24a50-ee5c-741f-af0e-1ba34d98b02b"}', 1, 8, '2026-12-06 07:45:47.737994+00', NULL, NULL, '', '2026-12-06 07:45:47.612233+00', '2026-12-06 07:45:47.737994+00', '2026-12-06 07:45:47.737994+00');
INSERT INTO public.jobs VALUES ('01a24a50-ee5a-793d-ae23-9dc03b7a3a97', 'notify', 'succeeded', '01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', NULL, NULL, '{"trigger": "certificate.issued", "notification_id": "01a24a50-ee5a-793a-b662-03fc2ace9540"}', 1, 8, '2026-12-06 07:45:47.745738+00', NULL, NULL, '', '2026-12-06 07:45:47.61056+00', '2026-12-06 07:45:47.745738+00', '2026-12-06 07:45:47.745738+00');
INSERT INTO public.jobs VALUES ('01a24a50-ee44-72c9-87ec-e71f4c2a172c', 'notify', 'succeeded', '01a24a50-ed25-74b1-b325-2340b5b8c263', NULL, NULL, '{"trigger": "certificate.issued", "notification_id": "01a24a50-ee44-728f-9336-da637354bba3"}', 1, 8, '2026-12-06 07:45:47.750926+00', NULL, NULL, '', '2026-12-06 07:45:47.588086+00', '2026-12-06 07:45:47.750926+00', '2026-12-06 07:45:47.750926+00');
INSERT INTO public.jobs VALUES ('01a24a50-ef1f-71d4-9448-d872048bc68c', 'revoke', 'succeeded', '01a24a50-ed03-7b49-ba60-ef063f053293', NULL, NULL, '{"reason": 4, "trigger": "manual", "version_id": "01a24a50-ed9d-7a47-8c87-2c4e3b0eb81f"}', 1, 10, '2026-12-06 07:45:47.816335+00', NULL, NULL, '', '2026-12-06 07:45:47.807116+00', '2026-12-06 07:45:47.816335+00', '2026-12-06 07:45:47.816335+00');
INSERT INTO public.jobs VALUES ('01a24a50-ef0d-7469-b82a-ae2a7cdab0ff', 'renew', 'succeeded', '01a24a50-ecfd-7a92-9e41-817c77cc1346', NULL, NULL, '{"trigger": "manual", "spec_revision": 1}', 1, 8, '2026-12-06 07:45:47.789285+00', NULL, NULL, '', '2026-12-06 07:45:47.789285+00', '2026-12-06 07:45:47.86445+00', '2026-12-06 07:45:47.86445+00');
INSERT INTO public.jobs VALUES ('01a24a50-ef58-7869-a3b3-08ae51fa0c0f', 'notify', 'succeeded', '01a24a50-ecfd-7a92-9e41-817c77cc1346', NULL, NULL, '{"trigger": "certificate.renewed", "notification_id": "01a24a50-ef58-7863-b5e2-0c83762e8c3c"}', 1, 8, '2026-12-06 07:45:47.882072+00', NULL, NULL, '', '2026-12-06 07:45:47.864501+00', '2026-12-06 07:45:47.882072+00', '2026-12-06 07:45:47.882072+00');
INSERT INTO public.jobs VALUES ('01a24a50-ee44-7137-97be-955b264847d8', 'deploy', 'failed', '01a24a50-ed25-74b1-b325-2340b5b8c263', '01a24a50-ec5f-7f34-9ee3-cf9edd716466', '01a24a50-ec4b-7e13-88df-8463f1535c40', '{"trigger": "issued", "version_id": "01a24a50-ee44-7009-ac58-9026e400814c"}', 1, 5, '2026-12-06 07:45:47.909773+00', NULL, NULL, 'nginx -t: certificate file not readable', '2026-12-06 07:45:47.588079+00', '2026-12-06 07:45:47.909773+00', '2026-12-06 07:45:47.909773+00');
INSERT INTO public.jobs VALUES ('01a24a50-ee5a-787b-9a02-de7d1b1852b5', 'deploy', 'succeeded', '01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', '01a24a50-ec57-7eb1-bb12-4166647c328c', '01a24a50-ec4b-7e13-88df-8463f1535c40', '{"trigger": "issued", "version_id": "01a24a50-ee5a-77d9-94dd-7a0598dad618"}', 1, 5, '2026-12-06 07:45:47.918318+00', NULL, NULL, '', '2026-12-06 07:45:47.610555+00', '2026-12-06 07:45:47.918318+00', '2026-12-06 07:45:47.918318+00');
INSERT INTO public.jobs VALUES ('01a24a50-ef8a-7dbf-b10a-4e593efcca07', 'notify', 'succeeded', '01a24a50-ed25-74b1-b325-2340b5b8c263', NULL, NULL, '{"trigger": "deployment.failed", "notification_id": "01a24a50-ef8a-7db8-aa93-74fe76525956"}', 1, 8, '2026-12-06 07:45:47.931332+00', NULL, NULL, '', '2026-12-06 07:45:47.9149+00', '2026-12-06 07:45:47.931332+00', '2026-12-06 07:45:47.931332+00');
INSERT INTO public.jobs VALUES ('01a24a50-efa0-70de-afce-e7cf266aeeda', 'issue', 'running', '01a24a50-ef9f-74e1-a420-d8c17bebc7f8', NULL, NULL, '{"trigger": "created", "spec_revision": 1}', 1, 8, '2026-12-06 07:45:47.936055+00', 'replica-that-died', '2026-12-06 07:46:47.96142+00', '', '2026-12-06 07:45:47.936055+00', '2026-12-06 07:45:47.96142+00', NULL);
INSERT INTO public.jobs VALUES ('01a24a50-efbf-7b1f-a5ee-4cd30aa7ed89', 'issue', 'queued', '01a24a50-efbf-74d3-ae4f-af06a6211ef7', NULL, NULL, '{"trigger": "created", "spec_revision": 1}', 0, 8, '2026-12-06 07:45:47.967727+00', NULL, NULL, '', '2026-12-06 07:45:47.967727+00', '2026-12-06 07:45:47.967727+00', NULL);


--
-- Data for Name: managed_certificates; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.managed_certificates VALUES ('01a24a50-ec77-7577-9ccd-519b590d51af', 'billing', 'billing.example.com', '{}', '01a24a50-eaa8-7ebd-b028-82b166239562', 'ecdsa-p256', 'server', NULL, 'active', '{"team": "payments"}', '01a24a50-ed82-7193-9e51-17c7f1600054', '2027-03-06 07:45:47+00', '2027-02-02 16:39:56+00', 1, '', NULL, '2026-12-06 07:45:47.127353+00', '2026-12-06 07:45:47.397002+00', 0, 0, 0, 0, 0, '', NULL, '');
INSERT INTO public.managed_certificates VALUES ('01a24a50-ed0a-7503-bc1d-daac3b1d99c8', 'outsider', 'outsider.example.org', '{}', '01a24a50-eb67-7864-a581-e0e7434d5fae', 'ecdsa-p256', 'server', NULL, 'failed', '{}', NULL, NULL, '2026-12-06 13:45:47.62275+00', 1, 'common name "outsider.example.org" is outside allowed_domains (invalid_input)', NULL, '2026-12-06 07:45:47.274326+00', '2026-12-06 07:45:47.62275+00', 0, 0, 0, 0, 0, '', NULL, '');
INSERT INTO public.managed_certificates VALUES ('01a24a50-ed03-7b49-ba60-ef063f053293', 'old-vpn', 'vpn.example.com', '{}', '01a24a50-eaa8-7ebd-b028-82b166239562', 'ecdsa-p256', 'server', NULL, 'revoked', '{}', '01a24a50-ed9d-7a47-8c87-2c4e3b0eb81f', '2027-03-06 07:45:47+00', NULL, 1, '', NULL, '2026-12-06 07:45:47.267737+00', '2026-12-06 07:45:47.816335+00', 0, 0, 0, 0, 0, '', NULL, '');
INSERT INTO public.managed_certificates VALUES ('01a24a50-ecfd-7a92-9e41-817c77cc1346', 'intranet', 'intranet.example.com', '{intranet.example.com,wiki.example.com}', '01a24a50-eb63-7c7b-a377-56cd5030af04', 'rsa-2048', 'server', '01a24a50-ec04-7ef9-86c6-80ce05008e33', 'active', '{}', '01a24a50-ef58-7603-b193-73ec1d4f6928', '2027-01-05 07:45:47+00', '2026-12-22 02:19:06+00', 1, '', NULL, '2026-12-06 07:45:47.26169+00', '2026-12-06 07:45:47.86445+00', 0, 0, 0, 0, 0, '', NULL, '');
INSERT INTO public.managed_certificates VALUES ('01a24a50-ed25-74b1-b325-2340b5b8c263', 'api', 'api.example.com', '{}', '01a24a50-eaa8-7ebd-b028-82b166239562', 'ecdsa-p256', 'agent', NULL, 'active', '{}', '01a24a50-ee44-7009-ac58-9026e400814c', '2027-03-06 07:45:47+00', '2027-02-04 00:54:01+00', 1, '', NULL, '2026-12-06 07:45:47.301304+00', '2026-12-06 07:45:47.588053+00', 1, 0, 0, 0, 1, 'deploy to target api-nginx: nginx -t: certificate file not readable', '2026-12-06 07:45:47.909773+00', '');
INSERT INTO public.managed_certificates VALUES ('01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', 'web', 'www.example.com', '{}', '01a24a50-eaa8-7ebd-b028-82b166239562', 'ecdsa-p256', 'agent', NULL, 'active', '{}', '01a24a50-ee5a-77d9-94dd-7a0598dad618', '2027-03-06 07:45:47+00', '2027-02-03 12:00:41+00', 1, '', NULL, '2026-12-06 07:45:47.278441+00', '2026-12-06 07:45:47.610532+00', 1, 0, 0, 1, 0, '', NULL, '');
INSERT INTO public.managed_certificates VALUES ('01a24a50-ef9f-74e1-a420-d8c17bebc7f8', 'mail', 'mail.example.com', '{}', '01a24a50-eaa8-7ebd-b028-82b166239562', 'ecdsa-p256', 'server', NULL, 'issuing', '{}', NULL, NULL, NULL, 1, '', NULL, '2026-12-06 07:45:47.935316+00', '2026-12-06 07:45:47.935316+00', 0, 0, 0, 0, 0, '', NULL, '');
INSERT INTO public.managed_certificates VALUES ('01a24a50-efbf-74d3-ae4f-af06a6211ef7', 'shop', 'shop.example.com', '{}', '01a24a50-eb63-7c7b-a377-56cd5030af04', 'ecdsa-p256', 'server', NULL, 'issuing', '{}', NULL, NULL, NULL, 1, '', NULL, '2026-12-06 07:45:47.967312+00', '2026-12-06 07:45:47.967312+00', 0, 0, 0, 0, 0, '', NULL, '');


--
-- Data for Name: notification_rules; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.notification_rules VALUES ('01a24a50-ec01-7889-bf4b-592f0e458c0b', 'all-to-ops', '01a24a50-eb70-70f8-a62c-6692ac3019f8', '{certificate.issued,certificate.renewed,deployment.failed}', '{30,14,7,1}', '{}', true, '2026-12-06 07:45:47.009558+00', '2026-12-06 07:45:47.009558+00');


--
-- Data for Name: notifications; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.notifications VALUES ('01a24a50-ee67-77b2-9e17-c63c40d463c8', 'certificate.renewal_failed', NULL, NULL, '01a24a50-ed0a-7503-bc1d-daac3b1d99c8', NULL, 'certificate.renewal_failed:01a24a50-ed0a-7b44-8e55-71892ec031b1:final:none', 'no_notifier', 0, NULL, 'no enabled notification rule matches this event', '{"id": "", "event": "certificate.renewal_failed", "title": "Renewal of certificate outsider (outsider.example.org) gave up", "details": {"error": "common name \"outsider.example.org\" is outside allowed_domains (invalid_input)", "final": "true", "attempt": "1"}, "message": "The issuer did not deliver: common name \"outsider.example.org\" is outside allowed_domains (invalid_input) (no more retries; certctl tries again later)", "severity": "critical", "common_name": "outsider.example.org", "occurred_at": "2026-12-06T07:45:47.623443Z", "certificate_id": "01a24a50-ed0a-7503-bc1d-daac3b1d99c8", "certificate_name": "outsider"}', '2026-12-06 07:45:47.623443+00', '2026-12-06 07:45:47.623443+00', NULL);
INSERT INTO public.notifications VALUES ('01a24a50-ed85-7396-ae5d-17eb0a664bf7', 'certificate.issued', '01a24a50-eb70-70f8-a62c-6692ac3019f8', '01a24a50-ec01-7889-bf4b-592f0e458c0b', '01a24a50-ec77-7577-9ccd-519b590d51af', NULL, 'certificate.issued:01a24a50-ed82-7193-9e51-17c7f1600054:01a24a50-eb70-70f8-a62c-6692ac3019f8', 'sent', 1, NULL, '', '{"id": "", "event": "certificate.issued", "title": "Certificate billing (billing.example.com) issued", "message": "Serial 95bffd1de819bf245052b1d7eabde31f, valid until 2027-03-06T07:45:47Z.", "severity": "info", "not_after": "2027-03-06T07:45:47Z", "common_name": "billing.example.com", "occurred_at": "2026-12-06T07:45:47.3971Z", "serial_number": "95bffd1de819bf245052b1d7eabde31f", "certificate_id": "01a24a50-ec77-7577-9ccd-519b590d51af", "certificate_name": "billing"}', '2026-12-06 07:45:47.3971+00', '2026-12-06 07:45:47.734737+00', '2026-12-06 07:45:47.734737+00');
INSERT INTO public.notifications VALUES ('01a24a50-ed9d-7ca2-94bc-85a5dee4692c', 'certificate.issued', '01a24a50-eb70-70f8-a62c-6692ac3019f8', '01a24a50-ec01-7889-bf4b-592f0e458c0b', '01a24a50-ed03-7b49-ba60-ef063f053293', NULL, 'certificate.issued:01a24a50-ed9d-7a47-8c87-2c4e3b0eb81f:01a24a50-eb70-70f8-a62c-6692ac3019f8', 'sent', 1, NULL, '', '{"id": "", "event": "certificate.issued", "title": "Certificate old-vpn (vpn.example.com) issued", "message": "Serial e7687c54fe95952156f3bb1a44cae626, valid until 2027-03-06T07:45:47Z.", "severity": "info", "not_after": "2027-03-06T07:45:47Z", "common_name": "vpn.example.com", "occurred_at": "2026-12-06T07:45:47.421781Z", "serial_number": "e7687c54fe95952156f3bb1a44cae626", "certificate_id": "01a24a50-ed03-7b49-ba60-ef063f053293", "certificate_name": "old-vpn"}', '2026-12-06 07:45:47.421781+00', '2026-12-06 07:45:47.736627+00', '2026-12-06 07:45:47.736627+00');
INSERT INTO public.notifications VALUES ('01a24a50-ee5a-793a-b662-03fc2ace9540', 'certificate.issued', '01a24a50-eb70-70f8-a62c-6692ac3019f8', '01a24a50-ec01-7889-bf4b-592f0e458c0b', '01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf', NULL, 'certificate.issued:01a24a50-ee5a-77d9-94dd-7a0598dad618:01a24a50-eb70-70f8-a62c-6692ac3019f8', 'sent', 1, NULL, '', '{"id": "", "event": "certificate.issued", "title": "Certificate web (www.example.com) issued", "message": "Serial bf063ec86c4982e53cdf21aa32b6ae58, valid until 2027-03-06T07:45:47Z.", "severity": "info", "not_after": "2027-03-06T07:45:47Z", "common_name": "www.example.com", "occurred_at": "2026-12-06T07:45:47.61056Z", "serial_number": "bf063ec86c4982e53cdf21aa32b6ae58", "certificate_id": "01a24a50-ed0e-76c1-98f0-a94d6f2d5fcf", "certificate_name": "web"}', '2026-12-06 07:45:47.61056+00', '2026-12-06 07:45:47.745738+00', '2026-12-06 07:45:47.745738+00');
INSERT INTO public.notifications VALUES ('01a24a50-ee44-728f-9336-da637354bba3', 'certificate.issued', '01a24a50-eb70-70f8-a62c-6692ac3019f8', '01a24a50-ec01-7889-bf4b-592f0e458c0b', '01a24a50-ed25-74b1-b325-2340b5b8c263', NULL, 'certificate.issued:01a24a50-ee44-7009-ac58-9026e400814c:01a24a50-eb70-70f8-a62c-6692ac3019f8', 'sent', 1, NULL, '', '{"id": "", "event": "certificate.issued", "title": "Certificate api (api.example.com) issued", "message": "Serial 3d40280af1426aa05de68445759a7df3, valid until 2027-03-06T07:45:47Z.", "severity": "info", "not_after": "2027-03-06T07:45:47Z", "common_name": "api.example.com", "occurred_at": "2026-12-06T07:45:47.588086Z", "serial_number": "3d40280af1426aa05de68445759a7df3", "certificate_id": "01a24a50-ed25-74b1-b325-2340b5b8c263", "certificate_name": "api"}', '2026-12-06 07:45:47.588086+00', '2026-12-06 07:45:47.750926+00', '2026-12-06 07:45:47.750926+00');
INSERT INTO public.notifications VALUES ('01a24a50-ee5c-741f-af0e-1ba34d98b02b', 'certificate.issued', '01a24a50-eb70-70f8-a62c-6692ac3019f8', '01a24a50-ec01-7889-bf4b-592f0e458c0b', '01a24a50-ecfd-7a92-9e41-817c77cc1346', NULL, 'certificate.issued:01a24a50-ee5c-7318-bc2e-0ba67f3e8550:01a24a50-eb70-70f8-a62c-6692ac3019f8', 'sent', 1, NULL, '', '{"id": "", "sans": ["intranet.example.com", "wiki.example.com"], "event": "certificate.issued", "title": "Certificate intranet (intranet.example.com) issued", "message": "Serial ef736f0f3d8aef5aa9c6d5f60383cf93, valid until 2027-01-05T07:45:47Z.", "severity": "info", "not_after": "2027-01-05T07:45:47Z", "common_name": "intranet.example.com", "occurred_at": "2026-12-06T07:45:47.612233Z", "serial_number": "ef736f0f3d8aef5aa9c6d5f60383cf93", "certificate_id": "01a24a50-ecfd-7a92-9e41-817c77cc1346", "certificate_name": "intranet"}', '2026-12-06 07:45:47.612233+00', '2026-12-06 07:45:47.737994+00', '2026-12-06 07:45:47.737994+00');
INSERT INTO public.notifications VALUES ('01a24a50-ef4f-77c9-a9a3-16a0840abaa5', 'certificate.revoked', NULL, NULL, '01a24a50-ed03-7b49-ba60-ef063f053293', NULL, 'certificate.revoked:01a24a50-ed9d-7a47-8c87-2c4e3b0eb81f:none', 'no_notifier', 0, NULL, 'no enabled notification rule matches this event', '{"id": "", "event": "certificate.revoked", "title": "Certificate old-vpn (vpn.example.com) revoked", "details": {"reason": "superseded"}, "message": "Serial e7687c54fe95952156f3bb1a44cae626 was revoked (reason superseded).", "severity": "info", "not_after": "2027-03-06T07:45:47Z", "common_name": "vpn.example.com", "occurred_at": "2026-12-06T07:45:47.855457Z", "serial_number": "e7687c54fe95952156f3bb1a44cae626", "certificate_id": "01a24a50-ed03-7b49-ba60-ef063f053293", "certificate_name": "old-vpn"}', '2026-12-06 07:45:47.855457+00', '2026-12-06 07:45:47.855457+00', NULL);
INSERT INTO public.notifications VALUES ('01a24a50-ef58-7863-b5e2-0c83762e8c3c', 'certificate.renewed', '01a24a50-eb70-70f8-a62c-6692ac3019f8', '01a24a50-ec01-7889-bf4b-592f0e458c0b', '01a24a50-ecfd-7a92-9e41-817c77cc1346', NULL, 'certificate.renewed:01a24a50-ef58-7603-b193-73ec1d4f6928:01a24a50-eb70-70f8-a62c-6692ac3019f8', 'sent', 1, NULL, '', '{"id": "", "sans": ["intranet.example.com", "wiki.example.com"], "event": "certificate.renewed", "title": "Certificate intranet (intranet.example.com) renewed", "message": "New serial d5dc2389cd00211c89ae88293a012bf0, valid until 2027-01-05T07:45:47Z.", "severity": "info", "not_after": "2027-01-05T07:45:47Z", "common_name": "intranet.example.com", "occurred_at": "2026-12-06T07:45:47.864501Z", "serial_number": "d5dc2389cd00211c89ae88293a012bf0", "certificate_id": "01a24a50-ecfd-7a92-9e41-817c77cc1346", "certificate_name": "intranet"}', '2026-12-06 07:45:47.864501+00', '2026-12-06 07:45:47.882072+00', '2026-12-06 07:45:47.882072+00');
INSERT INTO public.notifications VALUES ('01a24a50-ef8a-7db8-aa93-74fe76525956', 'deployment.failed', '01a24a50-eb70-70f8-a62c-6692ac3019f8', '01a24a50-ec01-7889-bf4b-592f0e458c0b', '01a24a50-ed25-74b1-b325-2340b5b8c263', '01a24a50-ec4b-7e13-88df-8463f1535c40', 'deployment.failed:01a24a50-ee44-7137-97be-955b264847d8:01a24a50-eb70-70f8-a62c-6692ac3019f8', 'sent', 1, NULL, '', '{"id": "", "event": "deployment.failed", "title": "deployment failed", "details": {"message": "nginx -t: certificate file not readable", "target_id": "01a24a50-ec5f-7f34-9ee3-cf9edd716466"}, "message": "nginx -t: certificate file not readable", "severity": "warning", "not_after": "2027-03-06T07:45:47Z", "common_name": "api.example.com", "occurred_at": "2026-12-06T07:45:47.914852Z", "certificate_id": "01a24a50-ed25-74b1-b325-2340b5b8c263", "certificate_name": "api"}', '2026-12-06 07:45:47.914852+00', '2026-12-06 07:45:47.931332+00', '2026-12-06 07:45:47.931332+00');


--
-- Data for Name: notifiers; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.notifiers VALUES ('01a24a50-eb70-70f8-a62c-6692ac3019f8', 'ops-hook', 'webhook', '{"timeout": "10s", "max_attempts": 3, "retry_backoff": "1s"}', '\x02ad7a1a3faf4d28109f86e54e6195d0804b888b5096e2f9cb5a30c68f4d0b71d2c7252bff9b716c22b20105ef9632c08a9aabcc524b2172a2049774d8be6b82dc39809e69857675c1e81dafa20df6d009d1891d4fcff1599c2e7573ad4faa656f56c758d7', '{secret,url}', true, '2026-12-06 07:45:47.005544+00', '2026-12-06 07:45:47.005544+00');


--
-- Data for Name: plugins; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.plugins VALUES ('issuer', 'local', '1.0.0', 'A private CA run by certctl: a self-signed root generated when the issuer is created, or a subordinate of your own CA. It signs CSRs with ECDSA P-256/P-384, RSA 2048/3072/4096 or Ed25519 keys (P-224, P-521 and other RSA sizes are refused), signs CRLs of the revocations certctl records, and keeps no state of its own.', '/usr/lib/certctl/plugins/certctl-plugin-issuer-local', '9701a75b3f13d5ae2e0565bb259f83ad415f5275b948862b1c13c91dfdc0632a', '{"fields": [{"name": "ca_certificate_pem", "type": "string", "required": false, "sensitive": false, "description": "The CA certificate (PEM). Left empty, one is generated when the issuer is created; given (with its key), the local CA is a subordinate of your own CA."}, {"name": "ca_private_key_pem", "type": "string", "required": false, "sensitive": true, "description": "The CA private key (PKCS#8 PEM; PKCS#1 and SEC 1 are accepted too, unencrypted). Generated with the certificate, or given with it."}, {"name": "ca_chain_pem", "type": "string", "required": false, "sensitive": false, "description": "For a subordinate CA: the certificates above it (PEM), its issuer first, up to the root. The CA certificate must verify against them; they are appended to every issued chain."}, {"name": "common_name", "type": "string", "default": "certctl local CA", "required": false, "sensitive": false, "description": "Common name of a generated CA certificate."}, {"name": "organization", "type": "string", "default": "certctl", "required": false, "sensitive": false, "description": "Organization of a generated CA certificate."}, {"enum": ["ecdsa-p256", "ecdsa-p384", "rsa-2048", "rsa-3072", "rsa-4096", "ed25519"], "name": "ca_key_type", "type": "string", "default": "ecdsa-p384", "required": false, "sensitive": false, "description": "Key type of a generated CA."}, {"name": "ca_validity", "type": "duration", "default": "3650d", "required": false, "sensitive": false, "description": "Lifetime of a generated CA certificate."}, {"name": "validity", "type": "duration", "default": "90d", "required": false, "sensitive": false, "description": "Lifetime of an issued certificate when the request does not give one."}, {"name": "max_validity", "type": "duration", "default": "397d", "required": false, "sensitive": false, "description": "Longest lifetime of an issued certificate; longer requests are shortened to it. No certificate outlives the CA certificate or a certificate above it."}, {"name": "crl_url", "type": "string", "required": false, "sensitive": false, "description": "URL (http, https or ldap) written into issued certificates as their CRL distribution point."}, {"name": "allowed_domains", "type": "string_list", "required": false, "sensitive": false, "description": "When set, the common name and every DNS name of a certificate must be one of these domains or a subdomain of one, and certificates with IP address, e-mail or URI names are refused."}]}', '2026-12-06 07:45:46.401237+00');
INSERT INTO public.plugins VALUES ('notifier', 'webhook', '1.0.0', 'POSTs notifications as JSON to any URL, optionally signed with HMAC-SHA256.', '/usr/lib/certctl/plugins/certctl-plugin-notifier-webhook', '50fc06473dcd916c210a7333549a983f6b71d512bb055a1966ad8525b782758c', '{"fields": [{"name": "url", "type": "string", "required": true, "sensitive": true, "description": "The http or https URL that receives the JSON POST. Treated as secret, since many receivers (automation tools, chat services) put a token in it."}, {"name": "secret", "type": "string", "required": false, "sensitive": true, "description": "Shared secret; when set each request carries X-Certctl-Timestamp and X-Certctl-Signature: sha256=<hex HMAC-SHA256 of \"<timestamp>.<body>\">."}, {"name": "headers", "type": "string_list", "required": false, "sensitive": true, "description": "Extra request headers as \"Name: value\", e.g. \"Authorization: Bearer ...\". Treated as secret."}, {"name": "timeout", "type": "duration", "default": "10s", "required": false, "sensitive": false, "description": "Time allowed for one delivery attempt (connect, send, read the answer), at most 5m."}, {"name": "max_attempts", "type": "int", "default": 3, "required": false, "sensitive": false, "description": "Attempts per delivery, 1 to 10. Network errors, timeouts, rate limiting (429) and server errors (5xx) are retried; other failures are not. When all attempts fail the host retries the notification later."}, {"name": "retry_backoff", "type": "duration", "default": "1s", "required": false, "sensitive": false, "description": "Wait before the second attempt; it doubles for each further attempt (with jitter, at most 30s). A Retry-After answer of up to 1m is honoured instead."}]}', '2026-12-06 07:45:46.646488+00');


--
-- Data for Name: renewal_policies; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.renewal_policies VALUES ('01900000-0000-7000-8000-000000000001', 'default', 'fraction', 0.3333333333333333, NULL, 0.05, false, true, true, '2026-12-06 07:45:45.231617+00', '2026-12-06 07:45:45.231617+00');
INSERT INTO public.renewal_policies VALUES ('01a24a50-ec04-7ef9-86c6-80ce05008e33', 'two-weeks', 'days_before', NULL, 14, 0.05, false, true, false, '2026-12-06 07:45:47.01298+00', '2026-12-06 07:45:47.01298+00');


--
-- Data for Name: schema_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.schema_migrations VALUES (1, 0, true, '2026-12-06 07:45:45.196444');
INSERT INTO public.schema_migrations VALUES (2, 1, true, '2026-12-06 07:45:45.231617');
INSERT INTO public.schema_migrations VALUES (3, 2, true, '2026-12-06 07:45:45.422281');
INSERT INTO public.schema_migrations VALUES (4, 3, true, '2026-12-06 07:45:45.430811');
INSERT INTO public.schema_migrations VALUES (5, 4, true, '2026-12-06 07:45:45.43872');
INSERT INTO public.schema_migrations VALUES (6, 5, true, '2026-12-06 07:45:45.439849');
INSERT INTO public.schema_migrations VALUES (7, 6, true, '2026-12-06 07:45:45.471295');
INSERT INTO public.schema_migrations VALUES (8, 7, true, '2026-12-06 07:45:45.486344');
INSERT INTO public.schema_migrations VALUES (9, 8, true, '2026-12-06 07:45:45.489015');
INSERT INTO public.schema_migrations VALUES (10, 9, true, '2026-12-06 07:45:45.502385');


--
-- Data for Name: settings; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.settings VALUES ('encryption_key_check', '{"key_id": "ad7a1a3f", "sealed": "Aq16Gj9bagAVW/98Kniswg/6oAzMZ/F60ywUAX50DMkf+SgKjg94Vw=="}', '2026-12-06 07:45:46.663611+00');
INSERT INTO public.settings VALUES ('default_local_issuer', '{"issuer_id": "01a24a50-eaa8-7ebd-b028-82b166239562"}', '2026-12-06 07:45:46.847886+00');


--
-- Data for Name: targets; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.targets VALUES ('01a24a50-ec57-7eb1-bb12-4166647c328c', 'web-nginx', 'nginx', '01a24a50-ec4b-7e13-88df-8463f1535c40', '{"key_path": "/etc/ssl/web.key", "certificate_path": "/etc/ssl/web.pem"}', NULL, '{}', '2026-12-06 07:45:47.095981+00', '2026-12-06 07:45:47.095981+00');
INSERT INTO public.targets VALUES ('01a24a50-ec5f-7f34-9ee3-cf9edd716466', 'api-nginx', 'nginx', '01a24a50-ec4b-7e13-88df-8463f1535c40', '{"key_path": "/etc/ssl/api.key", "certificate_path": "/etc/ssl/api.pem"}', NULL, '{}', '2026-12-06 07:45:47.104038+00', '2026-12-06 07:45:47.104038+00');
INSERT INTO public.targets VALUES ('01a24a50-ec61-7c10-9ea3-bb56709cb50e', 'spare-nginx', 'nginx', NULL, '{"certificate_path": "/etc/ssl/spare.pem"}', NULL, '{}', '2026-12-06 07:45:47.105801+00', '2026-12-06 07:45:47.105801+00');


--
-- Name: schema_migrations_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.schema_migrations_id_seq', 10, true);


--
-- Name: agent_credentials agent_credentials_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_credentials
    ADD CONSTRAINT agent_credentials_pkey PRIMARY KEY (id);


--
-- Name: agent_credentials agent_credentials_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_credentials
    ADD CONSTRAINT agent_credentials_token_hash_key UNIQUE (token_hash);


--
-- Name: agents agents_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agents
    ADD CONSTRAINT agents_name_key UNIQUE (name);


--
-- Name: agents agents_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agents
    ADD CONSTRAINT agents_pkey PRIMARY KEY (id);


--
-- Name: api_keys api_keys_key_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);


--
-- Name: api_keys api_keys_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);


--
-- Name: audit_events audit_events_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_events
    ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id);


--
-- Name: certificate_targets certificate_targets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.certificate_targets
    ADD CONSTRAINT certificate_targets_pkey PRIMARY KEY (certificate_id, target_id);


--
-- Name: certificate_versions certificate_versions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.certificate_versions
    ADD CONSTRAINT certificate_versions_pkey PRIMARY KEY (id);


--
-- Name: console_sessions console_sessions_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.console_sessions
    ADD CONSTRAINT console_sessions_pkey PRIMARY KEY (token_hash);


--
-- Name: crls crls_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.crls
    ADD CONSTRAINT crls_pkey PRIMARY KEY (issuer_id);


--
-- Name: deployments deployments_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_pkey PRIMARY KEY (id);


--
-- Name: deployments deployments_version_id_target_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_version_id_target_id_key UNIQUE (version_id, target_id);


--
-- Name: enrollment_tokens enrollment_tokens_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollment_tokens
    ADD CONSTRAINT enrollment_tokens_pkey PRIMARY KEY (id);


--
-- Name: enrollment_tokens enrollment_tokens_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollment_tokens
    ADD CONSTRAINT enrollment_tokens_token_hash_key UNIQUE (token_hash);


--
-- Name: http01_challenges http01_challenges_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.http01_challenges
    ADD CONSTRAINT http01_challenges_pkey PRIMARY KEY (job_id, token);


--
-- Name: issuers issuers_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.issuers
    ADD CONSTRAINT issuers_name_key UNIQUE (name);


--
-- Name: issuers issuers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.issuers
    ADD CONSTRAINT issuers_pkey PRIMARY KEY (id);


--
-- Name: jobs jobs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_pkey PRIMARY KEY (id);


--
-- Name: managed_certificates managed_certificates_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.managed_certificates
    ADD CONSTRAINT managed_certificates_name_key UNIQUE (name);


--
-- Name: managed_certificates managed_certificates_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.managed_certificates
    ADD CONSTRAINT managed_certificates_pkey PRIMARY KEY (id);


--
-- Name: notification_rules notification_rules_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_rules
    ADD CONSTRAINT notification_rules_name_key UNIQUE (name);


--
-- Name: notification_rules notification_rules_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_rules
    ADD CONSTRAINT notification_rules_pkey PRIMARY KEY (id);


--
-- Name: notifications notifications_dedupe_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_dedupe_key_key UNIQUE (dedupe_key);


--
-- Name: notifications notifications_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_pkey PRIMARY KEY (id);


--
-- Name: notifiers notifiers_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifiers
    ADD CONSTRAINT notifiers_name_key UNIQUE (name);


--
-- Name: notifiers notifiers_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifiers
    ADD CONSTRAINT notifiers_pkey PRIMARY KEY (id);


--
-- Name: plugins plugins_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugins
    ADD CONSTRAINT plugins_pkey PRIMARY KEY (kind, name);


--
-- Name: renewal_policies renewal_policies_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.renewal_policies
    ADD CONSTRAINT renewal_policies_name_key UNIQUE (name);


--
-- Name: renewal_policies renewal_policies_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.renewal_policies
    ADD CONSTRAINT renewal_policies_pkey PRIMARY KEY (id);


--
-- Name: schema_migrations schema_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.schema_migrations
    ADD CONSTRAINT schema_migrations_pkey PRIMARY KEY (id);


--
-- Name: settings settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (name);


--
-- Name: targets targets_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.targets
    ADD CONSTRAINT targets_name_key UNIQUE (name);


--
-- Name: targets targets_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.targets
    ADD CONSTRAINT targets_pkey PRIMARY KEY (id);


--
-- Name: agent_credentials_agent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX agent_credentials_agent ON public.agent_credentials USING btree (agent_id);


--
-- Name: agents_arch_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX agents_arch_id ON public.agents USING btree (arch, id);


--
-- Name: agents_online_heartbeat; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX agents_online_heartbeat ON public.agents USING btree (last_heartbeat_at) WHERE (status = 'online'::text);


--
-- Name: agents_os_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX agents_os_id ON public.agents USING btree (os, id);


--
-- Name: agents_status_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX agents_status_id ON public.agents USING btree (status, id);


--
-- Name: audit_events_action; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_action ON public.audit_events USING btree (action, id);


--
-- Name: audit_events_actor; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_actor ON public.audit_events USING btree (actor, id);


--
-- Name: audit_events_occurred; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_occurred ON public.audit_events USING btree (occurred_at);


--
-- Name: audit_events_outcome; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_outcome ON public.audit_events USING btree (outcome, id);


--
-- Name: audit_events_resource; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX audit_events_resource ON public.audit_events USING btree (resource_type, resource_id, id);


--
-- Name: certificate_targets_target; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX certificate_targets_target ON public.certificate_targets USING btree (target_id);


--
-- Name: certificate_versions_certificate; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX certificate_versions_certificate ON public.certificate_versions USING btree (certificate_id, id);


--
-- Name: certificate_versions_issuer_revoked; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX certificate_versions_issuer_revoked ON public.certificate_versions USING btree (issuer_id, revoked_at) WHERE (status = 'revoked'::text);


--
-- Name: certificate_versions_issuer_serial; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX certificate_versions_issuer_serial ON public.certificate_versions USING btree (issuer_id, serial_number);


--
-- Name: certificate_versions_job; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX certificate_versions_job ON public.certificate_versions USING btree (job_id) WHERE (job_id IS NOT NULL);


--
-- Name: console_sessions_api_key; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX console_sessions_api_key ON public.console_sessions USING btree (api_key_id);


--
-- Name: console_sessions_expires; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX console_sessions_expires ON public.console_sessions USING btree (expires_at);


--
-- Name: deployments_agent_pending; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deployments_agent_pending ON public.deployments USING btree (agent_id, id) WHERE (status = ANY (ARRAY['pending'::text, 'in_progress'::text]));


--
-- Name: deployments_certificate; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deployments_certificate ON public.deployments USING btree (certificate_id, id);


--
-- Name: deployments_failed; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deployments_failed ON public.deployments USING btree (id) WHERE (status = 'failed'::text);


--
-- Name: deployments_target; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX deployments_target ON public.deployments USING btree (target_id, id);


--
-- Name: http01_challenges_agent; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX http01_challenges_agent ON public.http01_challenges USING btree (agent_id, state) WHERE (agent_id IS NOT NULL);


--
-- Name: http01_challenges_token; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX http01_challenges_token ON public.http01_challenges USING btree (token);


--
-- Name: issuers_type_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX issuers_type_id ON public.issuers USING btree (type, id);


--
-- Name: jobs_agent_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_agent_id ON public.jobs USING btree (agent_id, id) WHERE (agent_id IS NOT NULL);


--
-- Name: jobs_agent_waiting; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_agent_waiting ON public.jobs USING btree (agent_id, id) WHERE (state = ANY (ARRAY['queued'::text, 'waiting'::text]));


--
-- Name: jobs_agent_work; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_agent_work ON public.jobs USING btree (agent_id, run_at) WHERE (state = ANY (ARRAY['waiting'::text, 'retrying'::text]));


--
-- Name: jobs_certificate_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_certificate_id ON public.jobs USING btree (certificate_id, id);


--
-- Name: jobs_certificate_live; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_certificate_live ON public.jobs USING btree (certificate_id) WHERE (state = ANY (ARRAY['queued'::text, 'running'::text, 'waiting'::text, 'retrying'::text]));


--
-- Name: jobs_claim; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_claim ON public.jobs USING btree (run_at) WHERE (state = ANY (ARRAY['queued'::text, 'retrying'::text]));


--
-- Name: jobs_expired_leases; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_expired_leases ON public.jobs USING btree (lease_expires_at) WHERE (state = 'running'::text);


--
-- Name: jobs_finished_issuance; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_finished_issuance ON public.jobs USING btree (finished_at) INCLUDE (state) WHERE ((kind = ANY (ARRAY['issue'::text, 'renew'::text])) AND (state = ANY (ARRAY['succeeded'::text, 'failed'::text])));


--
-- Name: jobs_kind_state_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_kind_state_id ON public.jobs USING btree (kind, state, id);


--
-- Name: jobs_one_live_issuance; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX jobs_one_live_issuance ON public.jobs USING btree (certificate_id) WHERE ((state = ANY (ARRAY['queued'::text, 'running'::text, 'waiting'::text, 'retrying'::text])) AND (kind = ANY (ARRAY['issue'::text, 'renew'::text])));


--
-- Name: jobs_one_live_revocation; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX jobs_one_live_revocation ON public.jobs USING btree (certificate_id, ((payload ->> 'version_id'::text))) WHERE ((state = ANY (ARRAY['queued'::text, 'running'::text, 'retrying'::text])) AND (kind = 'revoke'::text));


--
-- Name: jobs_state_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX jobs_state_id ON public.jobs USING btree (state, id);


--
-- Name: managed_certificates_cn_pattern; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_cn_pattern ON public.managed_certificates USING btree (common_name text_pattern_ops);


--
-- Name: managed_certificates_deploy_failed; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_deploy_failed ON public.managed_certificates USING btree (id) WHERE (deploy_failed > 0);


--
-- Name: managed_certificates_deploy_pending; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_deploy_pending ON public.managed_certificates USING btree (id) WHERE ((deploy_pending + deploy_in_progress) > 0);


--
-- Name: managed_certificates_deploy_succeeded; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_deploy_succeeded ON public.managed_certificates USING btree (id) WHERE ((deploy_total > 0) AND (deploy_succeeded = deploy_total));


--
-- Name: managed_certificates_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_due ON public.managed_certificates USING btree (next_renewal_at) WHERE (status = ANY (ARRAY['active'::text, 'failed'::text, 'expired'::text]));


--
-- Name: managed_certificates_expiry_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_expiry_status ON public.managed_certificates USING btree (not_after) INCLUDE (status);


--
-- Name: managed_certificates_issuer_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_issuer_id ON public.managed_certificates USING btree (issuer_id, id);


--
-- Name: managed_certificates_name_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_name_id ON public.managed_certificates USING btree (name, id);


--
-- Name: managed_certificates_name_pattern; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_name_pattern ON public.managed_certificates USING btree (name text_pattern_ops);


--
-- Name: managed_certificates_not_after; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_not_after ON public.managed_certificates USING btree (not_after, id);


--
-- Name: managed_certificates_policy; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_policy ON public.managed_certificates USING btree (renewal_policy_id);


--
-- Name: managed_certificates_status_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX managed_certificates_status_id ON public.managed_certificates USING btree (status, id);


--
-- Name: notification_rules_notifier; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notification_rules_notifier ON public.notification_rules USING btree (notifier_id);


--
-- Name: notifications_certificate; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_certificate ON public.notifications USING btree (certificate_id, id);


--
-- Name: notifications_due; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_due ON public.notifications USING btree (next_attempt_at) WHERE (status = ANY (ARRAY['pending'::text, 'retrying'::text]));


--
-- Name: notifications_status_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX notifications_status_id ON public.notifications USING btree (status, id);


--
-- Name: renewal_policies_one_default; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX renewal_policies_one_default ON public.renewal_policies USING btree (is_default) WHERE is_default;


--
-- Name: targets_agent_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX targets_agent_id ON public.targets USING btree (agent_id, id);


--
-- Name: targets_type_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX targets_type_id ON public.targets USING btree (type, id);


--
-- Name: audit_events audit_events_no_truncate; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON public.audit_events FOR EACH STATEMENT EXECUTE FUNCTION public.audit_events_append_only();


--
-- Name: audit_events audit_events_no_update_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER audit_events_no_update_delete BEFORE DELETE OR UPDATE ON public.audit_events FOR EACH ROW EXECUTE FUNCTION public.audit_events_append_only();


--
-- Name: certificate_targets certificate_targets_health; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER certificate_targets_health AFTER INSERT OR DELETE ON public.certificate_targets FOR EACH ROW EXECUTE FUNCTION public.certificate_row_health();


--
-- Name: deployments deployments_health_insert_delete; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER deployments_health_insert_delete AFTER INSERT OR DELETE ON public.deployments FOR EACH ROW EXECUTE FUNCTION public.certificate_row_health();


--
-- Name: deployments deployments_health_update; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER deployments_health_update AFTER UPDATE ON public.deployments FOR EACH ROW WHEN (((old.status IS DISTINCT FROM new.status) OR (old.message IS DISTINCT FROM new.message))) EXECUTE FUNCTION public.certificate_row_health();


--
-- Name: http01_challenges http01_challenges_agent_work; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER http01_challenges_agent_work AFTER INSERT OR UPDATE OF state ON public.http01_challenges FOR EACH ROW EXECUTE FUNCTION public.http01_challenges_notify_agent();


--
-- Name: jobs jobs_agent_work; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER jobs_agent_work AFTER INSERT OR UPDATE OF state ON public.jobs FOR EACH ROW EXECUTE FUNCTION public.jobs_notify_agent_work();


--
-- Name: jobs jobs_deployment_status; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER jobs_deployment_status AFTER UPDATE OF state ON public.jobs FOR EACH ROW WHEN (((new.kind = 'deploy'::text) AND (old.state IS DISTINCT FROM new.state))) EXECUTE FUNCTION public.jobs_deployment_status();


--
-- Name: jobs jobs_notify_done; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER jobs_notify_done AFTER UPDATE OF state ON public.jobs FOR EACH ROW WHEN (((old.state IS DISTINCT FROM new.state) AND (new.state = ANY (ARRAY['succeeded'::text, 'failed'::text, 'cancelled'::text])))) EXECUTE FUNCTION public.jobs_notify_done();


--
-- Name: jobs jobs_server_jobs; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER jobs_server_jobs AFTER INSERT OR UPDATE OF state ON public.jobs FOR EACH ROW EXECUTE FUNCTION public.jobs_notify_server_jobs();


--
-- Name: managed_certificates managed_certificates_health; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER managed_certificates_health BEFORE UPDATE OF current_version_id ON public.managed_certificates FOR EACH ROW WHEN ((old.current_version_id IS DISTINCT FROM new.current_version_id)) EXECUTE FUNCTION public.managed_certificates_health();


--
-- Name: targets targets_changed; Type: TRIGGER; Schema: public; Owner: -
--

CREATE TRIGGER targets_changed AFTER UPDATE OF name, agent_id ON public.targets FOR EACH ROW EXECUTE FUNCTION public.targets_changed();


--
-- Name: agent_credentials agent_credentials_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.agent_credentials
    ADD CONSTRAINT agent_credentials_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE CASCADE;


--
-- Name: certificate_targets certificate_targets_certificate_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.certificate_targets
    ADD CONSTRAINT certificate_targets_certificate_id_fkey FOREIGN KEY (certificate_id) REFERENCES public.managed_certificates(id) ON DELETE CASCADE;


--
-- Name: certificate_targets certificate_targets_target_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.certificate_targets
    ADD CONSTRAINT certificate_targets_target_id_fkey FOREIGN KEY (target_id) REFERENCES public.targets(id) ON DELETE RESTRICT;


--
-- Name: certificate_versions certificate_versions_certificate_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.certificate_versions
    ADD CONSTRAINT certificate_versions_certificate_id_fkey FOREIGN KEY (certificate_id) REFERENCES public.managed_certificates(id) ON DELETE CASCADE;


--
-- Name: certificate_versions certificate_versions_issuer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.certificate_versions
    ADD CONSTRAINT certificate_versions_issuer_id_fkey FOREIGN KEY (issuer_id) REFERENCES public.issuers(id) ON DELETE SET NULL;


--
-- Name: certificate_versions certificate_versions_job_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.certificate_versions
    ADD CONSTRAINT certificate_versions_job_id_fkey FOREIGN KEY (job_id) REFERENCES public.jobs(id) ON DELETE SET NULL;


--
-- Name: console_sessions console_sessions_api_key_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.console_sessions
    ADD CONSTRAINT console_sessions_api_key_id_fkey FOREIGN KEY (api_key_id) REFERENCES public.api_keys(id) ON DELETE CASCADE;


--
-- Name: crls crls_issuer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.crls
    ADD CONSTRAINT crls_issuer_id_fkey FOREIGN KEY (issuer_id) REFERENCES public.issuers(id) ON DELETE CASCADE;


--
-- Name: deployments deployments_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE SET NULL;


--
-- Name: deployments deployments_certificate_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_certificate_id_fkey FOREIGN KEY (certificate_id) REFERENCES public.managed_certificates(id) ON DELETE CASCADE;


--
-- Name: deployments deployments_job_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_job_id_fkey FOREIGN KEY (job_id) REFERENCES public.jobs(id) ON DELETE SET NULL;


--
-- Name: deployments deployments_target_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_target_id_fkey FOREIGN KEY (target_id) REFERENCES public.targets(id) ON DELETE CASCADE;


--
-- Name: deployments deployments_version_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deployments
    ADD CONSTRAINT deployments_version_id_fkey FOREIGN KEY (version_id) REFERENCES public.certificate_versions(id) ON DELETE CASCADE;


--
-- Name: enrollment_tokens enrollment_tokens_used_by_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.enrollment_tokens
    ADD CONSTRAINT enrollment_tokens_used_by_agent_id_fkey FOREIGN KEY (used_by_agent_id) REFERENCES public.agents(id) ON DELETE SET NULL;


--
-- Name: http01_challenges http01_challenges_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.http01_challenges
    ADD CONSTRAINT http01_challenges_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE CASCADE;


--
-- Name: http01_challenges http01_challenges_job_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.http01_challenges
    ADD CONSTRAINT http01_challenges_job_id_fkey FOREIGN KEY (job_id) REFERENCES public.jobs(id) ON DELETE CASCADE;


--
-- Name: jobs jobs_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE SET NULL;


--
-- Name: jobs jobs_certificate_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_certificate_id_fkey FOREIGN KEY (certificate_id) REFERENCES public.managed_certificates(id) ON DELETE CASCADE;


--
-- Name: jobs jobs_target_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.jobs
    ADD CONSTRAINT jobs_target_id_fkey FOREIGN KEY (target_id) REFERENCES public.targets(id) ON DELETE CASCADE;


--
-- Name: managed_certificates managed_certificates_current_version; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.managed_certificates
    ADD CONSTRAINT managed_certificates_current_version FOREIGN KEY (current_version_id) REFERENCES public.certificate_versions(id) ON DELETE SET NULL DEFERRABLE INITIALLY DEFERRED;


--
-- Name: managed_certificates managed_certificates_issuer_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.managed_certificates
    ADD CONSTRAINT managed_certificates_issuer_id_fkey FOREIGN KEY (issuer_id) REFERENCES public.issuers(id) ON DELETE RESTRICT;


--
-- Name: managed_certificates managed_certificates_renewal_policy_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.managed_certificates
    ADD CONSTRAINT managed_certificates_renewal_policy_id_fkey FOREIGN KEY (renewal_policy_id) REFERENCES public.renewal_policies(id) ON DELETE RESTRICT;


--
-- Name: notification_rules notification_rules_notifier_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_rules
    ADD CONSTRAINT notification_rules_notifier_id_fkey FOREIGN KEY (notifier_id) REFERENCES public.notifiers(id) ON DELETE CASCADE;


--
-- Name: notifications notifications_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE SET NULL;


--
-- Name: notifications notifications_certificate_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_certificate_id_fkey FOREIGN KEY (certificate_id) REFERENCES public.managed_certificates(id) ON DELETE SET NULL;


--
-- Name: notifications notifications_notifier_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_notifier_id_fkey FOREIGN KEY (notifier_id) REFERENCES public.notifiers(id) ON DELETE SET NULL;


--
-- Name: notifications notifications_rule_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notifications
    ADD CONSTRAINT notifications_rule_id_fkey FOREIGN KEY (rule_id) REFERENCES public.notification_rules(id) ON DELETE SET NULL;


--
-- Name: targets targets_agent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.targets
    ADD CONSTRAINT targets_agent_id_fkey FOREIGN KEY (agent_id) REFERENCES public.agents(id) ON DELETE RESTRICT;


--
-- PostgreSQL database dump complete
--


