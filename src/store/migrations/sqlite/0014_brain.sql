-- The education brain (issue #6): data elements and observations.
-- A data element is a reference row (a few dozen, read by every ingest and query). Observations
-- are append-only facts: a correction is a new row that names the row it supersedes; nothing is
-- updated or deleted. Days are days since 1970-01-01 (the city's calendar day).

CREATE TABLE data_elements (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    name_zh TEXT NOT NULL CHECK (length(name_zh) BETWEEN 1 AND 100),
    name_en TEXT NOT NULL CHECK (length(name_en) BETWEEN 1 AND 100),
    unit_zh TEXT,
    unit_en TEXT,
    value_type TEXT NOT NULL CHECK (value_type IN ('number', 'integer', 'boolean')),
    aggregation TEXT NOT NULL
        CHECK (aggregation IN ('sum', 'average', 'count', 'last', 'min', 'max')),
    org_level INTEGER NOT NULL CHECK (org_level BETWEEN 1 AND 5),
    per_person INTEGER NOT NULL DEFAULT 0 CHECK (per_person IN (0, 1)),
    min_value REAL NOT NULL,
    max_value REAL NOT NULL,
    builtin INTEGER NOT NULL DEFAULT 0 CHECK (builtin IN (0, 1)),
    created_at INTEGER NOT NULL,
    CHECK (max_value >= min_value)
);

-- school_id: the shard unit of the observation's org (docs/SCALING.md).
CREATE TABLE observations (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    element_id INTEGER NOT NULL REFERENCES data_elements(id),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    person_id INTEGER,
    day INTEGER NOT NULL,
    value REAL NOT NULL,
    category TEXT,
    supersedes INTEGER,
    reason TEXT,
    created_at INTEGER NOT NULL,
    created_by INTEGER,
    CHECK (supersedes IS NULL OR reason IS NOT NULL)
);
-- The SQL reference of the benchmarks and the naive recomputation of the tests: one element,
-- a subtree, a day range.
CREATE INDEX observations_element_path_day ON observations(element_id, org_path, day);
-- Superseded rows are those some row names; the rebuild skips them through this index.
CREATE INDEX observations_supersedes ON observations(supersedes) WHERE supersedes IS NOT NULL;

-- Observations are append-only: the database itself refuses to change or remove a row.
CREATE TRIGGER observations_no_update BEFORE UPDATE ON observations
BEGIN
    SELECT RAISE(ABORT, 'observations are append-only');
END;
CREATE TRIGGER observations_no_delete BEFORE DELETE ON observations
BEGIN
    SELECT RAISE(ABORT, 'observations are append-only');
END;
