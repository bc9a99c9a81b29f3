-- Data-quality checks (issue #5): each run of the checks over a subtree of the org tree, and the
-- findings it left. A run replaces the findings of its scope (the subtree of its org): findings
-- are the current state of the data, the runs their short history. Each finding names the
-- record to fix (a person, a class or a school) and the org where it sits, whose path is kept so
-- that a subtree's findings, and their counts per child node, are range scans.
-- school_id is the shard unit (docs/SCALING.md): for a run, that of its org; for a finding, the
-- school of the record (or the org itself above school level).

CREATE TABLE quality_runs (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('manual', 'nightly', 'cli')),
    -- The nightly run's local day (YYYY-MM-DD): unique per org, so that of several servers on one
    -- database only the first to claim the day runs it.
    nightly_day TEXT,
    account_id INTEGER,
    started_at INTEGER NOT NULL, -- unix milliseconds
    finished_at INTEGER,         -- NULL while running (or when the run died)
    n_findings INTEGER NOT NULL DEFAULT 0,
    counts TEXT                  -- JSON object: check code -> findings
);
CREATE INDEX quality_runs_org ON quality_runs(org_id, id);
CREATE UNIQUE INDEX quality_runs_nightly ON quality_runs(org_id, nightly_day)
    WHERE nightly_day IS NOT NULL;

CREATE TABLE quality_findings (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    check_code TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    object_type TEXT NOT NULL CHECK (object_type IN ('person', 'class', 'school')),
    object_id INTEGER NOT NULL,
    object_name TEXT,
    detail TEXT NOT NULL, -- JSON object with the values the message names (never a plain ID)
    created_at INTEGER NOT NULL
);
-- The roll-up counts per check of a subtree come from this index alone.
CREATE INDEX quality_findings_path ON quality_findings(org_path, check_code);
