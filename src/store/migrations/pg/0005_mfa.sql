-- Second factor (issue #4), as in migrations/sqlite/0005_mfa.sql. Distributed by account_id,
-- co-located with accounts.

CREATE TABLE totp_secrets (
    account_id bigint PRIMARY KEY,
    secret_sealed bytea NOT NULL,
    created_at bigint NOT NULL,
    confirmed_at bigint,
    last_step bigint NOT NULL DEFAULT 0
);

ALTER TABLE sessions ADD COLUMN amr text NOT NULL DEFAULT 'pwd';
