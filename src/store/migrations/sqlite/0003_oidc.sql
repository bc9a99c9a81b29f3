-- The OpenID Connect provider's clients (the apps of the portal), authorization codes, tokens,
-- the apps each portal session logged into (for back-channel logout) and consents
-- (src/oidc, src/store/store_oidc.c). Codes and tokens are stored as the hex SHA-256 of their
-- value: they are high-entropy random strings, so a fast hash is enough and a database dump
-- yields nothing usable.

-- One row per app. redirect_uris and post_logout_uris hold exact strings, one per line,
-- compared byte for byte. roles is a bit set of (1 << enum eb_role), stages of enum eb_stage;
-- 0 means "everyone". The app belongs to org_id: administrators manage apps inside their scope
-- and users see the apps of the orgs above them.
CREATE TABLE oidc_clients (
    client_id TEXT PRIMARY KEY CHECK (length(client_id) BETWEEN 1 AND 128),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    icon TEXT,
    category TEXT,
    description TEXT,
    roles INTEGER NOT NULL DEFAULT 0,
    stages INTEGER NOT NULL DEFAULT 0,
    launch_url TEXT,
    redirect_uris TEXT NOT NULL,
    post_logout_uris TEXT NOT NULL DEFAULT '',
    secret_hash TEXT,
    is_public INTEGER NOT NULL DEFAULT 0,
    first_party INTEGER NOT NULL DEFAULT 0,
    id_token_alg TEXT NOT NULL DEFAULT 'RS256' CHECK (id_token_alg IN ('RS256', 'ES256', 'EdDSA')),
    backchannel_logout_uri TEXT,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX oidc_clients_path ON oidc_clients(org_path);

-- Authorization codes: single use (used counts the attempts), short-lived.
CREATE TABLE oidc_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    account_id INTEGER NOT NULL,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    code_challenge TEXT,
    sid TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);

-- Access (kind 1) and refresh (kind 2) tokens. A refresh token is rotated on every use
-- (rotated_at); every token of one grant shares family_id, so that a reused refresh token or
-- a reused code (code_hash) revokes the whole grant. account_id is 0 for client_credentials.
CREATE TABLE oidc_tokens (
    token_hash TEXT PRIMARY KEY,
    kind INTEGER NOT NULL CHECK (kind IN (1, 2)),
    client_id TEXT NOT NULL,
    account_id INTEGER NOT NULL,
    scope TEXT NOT NULL,
    sid TEXT,
    auth_time INTEGER NOT NULL DEFAULT 0,
    family_id TEXT NOT NULL,
    code_hash TEXT,
    nonce TEXT,
    expires_at INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    rotated_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX oidc_tokens_family ON oidc_tokens(family_id);
CREATE INDEX oidc_tokens_sid ON oidc_tokens(sid);
CREATE INDEX oidc_tokens_code ON oidc_tokens(code_hash);
CREATE INDEX oidc_tokens_client ON oidc_tokens(client_id);

-- The apps a portal session (sid) logged into: the receivers of back-channel logout.
CREATE TABLE oidc_session_clients (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    sid TEXT NOT NULL,
    client_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (sid, client_id, account_id)
);

-- What a user allowed a (non-first-party) app to read: the granted scopes, space-separated.
CREATE TABLE oidc_consents (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    client_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, client_id)
);
