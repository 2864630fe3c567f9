-- 003: moderators' scheduled posts and every run of them (SPEC §6).

CREATE TABLE schedules (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,  -- never reused: shown to moderators as #N
    guild_id       INTEGER NOT NULL,
    channel_id     INTEGER NOT NULL,
    content        TEXT    NOT NULL CHECK (content IN ('quote', 'fact', 'onthisday', 'trivia')),
    local_time     TEXT    NOT NULL,  -- HH:MM, wall-clock time in `timezone`
    timezone       TEXT    NOT NULL,  -- IANA name
    days           TEXT    NOT NULL,  -- canonical text of schedule.format_days
    role_id        INTEGER,           -- the one role a post may ping
    state          TEXT    NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
    failing_reason TEXT,              -- set while the last run(s) failed; cleared by a success
    failures       INTEGER NOT NULL DEFAULT 0,  -- consecutive failed runs
    next_run_at    TEXT    NOT NULL,  -- UTC ISO instant of the next run
    created_by     INTEGER NOT NULL,
    created_at     TEXT    NOT NULL
);
-- The due-time index: the dispatcher sleeps until its first row and claims from its head.
CREATE INDEX schedules_due ON schedules (next_run_at) WHERE state = 'active';
CREATE INDEX schedules_by_guild ON schedules (guild_id);

-- One row per run, written when the run is claimed and again when it is sent (or skipped or
-- failed). The unique key is what makes a run claimable once only, whatever runs the claim.
CREATE TABLE schedule_runs (
    schedule_id INTEGER NOT NULL REFERENCES schedules (id) ON DELETE CASCADE,
    due_at      TEXT    NOT NULL,
    state       TEXT    NOT NULL DEFAULT 'claimed'
                CHECK (state IN ('claimed', 'sent', 'skipped', 'failed')),
    message_id  INTEGER,
    claimed_at  TEXT    NOT NULL,
    sent_at     TEXT,
    error       TEXT,
    UNIQUE (schedule_id, due_at)
);
CREATE INDEX schedule_runs_unfinished ON schedule_runs (state) WHERE state = 'claimed';
