-- OneRoster 1.1 import and export (issue #5): the sourcedIds of imported rows and the import jobs.
-- oneroster_ids maps (kind, sourcedId) to the local row it became, so that a re-import updates
-- instead of duplicating and an export gives the same sourcedIds back. kind: 1 org, 2 school
-- year, 3 term (local_id = school_years.id * 10 + term), 4 course (local_id = the grade node),
-- 5 class, 6 user (a person), 7 enrolment (a student's), 8 teaching (a teacher's enrollment).
-- school_id is the shard unit of the local row (docs/SCALING.md; 0 for the calendar, which is
-- installation-wide); org_path is where the row lives, for the scope of the caller; username
-- keeps users.username when it is not the sourcedId itself.
-- Uniqueness of a sourcedId per kind across schools is kept by the importer (it loads the map
-- of the kinds it writes before the first row), as the distributed key holds school_id.

CREATE TABLE oneroster_ids (
    kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 8),
    sourced_id TEXT NOT NULL CHECK (length(sourced_id) BETWEEN 1 AND 255),
    school_id INTEGER NOT NULL,
    local_id INTEGER NOT NULL,
    org_path TEXT,
    username TEXT,
    PRIMARY KEY (kind, sourced_id, school_id)
) WITHOUT ROWID;
-- The export's direction: the sourcedId of a local row.
CREATE INDEX oneroster_ids_local ON oneroster_ids(kind, local_id);

-- An import started over the API: a background job with its state and, once finished, the
-- report (JSON). The progress of a running job is kept in the memory of the server running it;
-- the row holds the state at each change of phase.
CREATE TABLE oneroster_imports (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    account_id INTEGER,
    state TEXT NOT NULL CHECK (state IN ('queued', 'validating', 'writing', 'done', 'failed')),
    phase TEXT,
    rows_done INTEGER NOT NULL DEFAULT 0,
    rows_total INTEGER NOT NULL DEFAULT 0,
    report TEXT,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX oneroster_imports_path ON oneroster_imports(org_path, id);
