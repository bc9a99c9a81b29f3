-- As migrations/sqlite/0018_teaching_person.sql: a teacher's classes on a day, read once per
-- batch of observations, as a short range of the person's own teaching rows.
CREATE INDEX teaching_person ON teaching(person_id, class_path);
