-- Accounts for everyone (issue #4): the parents' binding codes, as in
-- migrations/sqlite/0004_activation.sql. Distributed by school_id (the student's school) with
-- the people and guardians; the link to people is kept by the store, as for guardians.

CREATE TABLE binding_codes (
    student_id bigint NOT NULL,
    school_id bigint NOT NULL,
    code_hash text NOT NULL,
    created_at bigint NOT NULL,
    expires_at bigint NOT NULL,
    PRIMARY KEY (student_id, school_id)
);
