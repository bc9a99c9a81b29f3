-- The signing keys of the OpenID Connect provider (src/auth/keys.c). Installation-wide: every
-- server process signs with the same keys and publishes the same JWKS. The private half is
-- sealed with the store's secret key (store_keys.c) and never stored in clear.
-- A key is published from created_at, signs from activates_at until a newer key of its
-- algorithm activates, and leaves the JWKS at removes_at (NULL: not scheduled), which rotation
-- sets to the next key's activation plus the longest token lifetime.

CREATE TABLE oidc_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL CHECK (alg IN ('RS256', 'ES256', 'EdDSA')),
    public_jwk TEXT NOT NULL,
    private_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    activates_at INTEGER NOT NULL,
    removes_at INTEGER
);
CREATE INDEX oidc_keys_alg ON oidc_keys(alg, activates_at);
