-- The signing keys of the OpenID Connect provider, as migrations/sqlite/0002_oidc_keys.sql.
-- A reference table on Citus (docs/SCALING.md): a handful of installation-wide rows that every
-- node reads, written only by `edubrain keys rotate`.

CREATE TABLE oidc_keys (
    kid text PRIMARY KEY,
    alg text NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    public_jwk text NOT NULL,
    private_sealed bytea NOT NULL,
    created_at bigint NOT NULL,
    activates_at bigint NOT NULL,
    removes_at bigint
);
CREATE INDEX oidc_keys_alg ON oidc_keys(alg, activates_at);
