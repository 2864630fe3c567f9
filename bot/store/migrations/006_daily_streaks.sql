-- 006: daily trivia streaks, per server and player (SPEC §4 /trivia stats): how many daily
-- questions in a row the player answered right, their best run, and the daily question they
-- last answered (a streak counts only if it was the server's previous one).
CREATE TABLE daily_streaks (
    guild_id      INTEGER NOT NULL,
    user_id       INTEGER NOT NULL,
    current       INTEGER NOT NULL DEFAULT 0,
    best          INTEGER NOT NULL DEFAULT 0,
    last_game_id  INTEGER,
    PRIMARY KEY (guild_id, user_id)
);
