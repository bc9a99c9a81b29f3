-- Schools and classes management and the year-end promotion (issue #5).
-- A school is closed (orgs.closed_on) or merged into another (orgs.merged_into, closed on the
-- merge date): its row, its classes and their history stay. A teaching point (教学点) is a
-- school whose central school is orgs.central_school_id.
-- School identifier codes (学校标识码) are never reused: school_codes keeps every code ever
-- given to a school, so that a code changed by an edit is not handed out again either (the
-- UNIQUE column of orgs forgets a code once its school takes another one).
-- A promotion run (升级) is one school's move from one school year to the next; its steps name
-- every row the run created, ended or closed, so that an undo restores exactly the state before
-- until the run is confirmed. Runs and steps are rows of the school (school_id, the shard unit
-- of docs/SCALING.md).

-- No foreign keys on these two: unlike parent_id they may name a later org, and a copy between
-- databases (edubrain migrate) inserts orgs in id order; the store checks both.
ALTER TABLE orgs ADD COLUMN merged_into INTEGER;
ALTER TABLE orgs ADD COLUMN central_school_id INTEGER;
CREATE INDEX orgs_central_school ON orgs(central_school_id) WHERE central_school_id IS NOT NULL;

CREATE TABLE school_codes (
    code TEXT PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    created_at INTEGER NOT NULL
);
INSERT INTO school_codes (code, org_id, created_at)
    SELECT school_code, id, created_at FROM orgs WHERE school_code IS NOT NULL;

CREATE TABLE promotion_runs (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL REFERENCES orgs(id),
    school_path TEXT NOT NULL,
    from_year INTEGER NOT NULL,
    to_year INTEGER NOT NULL CHECK (to_year = from_year + 1),
    run_date TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('applied', 'confirmed', 'undone')),
    n_classes INTEGER NOT NULL DEFAULT 0,
    n_promoted INTEGER NOT NULL DEFAULT 0,
    n_graduated INTEGER NOT NULL DEFAULT 0,
    account_id INTEGER,
    created_at INTEGER NOT NULL,
    closed_at INTEGER
);
-- One live run per school and year: a second run of the same year is refused (an undone run
-- no longer counts).
CREATE UNIQUE INDEX promotion_runs_once ON promotion_runs(school_id, from_year)
    WHERE state <> 'undone';
CREATE INDEX promotion_runs_path ON promotion_runs(school_path, id);

CREATE TABLE promotion_steps (
    run_id INTEGER NOT NULL REFERENCES promotion_runs(id),
    school_id INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('org_created', 'class_closed', 'enrolment_ended',
                                           'enrolment_created', 'teaching_ended',
                                           'teaching_created', 'status_event')),
    object_id INTEGER NOT NULL,
    PRIMARY KEY (run_id, action, object_id)
) WITHOUT ROWID;
