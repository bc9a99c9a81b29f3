-- Student lifecycle and transfers (学籍异动, issue #5). A student's status changes are events
-- (admission, suspension, return, withdrawal, death, graduation, and the two halves of a
-- transfer), never overwritten; the current status is the newest event read together with the
-- current enrolment (the enrolment stays the truth of 在籍). A transfer between schools is a
-- workflow row with one row per approval step: who must act, by when, and what they did.
-- school_id is the shard unit as everywhere (docs/SCALING.md): events carry the school where
-- they happened, transfers and their steps the receiving school's.

CREATE TABLE student_status_events (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    school_path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('admission', 'suspension', 'return', 'withdrawal',
                                       'death', 'graduation', 'transfer_out', 'transfer_in')),
    status TEXT NOT NULL CHECK (status IN ('enrolled', 'suspended', 'withdrawn', 'deceased',
                                           'graduated')),
    event_date TEXT NOT NULL,
    expected_return TEXT,
    reason TEXT,
    class_id INTEGER REFERENCES orgs(id),
    enrolment_id INTEGER,
    transfer_id INTEGER,
    account_id INTEGER,
    created_at INTEGER NOT NULL,
    CHECK (expected_return IS NULL OR expected_return > event_date)
);
CREATE INDEX student_status_events_person ON student_status_events(person_id, id);
CREATE INDEX student_status_events_path ON student_status_events(school_path, id);

CREATE TABLE transfers (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL,
    from_school_id INTEGER NOT NULL REFERENCES orgs(id),
    from_school_path TEXT NOT NULL,
    from_class_id INTEGER NOT NULL REFERENCES orgs(id),
    from_enrolment_id INTEGER NOT NULL,
    from_district_id INTEGER NOT NULL REFERENCES orgs(id),
    to_school_id INTEGER NOT NULL REFERENCES orgs(id),
    to_school_path TEXT NOT NULL,
    to_class_id INTEGER NOT NULL REFERENCES orgs(id),
    to_district_id INTEGER NOT NULL REFERENCES orgs(id),
    transfer_date TEXT NOT NULL,
    reason TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'withdrawn')),
    current_step INTEGER NOT NULL,
    n_steps INTEGER NOT NULL CHECK (n_steps IN (3, 4)),
    created_by INTEGER,
    created_at INTEGER NOT NULL,
    closed_at INTEGER,
    closed_by INTEGER,
    close_reason TEXT,
    new_enrolment_id INTEGER,
    CHECK (from_school_id <> to_school_id)
);
CREATE INDEX transfers_person ON transfers(person_id, id);
CREATE INDEX transfers_from ON transfers(from_school_path, id);
CREATE INDEX transfers_to ON transfers(to_school_path, id);

-- Step 1 is the receiving school's request itself; the others wait for their turn. state:
-- waiting (not its turn yet), pending (must act now, by due_date), approved, rejected,
-- cancelled (the transfer ended before its turn).
CREATE TABLE transfer_steps (
    transfer_id INTEGER NOT NULL REFERENCES transfers(id),
    school_id INTEGER NOT NULL,
    step INTEGER NOT NULL CHECK (step BETWEEN 1 AND 4),
    kind TEXT NOT NULL CHECK (kind IN ('to_school', 'to_district', 'from_school',
                                       'from_district', 'district')),
    actor_role INTEGER NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('waiting', 'pending', 'approved', 'rejected',
                                         'cancelled')),
    opened_on TEXT,
    due_date TEXT,
    acted_at INTEGER,
    account_id INTEGER,
    reason TEXT,
    PRIMARY KEY (transfer_id, step, school_id)
);
CREATE INDEX transfer_steps_actor ON transfer_steps(state, org_path, transfer_id);
