-- The first schema: org tree, people, enrolments/posts/teaching/guardians, accounts, grants,
-- sessions, login throttling and the append-only audit log.
-- Paths are materialised ("/1/12/345/"): a subtree is the range [path, path with the last
-- '/' turned into '0'). Rows that are listed by subtree carry the path of their org so that
-- the listing is one range scan on one index.
-- Every row below the org tree carries school_id, its shard unit: the school on its org's path,
-- or the org itself when that lies above any school (docs/SCALING.md). PostgreSQL keys those
-- tables by (id, school_id) as Citus needs; SQLite is one node and keeps its rowid keys, with
-- the same columns so that `edubrain migrate` copies between the two.

CREATE TABLE orgs (
    id INTEGER PRIMARY KEY,
    parent_id INTEGER REFERENCES orgs(id),
    kind INTEGER NOT NULL CHECK (kind BETWEEN 1 AND 5),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    path TEXT UNIQUE,
    division_code TEXT,
    school_code TEXT UNIQUE,
    running_type TEXT,
    stages INTEGER NOT NULL DEFAULT 0,
    urban_rural TEXT,
    address TEXT,
    lat REAL,
    lon REAL,
    grade_code TEXT,
    school_year INTEGER,
    closed_on TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX orgs_children ON orgs(parent_id, id);
CREATE INDEX orgs_kind ON orgs(kind);

-- The data version of each school, grade and class, bumped in the same transaction as every
-- change at or below it: readers cache a node's lists under the version they read. Kept apart
-- from orgs (a reference table on Citus, where every write is a two-phase commit on every
-- node) and keyed by the school, so that the bump stays in the school's shard.
CREATE TABLE org_versions (
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    school_id INTEGER NOT NULL,
    data_version INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (org_id, school_id)
) WITHOUT ROWID;

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('student', 'teacher', 'parent', 'staff')),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    sex INTEGER NOT NULL DEFAULT 0 CHECK (sex IN (0, 1, 2)),
    birth_date TEXT,
    citizen_id_enc BLOB,
    citizen_id_idx TEXT,
    -- The masked forms everyone in scope sees (first 6 and last 4 characters), kept in clear so
    -- that lists never decrypt; only a granted full read opens the sealed value.
    citizen_id_mask TEXT,
    -- A G student number is 'G' + the citizen ID: encrypted like it, unique by blind index.
    student_no_enc BLOB,
    student_no_idx TEXT UNIQUE,
    student_no_mask TEXT,
    staff_no TEXT,
    phone TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX people_path ON people(org_path, id);
CREATE INDEX people_citizen_idx ON people(citizen_id_idx);

CREATE TABLE enrolments (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id),
    class_id INTEGER NOT NULL REFERENCES orgs(id),
    class_path TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX enrolments_person ON enrolments(person_id, id);
-- A student has at most one current enrolment.
CREATE UNIQUE INDEX enrolments_current_person ON enrolments(person_id) WHERE end_date IS NULL;
-- The hot path: current students of a class (or of any subtree) in one range scan.
CREATE INDEX enrolments_current_path ON enrolments(class_path, person_id) WHERE end_date IS NULL;
-- A class roster in person order straight from the index: the API's hottest read.
CREATE INDEX enrolments_current_class ON enrolments(class_id, person_id) WHERE end_date IS NULL;

CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    school_id INTEGER NOT NULL REFERENCES orgs(id),
    school_path TEXT NOT NULL,
    title TEXT NOT NULL,
    subjects TEXT,
    start_date TEXT NOT NULL,
    end_date TEXT,
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX posts_person ON posts(person_id, id);
CREATE INDEX posts_current_path ON posts(school_path, person_id) WHERE end_date IS NULL;

CREATE TABLE teaching (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    post_id INTEGER NOT NULL REFERENCES posts(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    class_id INTEGER NOT NULL REFERENCES orgs(id),
    class_path TEXT NOT NULL,
    subject TEXT NOT NULL,
    is_head_teacher INTEGER NOT NULL DEFAULT 0 CHECK (is_head_teacher IN (0, 1)),
    start_date TEXT NOT NULL,
    end_date TEXT,
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX teaching_post ON teaching(post_id);
CREATE INDEX teaching_current_path ON teaching(class_path, person_id) WHERE end_date IS NULL;

-- Written where the student is: school_id is the student's.
CREATE TABLE guardians (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL,
    parent_id INTEGER NOT NULL REFERENCES people(id),
    student_id INTEGER NOT NULL REFERENCES people(id),
    relation TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT,
    CHECK (parent_id <> student_id),
    CHECK (end_date IS NULL OR end_date >= start_date)
);
CREATE INDEX guardians_parent ON guardians(parent_id, student_id);
CREATE INDEX guardians_student ON guardians(student_id, parent_id);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    login TEXT NOT NULL CHECK (length(login) BETWEEN 1 AND 64),
    display_name TEXT NOT NULL,
    password_hash TEXT,
    person_id INTEGER REFERENCES people(id),
    must_change_password INTEGER NOT NULL DEFAULT 0,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX accounts_person ON accounts(person_id);

-- Login names are unique here, not on accounts: on Citus accounts are distributed by their id,
-- and only a table keyed by the name itself can hold a unique constraint on it.
CREATE TABLE account_logins (
    login TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id)
);

CREATE TABLE grants (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    role INTEGER NOT NULL CHECK (role BETWEEN 1 AND 8),
    org_id INTEGER NOT NULL REFERENCES orgs(id),
    org_path TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, role, org_id)
);
CREATE INDEX grants_path ON grants(org_path, account_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    csrf_token TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    client_addr TEXT
);
CREATE INDEX sessions_account ON sessions(account_id);

CREATE TABLE login_throttle (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    last_at INTEGER NOT NULL
);

CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    school_id INTEGER NOT NULL DEFAULT 0, -- 0: an entry about no org (a failed login)
    at INTEGER NOT NULL,
    account_id INTEGER,
    client_addr TEXT,
    action TEXT NOT NULL,
    object_type TEXT,
    object_id INTEGER,
    org_path TEXT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_path ON audit(org_path, id);

-- The audit log is append-only: the database itself refuses to change or remove a row.
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'audit is append-only');
END;
