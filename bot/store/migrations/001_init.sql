-- 001: settings, command-sync state and the shuffle bags of the no-repeat rule (SPEC §4, §7).

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE guild_settings (
    guild_id   INTEGER PRIMARY KEY,
    timezone   TEXT NOT NULL DEFAULT 'UTC',
    updated_at TEXT NOT NULL
);

-- One bag per (scope, kind, filter): scope is a channel for fan commands, a server for
-- scheduled posts. `remaining` is a JSON array of the ids still to show in this round.
CREATE TABLE shuffle_bags (
    scope_id   INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    filter_key TEXT    NOT NULL,
    remaining  TEXT    NOT NULL,
    last_id    TEXT,
    updated_at TEXT    NOT NULL,
    PRIMARY KEY (scope_id, kind, filter_key)
);
