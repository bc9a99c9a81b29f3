-- Second factor (issue #4): TOTP secrets (RFC 6238) and how each session was authenticated.
-- The secret is sealed with the installation key like the citizen ID numbers; last_step is the
-- last accepted 30-second step, so a code is taken once (RFC 6238 5.2). confirmed_at stays NULL
-- while the enrolment waits for its first code.
-- sessions.amr is the space-separated list of methods of RFC 8176 that made the session
-- ("pwd", or "pwd otp"): the ID tokens' amr and acr come from it.

CREATE TABLE totp_secrets (
    account_id INTEGER PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    secret_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_step INTEGER NOT NULL DEFAULT 0
);

ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';
