-- Indicators and alerts of the education brain (issue #6, docs/internals/brain.md).
-- indicators: the city's own definitions (the built-in ones ship in config/indicators.json); one
-- JSON document per code, read by every server. alerts: what the policy rules opened and cleared,
-- one open row per rule and node at most; school_id is the shard unit of the node
-- (docs/SCALING.md).

CREATE TABLE indicators (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE CHECK (length(code) BETWEEN 1 AND 64),
    definition TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    created_by INTEGER
);

CREATE TABLE alerts (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    rule TEXT NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    since_day INTEGER NOT NULL,
    last_day INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('open', 'closed')),
    detail TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    closed_at INTEGER,
    cleared_day INTEGER
);
-- Servers that follow the same changes open the same alert: the second insert does nothing.
CREATE UNIQUE INDEX alerts_one_open ON alerts(rule, org_id, school_id) WHERE state = 'open';
-- The alerts of a subtree, newest first.
CREATE INDEX alerts_path ON alerts(org_path, id);
