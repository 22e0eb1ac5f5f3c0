-- fleet: versions seen, lab results, known-good registry, org pins (filled in by the fleet workflow)
-- Documented in docs/state-db.md ("Fleet"). Times are RFC 3339 UTC text unless named *_unix.

-- Upstream sources `watch add` registered, as given (npm:NAME, pypi:NAME, crates:NAME,
-- github:OWNER/REPO), with the outcome of the last check.
CREATE TABLE fleet_watches (
    source          TEXT PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('npm', 'pypi', 'crates', 'github')),
    name            TEXT NOT NULL,
    added_at        TEXT NOT NULL,
    last_checked_at TEXT,
    last_status     TEXT CHECK (last_status IN ('ok', 'error')),
    last_error      TEXT
);

-- Every upstream version ever seen, once: the primary key is what keeps concurrent checks
-- from recording a version twice (inserted with INSERT OR IGNORE).
CREATE TABLE fleet_versions (
    source      TEXT NOT NULL REFERENCES fleet_watches (source) ON DELETE CASCADE,
    version     TEXT NOT NULL,
    prerelease  INTEGER NOT NULL CHECK (prerelease IN (0, 1)),
    released_at TEXT,
    url         TEXT NOT NULL,
    seen_at     TEXT NOT NULL,
    PRIMARY KEY (source, version)
);

-- A candidate build: one component at one version, as the lab tested it and the known-good
-- registry refers to it.
CREATE TABLE fleet_builds (
    id         INTEGER PRIMARY KEY,
    component  TEXT NOT NULL,
    version    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (component, version)
);

-- One lab run of a build over a set of canaries, with its verdict.
CREATE TABLE fleet_lab_runs (
    id          INTEGER PRIMARY KEY,
    build_id    INTEGER NOT NULL REFERENCES fleet_builds (id),
    verdict     TEXT NOT NULL CHECK (verdict IN ('green', 'yellow', 'red')),
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    canaries    TEXT NOT NULL
);
CREATE INDEX fleet_lab_runs_by_build ON fleet_lab_runs (build_id, id DESC);

-- The compatibility result of each canary in a lab run.
CREATE TABLE fleet_lab_results (
    run_id      INTEGER NOT NULL REFERENCES fleet_lab_runs (id) ON DELETE CASCADE,
    canary      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('passed', 'failed', 'warning', 'skipped')),
    duration_ms INTEGER NOT NULL,
    exit_code   INTEGER,
    output_tail TEXT NOT NULL,
    notes       TEXT NOT NULL,
    PRIMARY KEY (run_id, canary)
);

-- Versions promoted to a channel; `seq` orders promotions (the newest is the current one,
-- the one before it the rollback target).
CREATE TABLE fleet_known_good (
    component   TEXT NOT NULL,
    channel     TEXT NOT NULL CHECK (channel IN ('stable', 'beta')),
    version     TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    promoted_at TEXT NOT NULL,
    actor       TEXT NOT NULL,
    lab_run_id  INTEGER REFERENCES fleet_lab_runs (id),
    PRIMARY KEY (component, channel, version)
);
CREATE INDEX fleet_known_good_order ON fleet_known_good (component, channel, seq DESC);

-- Known-bad versions: never offered, never promoted.
CREATE TABLE fleet_quarantine (
    component      TEXT NOT NULL,
    version        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    actor          TEXT NOT NULL,
    quarantined_at TEXT NOT NULL,
    PRIMARY KEY (component, version)
);

-- The pin each organisation holds per component (at most one).
CREATE TABLE fleet_pins (
    org          TEXT NOT NULL,
    component    TEXT NOT NULL,
    version      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    expires_unix INTEGER,
    set_by       TEXT NOT NULL,
    set_at       TEXT NOT NULL,
    PRIMARY KEY (org, component)
);

-- Every pin change: set, cleared, expired (noticed by `resolve`, once).
CREATE TABLE fleet_pin_history (
    id           INTEGER PRIMARY KEY,
    org          TEXT NOT NULL,
    component    TEXT NOT NULL,
    action       TEXT NOT NULL CHECK (action IN ('set', 'cleared', 'expired')),
    version      TEXT,
    reason       TEXT,
    expires_unix INTEGER,
    actor        TEXT NOT NULL,
    at           TEXT NOT NULL
);
CREATE INDEX fleet_pin_history_by_pin ON fleet_pin_history (org, component, id);

-- Every webhook delivery attempt.
CREATE TABLE fleet_deliveries (
    id          INTEGER PRIMARY KEY,
    delivery    TEXT NOT NULL,
    event       TEXT NOT NULL,
    component   TEXT,
    version     TEXT,
    url         TEXT NOT NULL,
    attempt     INTEGER NOT NULL,
    status      INTEGER,
    error       TEXT,
    delivered   INTEGER NOT NULL CHECK (delivered IN (0, 1)),
    at          TEXT NOT NULL,
    duration_ms INTEGER NOT NULL
);

-- Audit records committed with a change but not yet appended to HOME/audit.jsonl; drained
-- after the commit and by recovery, so a crash between the two loses no record.
CREATE TABLE fleet_outbox (
    id         TEXT PRIMARY KEY,
    record     TEXT NOT NULL,
    created_at TEXT NOT NULL
);
