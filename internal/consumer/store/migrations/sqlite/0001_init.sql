-- The violations consumer's store, SQLite. Times are Unix milliseconds;
-- a run is named by its audit's start time (the messages' id).
CREATE TABLE violations (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    cluster            TEXT    NOT NULL,
    vkey               TEXT    NOT NULL UNIQUE,
    c_group            TEXT    NOT NULL,
    c_kind             TEXT    NOT NULL,
    c_name             TEXT    NOT NULL,
    r_group            TEXT    NOT NULL,
    r_version          TEXT    NOT NULL,
    r_kind             TEXT    NOT NULL,
    r_namespace        TEXT    NOT NULL,
    r_name             TEXT    NOT NULL,
    message            TEXT    NOT NULL,
    enforcement_action TEXT    NOT NULL,
    labels             TEXT    NOT NULL,
    state              TEXT    NOT NULL,
    first_seen         INTEGER NOT NULL,
    last_seen          INTEGER NOT NULL,
    resolved_at        INTEGER,
    resolved_run       INTEGER,
    reason             TEXT    NOT NULL DEFAULT '',
    run_count          INTEGER NOT NULL DEFAULT 0,
    miss_count         INTEGER NOT NULL DEFAULT 0,
    first_missed       INTEGER
);
CREATE INDEX violations_cluster_state ON violations (cluster, state);
CREATE INDEX violations_resolved_at ON violations (resolved_at);

CREATE TABLE events (
    violation_id INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    run          INTEGER,
    kind         TEXT    NOT NULL,
    reason       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_violation ON events (violation_id);

CREATE TABLE runs (
    cluster        TEXT    NOT NULL,
    run            INTEGER NOT NULL,
    started_marker INTEGER NOT NULL DEFAULT 0,
    completed_at   INTEGER,
    status_at      INTEGER,
    state          TEXT    NOT NULL,
    reason         TEXT    NOT NULL DEFAULT '',
    received       INTEGER NOT NULL DEFAULT 0,
    new_count      INTEGER NOT NULL DEFAULT 0,
    still_open     INTEGER NOT NULL DEFAULT 0,
    resolved_count INTEGER NOT NULL DEFAULT 0,
    would_resolve  INTEGER NOT NULL DEFAULT 0,
    first_received INTEGER NOT NULL,
    finalized_at   INTEGER,
    PRIMARY KEY (cluster, run)
);

CREATE TABLE run_constraints (
    cluster  TEXT    NOT NULL,
    run      INTEGER NOT NULL,
    c_group  TEXT    NOT NULL,
    c_kind   TEXT    NOT NULL,
    c_name   TEXT    NOT NULL,
    received INTEGER NOT NULL DEFAULT 0,
    expected INTEGER NOT NULL DEFAULT -1,
    PRIMARY KEY (cluster, run, c_group, c_kind, c_name)
);

CREATE TABLE sightings (
    cluster      TEXT    NOT NULL,
    run          INTEGER NOT NULL,
    violation_id INTEGER NOT NULL,
    PRIMARY KEY (cluster, run, violation_id)
);
