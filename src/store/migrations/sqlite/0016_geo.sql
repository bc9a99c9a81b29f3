-- The education map (issue #6): the boundary of each district as a GeoJSON geometry.
-- One row per district org: a Polygon or MultiPolygon in WGS 84 longitude/latitude, either
-- generated for the demo city (source 'generated') or imported from the city's own boundary
-- file with `edubrain import geojson` (source 'imported'; an import replaces a generated row).
-- The geometry is kept as the JSON text it is served as: the map reads every row at once and
-- never queries inside a shape.
CREATE TABLE district_boundaries (
    org_id INTEGER PRIMARY KEY REFERENCES orgs(id),
    geometry TEXT NOT NULL CHECK (length(geometry) BETWEEN 2 AND 8000000),
    source TEXT NOT NULL CHECK (source IN ('generated', 'imported')),
    updated_at INTEGER NOT NULL
);
