-- The violations consumer's store, PostgreSQL. Times are Unix milliseconds;
-- a run is named by its audit's start time (the messages' id).
CREATE TABLE violations (
    id                 BIGSERIAL PRIMARY KEY,
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
    first_seen         BIGINT NOT NULL,
    last_seen          BIGINT NOT NULL,
    resolved_at        BIGINT,
    resolved_run       BIGINT,
    reason             TEXT    NOT NULL DEFAULT '',
    run_count          BIGINT NOT NULL DEFAULT 0,
    miss_count         BIGINT NOT NULL DEFAULT 0,
    first_missed       BIGINT
);
CREATE INDEX violations_cluster_state ON violations (cluster, state);
CREATE INDEX violations_resolved_at ON violations (resolved_at);

CREATE TABLE events (
    violation_id BIGINT NOT NULL,
    at           BIGINT NOT NULL,
    run          BIGINT,
    kind         TEXT    NOT NULL,
    reason       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_violation ON events (violation_id);

CREATE TABLE runs (
    cluster        TEXT    NOT NULL,
    run            BIGINT NOT NULL,
    started_marker BIGINT NOT NULL DEFAULT 0,
    completed_at   BIGINT,
    status_at      BIGINT,
    state          TEXT    NOT NULL,
    reason         TEXT    NOT NULL DEFAULT '',
    received       BIGINT NOT NULL DEFAULT 0,
    new_count      BIGINT NOT NULL DEFAULT 0,
    still_open     BIGINT NOT NULL DEFAULT 0,
    resolved_count BIGINT NOT NULL DEFAULT 0,
    would_resolve  BIGINT NOT NULL DEFAULT 0,
    first_received BIGINT NOT NULL,
    finalized_at   BIGINT,
    PRIMARY KEY (cluster, run)
);

CREATE TABLE run_constraints (
    cluster  TEXT    NOT NULL,
    run      BIGINT NOT NULL,
    c_group  TEXT    NOT NULL,
    c_kind   TEXT    NOT NULL,
    c_name   TEXT    NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    expected BIGINT NOT NULL DEFAULT -1,
    PRIMARY KEY (cluster, run, c_group, c_kind, c_name)
);

CREATE TABLE sightings (
    cluster      TEXT    NOT NULL,
    run          BIGINT NOT NULL,
    violation_id BIGINT NOT NULL,
    PRIMARY KEY (cluster, run, violation_id)
);
