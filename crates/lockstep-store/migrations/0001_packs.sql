-- packs: installed packs, every test run, the transactions that changed the installed set,
-- and the home's settings (the installed core version). Documented in docs/state-db.md.

CREATE TABLE packs (
    name         TEXT PRIMARY KEY,
    version      TEXT NOT NULL,
    description  TEXT NOT NULL,
    keywords     TEXT NOT NULL,            -- JSON array of strings
    source       TEXT NOT NULL,            -- as resolved: a directory, URL@COMMIT, an archive URL
    manifest     TEXT NOT NULL,            -- pack.yaml as installed
    installed_at TEXT NOT NULL,            -- RFC 3339 UTC
    installed_by TEXT NOT NULL,            -- the command line
    outcome      TEXT NOT NULL CHECK (outcome IN ('installed', 'forced', 'untested')),
    txid         TEXT NOT NULL             -- the pack transaction that installed it
);

CREATE TABLE pack_test_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    pack            TEXT NOT NULL,
    version         TEXT NOT NULL,
    txid            TEXT NOT NULL,         -- the install (or `pack test`) it was part of
    started         TEXT NOT NULL,         -- RFC 3339 UTC
    duration_ms     INTEGER NOT NULL,
    total           INTEGER NOT NULL,
    passed          INTEGER NOT NULL,
    failed          INTEGER NOT NULL,
    skipped         INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('passed', 'partial', 'failed', 'skipped')),
    forced          INTEGER NOT NULL CHECK (forced IN (0, 1)),
    skipped_by_user INTEGER NOT NULL CHECK (skipped_by_user IN (0, 1)),
    output_tail     TEXT NOT NULL
);
CREATE INDEX pack_test_runs_by_pack ON pack_test_runs (pack, id);

CREATE TABLE pack_transactions (
    txid        TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('install', 'remove')),
    command     TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    packs       TEXT NOT NULL              -- JSON array of NAME@VERSION
);

CREATE TABLE pack_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
