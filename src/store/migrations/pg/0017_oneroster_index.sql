-- As migrations/sqlite/0017_oneroster_index.sql: the export's lookups of a row's sourcedId and
-- username read the index alone, MIN(sourced_id) being its first entry for (kind, local_id).
DROP INDEX oneroster_ids_local;
CREATE INDEX oneroster_ids_local ON oneroster_ids(kind, local_id, sourced_id, username);
