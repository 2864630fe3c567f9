-- 002: trivia games, every answer as it is made, the leaderboard's scores, reports (SPEC §4).

CREATE TABLE trivia_games (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id         INTEGER NOT NULL,
    channel_id       INTEGER NOT NULL,
    starter_id       INTEGER NOT NULL,
    kind             TEXT    NOT NULL DEFAULT 'game',  -- 'game' (/trivia play) or 'daily'
    difficulty       TEXT    NOT NULL,
    seconds          INTEGER NOT NULL,
    question_ids     TEXT    NOT NULL,  -- JSON array, in the order they are asked
    choices          TEXT    NOT NULL,  -- JSON array of arrays: each question's shuffled choices
    state            TEXT    NOT NULL DEFAULT 'running',  -- running, finished, stopped, interrupted
    revealed         INTEGER NOT NULL DEFAULT 0,  -- questions revealed (always the first ones)
    current_message  INTEGER,  -- the open question's message
    opened_at        TEXT    NOT NULL DEFAULT '[]',  -- JSON array of ISO instants
    started_at       TEXT    NOT NULL,
    ended_at         TEXT
);
-- One running game per channel, enforced by the database itself.
CREATE UNIQUE INDEX trivia_one_running_game_per_channel
    ON trivia_games (channel_id) WHERE state = 'running' AND kind = 'game';
CREATE INDEX trivia_games_running ON trivia_games (state) WHERE state = 'running';

-- The primary key makes "one locked answer per player per question" hold even under a
-- storm of concurrent clicks.
CREATE TABLE trivia_answers (
    game_id        INTEGER NOT NULL REFERENCES trivia_games (id) ON DELETE CASCADE,
    question_index INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    choice_index   INTEGER NOT NULL,
    answered_at    TEXT    NOT NULL,
    PRIMARY KEY (game_id, question_index, user_id)
);

-- The leaderboard: one row per answer of a revealed question.
CREATE TABLE trivia_scores (
    game_id        INTEGER NOT NULL REFERENCES trivia_games (id) ON DELETE CASCADE,
    question_index INTEGER NOT NULL,
    guild_id       INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    question_id    TEXT    NOT NULL,
    correct        INTEGER NOT NULL,
    points         INTEGER NOT NULL,
    streak         INTEGER NOT NULL,
    revealed_at    TEXT    NOT NULL,
    PRIMARY KEY (game_id, question_index, user_id)
);
CREATE INDEX trivia_scores_by_guild_time ON trivia_scores (guild_id, revealed_at);
CREATE INDEX trivia_scores_by_guild_user ON trivia_scores (guild_id, user_id);

-- When each server last saw each question, so new games ask the least recently asked first.
CREATE TABLE trivia_asked (
    guild_id    INTEGER NOT NULL,
    question_id TEXT    NOT NULL,
    asked_at    TEXT    NOT NULL,
    PRIMARY KEY (guild_id, question_id)
);

CREATE TABLE trivia_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id    INTEGER NOT NULL,
    channel_id  INTEGER NOT NULL,
    question_id TEXT    NOT NULL,
    reporter_id INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  TEXT    NOT NULL
);
CREATE INDEX trivia_reports_by_guild ON trivia_reports (guild_id, created_at);
