-- Accounts for everyone (issue #4): the parents' binding codes. One live code per student,
-- stored only as a SHA-256 (the form "$otc$<expires>$<hex>" of the accounts' one-time codes,
-- docs/internals/activation.md); a use or a re-issue replaces or removes the row. Keyed with the
-- student's school (school_id), the shard unit, like the guardian link it leads to.
-- The one-time codes of the accounts themselves need no table: until activation the account's
-- password_hash holds the code's hash, so choosing a password ends the code.

CREATE TABLE binding_codes (
    student_id INTEGER NOT NULL REFERENCES people(id),
    school_id INTEGER NOT NULL,
    code_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (student_id, school_id)
) WITHOUT ROWID;
