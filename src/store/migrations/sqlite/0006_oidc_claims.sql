-- OpenID Connect claims and authentication context (issue #4): what a code and the tokens it
-- issues must carry into every ID token and userinfo answer of the grant.
-- claims is the request's claims parameter (OIDC-Core 5.5) as compact JSON, NULL when none;
-- amr is the space-separated list of RFC 8176 methods of the portal session the code came from
-- ("pwd" or "pwd otp") and acr the level it gave ("1" or "2"). NULL amr/acr (rows older than
-- this migration, and client_credentials tokens, which have no user) read as "pwd" and "1".

ALTER TABLE oidc_codes ADD COLUMN claims TEXT;
ALTER TABLE oidc_codes ADD COLUMN amr TEXT;
ALTER TABLE oidc_codes ADD COLUMN acr TEXT;
ALTER TABLE oidc_tokens ADD COLUMN claims TEXT;
ALTER TABLE oidc_tokens ADD COLUMN amr TEXT;
ALTER TABLE oidc_tokens ADD COLUMN acr TEXT;
