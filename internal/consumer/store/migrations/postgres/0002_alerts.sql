-- Alerts on change: the cursor of each cluster (the newest complete run
-- whose changes are in the outbox) and the outbox the senders drain.
CREATE TABLE alert_cursor (
    cluster      TEXT    PRIMARY KEY,
    run          BIGINT  NOT NULL,
    finalized_at BIGINT  NOT NULL
);

CREATE TABLE alert_outbox (
    id            BIGSERIAL PRIMARY KEY,
    route         TEXT    NOT NULL,
    cluster       TEXT    NOT NULL,
    run           BIGINT  NOT NULL,
    idem_key      TEXT    NOT NULL UNIQUE,
    body          TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    attempts      BIGINT  NOT NULL DEFAULT 0,
    next_at       BIGINT  NOT NULL,
    claimed_until BIGINT  NOT NULL DEFAULT 0,
    last_error    TEXT    NOT NULL DEFAULT '',
    sent_at       BIGINT
);
CREATE INDEX alert_outbox_route ON alert_outbox (route, sent_at, id);

-- The changes of a run are read by run.
CREATE INDEX events_run ON events (run);
