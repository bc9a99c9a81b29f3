-- School years and their two terms (issue #5): 学年 such as 2025-2026 and 学期 1 and 2. Dates
-- are text YYYY-MM-DD like every date of the registry; a term lies inside its year, term 1
-- before term 2, and years never overlap (the store checks what a CHECK cannot).

CREATE TABLE school_years (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE CHECK (length(name) = 9),
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CHECK (end_date > start_date)
);
CREATE INDEX school_years_start ON school_years(start_date);

CREATE TABLE terms (
    school_year_id INTEGER NOT NULL REFERENCES school_years(id),
    term INTEGER NOT NULL CHECK (term IN (1, 2)),
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    PRIMARY KEY (school_year_id, term),
    CHECK (end_date > start_date)
);
