-- rollout: staged rollouts and their events (the rollout workflow, lockstep-fleet's rollout module)

-- One row per rollout. `state` is running | paused | halted | completed | aborted; at most one
-- rollout per component and channel is running or paused. `stage` indexes the policy's stages;
-- `policy` is the policy as JSON (stages, min_samples, max_failure_rate, max_latency_ms, z,
-- stage_deadline_secs). Times are Unix seconds. `followup_pending` is 1 between a halt's commit
-- and the end of its follow-ups (quarantine, notification, audit record), so a crash in
-- between is finished by the next rollout command.
CREATE TABLE rollouts (
    id               TEXT PRIMARY KEY,
    component        TEXT NOT NULL,
    version          TEXT NOT NULL,
    channel          TEXT NOT NULL,
    rollback_version TEXT NOT NULL,
    state            TEXT NOT NULL
                     CHECK (state IN ('running', 'paused', 'halted', 'completed', 'aborted')),
    stage            INTEGER NOT NULL,
    stage_started    INTEGER NOT NULL,
    policy           TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    halt_evidence    TEXT,
    followup_pending INTEGER NOT NULL DEFAULT 0
);

CREATE UNIQUE INDEX rollouts_one_active ON rollouts (component, channel)
    WHERE state IN ('running', 'paused');
CREATE INDEX rollouts_by_component ON rollouts (component, channel, started_at);

-- Everything that happened to a rollout, in order: `kind` is report | report_other_version |
-- started | advanced | paused | resumed | halted | completed | aborted. Reports carry the unit, outcome
-- (success | failure) and latency; `stage` is the stage index the rollout was at.
CREATE TABLE rollout_events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    rollout_id TEXT NOT NULL REFERENCES rollouts (id),
    at         INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    stage      INTEGER NOT NULL,
    unit       TEXT,
    outcome    TEXT CHECK (outcome IS NULL OR outcome IN ('success', 'failure')),
    latency_ms INTEGER,
    detail     TEXT
);

CREATE INDEX rollout_events_by_stage ON rollout_events (rollout_id, stage, kind);
