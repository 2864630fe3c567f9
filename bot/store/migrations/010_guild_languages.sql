-- 010: the language a moderator chose for what the bot posts in the server (/settings
-- language, SPEC §3a); a server without a row follows its preferred locale.
CREATE TABLE guild_languages (
    guild_id   INTEGER PRIMARY KEY,
    language   TEXT NOT NULL CHECK (language IN ('en', 'ko')),
    updated_at TEXT NOT NULL
);
