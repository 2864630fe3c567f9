-- 005: the language a moderator chose for what the bot posts in the server (SQLite's 010).
CREATE TABLE guild_languages (
    guild_id   BIGINT PRIMARY KEY,
    language   TEXT        NOT NULL CHECK (language IN ('en', 'ko')),
    updated_at TIMESTAMPTZ NOT NULL
);
