-- Who reports observations (docs/internals/brain.md, "Who reports"): a teacher writes for the
-- classes they head or teach, read once per batch from the teacher's own teaching rows on the
-- day. The index of 0001, (class_path, person_id) WHERE end_date IS NULL, serves rosters by class
-- and misses a row whose end is already set (a promotion prepared for a later date); this one
-- makes the lookup a short range of the person's rows, ended or not.
CREATE INDEX teaching_person ON teaching(person_id, class_path);
