-- The export's lookups of a row's sourcedId (MIN(sourced_id) by kind and local row) and username:
-- the index of 0009, (kind, local_id), covered neither the order of sourced_id nor username, so
-- without statistics (a freshly imported database) SQLite preferred the primary key on kind
-- alone and scanned every mapping of that kind per row: minutes instead of seconds for a city.
-- With (kind, local_id, sourced_id, username) both lookups are two equalities on a covering
-- index, and MIN(sourced_id) is its first entry.
DROP INDEX oneroster_ids_local;
CREATE INDEX oneroster_ids_local ON oneroster_ids(kind, local_id, sourced_id, username);
