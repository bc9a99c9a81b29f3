-- The education map (issue #6), as in migrations/sqlite/0016_geo.sql: one GeoJSON geometry per
-- district org. A reference table on Citus (a few dozen rows read whole by every map request,
-- written by an import or the demo generator).
CREATE TABLE district_boundaries (
    org_id bigint PRIMARY KEY REFERENCES orgs(id),
    geometry text NOT NULL CHECK (length(geometry) BETWEEN 2 AND 8000000),
    source text NOT NULL CHECK (source IN ('generated', 'imported')),
    updated_at bigint NOT NULL
);
