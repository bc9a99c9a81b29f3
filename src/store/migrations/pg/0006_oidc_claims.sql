-- OpenID Connect claims and authentication context (issue #4), as in
-- migrations/sqlite/0006_oidc_claims.sql.

ALTER TABLE oidc_codes ADD COLUMN claims text, ADD COLUMN amr text, ADD COLUMN acr text;
ALTER TABLE oidc_tokens ADD COLUMN claims text, ADD COLUMN amr text, ADD COLUMN acr text;
