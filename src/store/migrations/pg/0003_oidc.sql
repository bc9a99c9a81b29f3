-- The OpenID Connect provider's tables in PostgreSQL's dialect, as
-- migrations/sqlite/0003_oidc.sql. Citus (docs/SCALING.md): oidc_clients is a reference table
-- (a few hundred apps, read by every request of the provider); oidc_codes and oidc_tokens are
-- distributed by their own hash (each lookup names it); oidc_session_clients and oidc_consents
-- are distributed by account_id, co-located with accounts.

-- One row per app. redirect_uris and post_logout_uris hold exact strings, one per line,
-- compared byte for byte. roles is a bit set of (1 << enum eb_role), stages of enum eb_stage;
-- 0 means "everyone". The app belongs to org_id: administrators manage apps inside their scope
-- and users see the apps of the orgs above them.
CREATE TABLE oidc_clients (
    client_id text PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 128),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    icon text,
    category text,
    description text,
    roles bigint NOT NULL DEFAULT 0,
    stages bigint NOT NULL DEFAULT 0,
    launch_url text,
    redirect_uris text NOT NULL,
    post_logout_uris text NOT NULL DEFAULT '',
    secret_hash text,
    is_public bigint NOT NULL DEFAULT 0,
    first_party bigint NOT NULL DEFAULT 0,
    id_token_alg text NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256', 'EdDSA')),
    backchannel_logout_uri text,
    org_id bigint NOT NULL REFERENCES orgs(id),
    org_path text COLLATE "C" NOT NULL,
    created_at bigint NOT NULL
);
CREATE INDEX oidc_clients_path ON oidc_clients(org_path);

-- Authorization codes: single use (used counts the attempts), short-lived.
CREATE TABLE oidc_codes (
    code_hash text PRIMARY KEY,
    client_id text NOT NULL,
    account_id bigint NOT NULL,
    redirect_uri text NOT NULL,
    scope text NOT NULL,
    nonce text,
    code_challenge text,
    sid text NOT NULL,
    auth_time bigint NOT NULL,
    expires_at bigint NOT NULL,
    used bigint NOT NULL DEFAULT 0,
    created_at bigint NOT NULL
);

-- Access (kind 1) and refresh (kind 2) tokens. A refresh token is rotated on every use
-- (rotated_at); every token of one grant shares family_id, so that a reused refresh token or
-- a reused code (code_hash) revokes the whole grant. account_id is 0 for client_credentials.
CREATE TABLE oidc_tokens (
    token_hash text PRIMARY KEY,
    kind bigint NOT NULL CHECK (kind IN (1, 2)),
    client_id text NOT NULL,
    account_id bigint NOT NULL,
    scope text NOT NULL,
    sid text,
    auth_time bigint NOT NULL DEFAULT 0,
    family_id text NOT NULL,
    code_hash text,
    nonce text,
    expires_at bigint NOT NULL,
    revoked bigint NOT NULL DEFAULT 0,
    rotated_at bigint,
    created_at bigint NOT NULL
);
CREATE INDEX oidc_tokens_family ON oidc_tokens(family_id);
CREATE INDEX oidc_tokens_sid ON oidc_tokens(sid);
CREATE INDEX oidc_tokens_code ON oidc_tokens(code_hash);
CREATE INDEX oidc_tokens_client ON oidc_tokens(client_id);

-- The apps a portal session (sid) logged into: the receivers of back-channel logout.
CREATE TABLE oidc_session_clients (
    account_id bigint NOT NULL REFERENCES accounts(id),
    sid text NOT NULL,
    client_id text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (sid, client_id, account_id)
);

-- What a user allowed a (non-first-party) app to read: the granted scopes, space-separated.
CREATE TABLE oidc_consents (
    account_id bigint NOT NULL REFERENCES accounts(id),
    client_id text NOT NULL,
    scope text NOT NULL,
    created_at bigint NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
