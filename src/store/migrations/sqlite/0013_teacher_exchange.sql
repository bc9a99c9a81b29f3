-- Teacher exchange and rotation (交流轮岗) and recruitment intake (issue #5).
-- An exchange moves a teacher from the school of a current post to another school: a rotation
-- (轮岗) serves there for a period and keeps the home post (编制 stays), a transfer (调动) ends
-- the home post. A bureau proposes it, both schools agree, then the posts change; the row keeps
-- the whole story. school_id is the sending school, where the teacher's post lives.

CREATE TABLE teacher_exchanges (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id),
    kind TEXT NOT NULL CHECK (kind IN ('rotation', 'transfer')),
    state TEXT NOT NULL CHECK (state IN ('proposed', 'active', 'done', 'rejected', 'cancelled')),
    from_post_id INTEGER NOT NULL REFERENCES posts(id),
    from_school_id INTEGER NOT NULL REFERENCES orgs(id),
    from_path TEXT NOT NULL,
    to_school_id INTEGER NOT NULL REFERENCES orgs(id),
    to_path TEXT NOT NULL,
    bureau_path TEXT NOT NULL,
    to_post_id INTEGER,
    title TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 100),
    subjects TEXT,
    start_date TEXT NOT NULL,
    end_date TEXT,
    reason TEXT NOT NULL,
    proposed_by INTEGER NOT NULL,
    from_ok_by INTEGER,
    to_ok_by INTEGER,
    rejected_by INTEGER,
    reject_reason TEXT,
    returned_on TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CHECK (from_school_id <> to_school_id),
    CHECK (end_date IS NULL OR end_date > start_date)
);
CREATE INDEX teacher_exchanges_from ON teacher_exchanges(from_path, id);
CREATE INDEX teacher_exchanges_to ON teacher_exchanges(to_path, id);
CREATE INDEX teacher_exchanges_person ON teacher_exchanges(person_id, id);
-- One open exchange per teacher at a time (the store checks it too: see PostgreSQL's file).
CREATE UNIQUE INDEX teacher_exchanges_open ON teacher_exchanges(person_id)
    WHERE state IN ('proposed', 'active');

-- A recruitment intake (新教师招聘入职): a bureau or school registers a batch of new hires,
-- each with a post at a school from the batch's start date, in one transaction.
-- school_id is the shard unit of the org that ran the batch (a district or city bureau).
CREATE TABLE recruitment_batches (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    start_date TEXT NOT NULL,
    n_hires INTEGER NOT NULL,
    created_by INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX recruitment_batches_path ON recruitment_batches(org_path, id);

-- school_id is the hire's school, where the person and the post live.
CREATE TABLE recruitment_hires (
    batch_id INTEGER NOT NULL REFERENCES recruitment_batches(id),
    school_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id),
    post_id INTEGER NOT NULL REFERENCES posts(id),
    PRIMARY KEY (batch_id, person_id)
) WITHOUT ROWID;
