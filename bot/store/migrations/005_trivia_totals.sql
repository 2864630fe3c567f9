-- 005: each player's totals per server and leaderboard period ('all', 'week:<its Monday>',
-- 'month:<its 1st>', UTC), kept up to date at every reveal, so a leaderboard, a rank or
-- /trivia stats reads one row per player instead of summing every answer ever given.

CREATE TABLE trivia_totals (
    guild_id        INTEGER NOT NULL,
    period          TEXT    NOT NULL,
    user_id         INTEGER NOT NULL,
    points          INTEGER NOT NULL,
    correct         INTEGER NOT NULL,
    answered        INTEGER NOT NULL,
    best_streak     INTEGER NOT NULL,
    first_scored_at TEXT    NOT NULL,  -- breaks ties: who got there first
    PRIMARY KEY (guild_id, period, user_id)
);
CREATE INDEX trivia_totals_ranking
    ON trivia_totals (guild_id, period, points DESC, correct DESC, first_scored_at);

-- The answers scored before this migration, into the same buckets.
INSERT INTO trivia_totals
    SELECT guild_id, 'all', user_id, SUM(points), SUM(correct), COUNT(*), MAX(streak),
           MIN(revealed_at)
    FROM trivia_scores GROUP BY guild_id, user_id;
INSERT INTO trivia_totals
    SELECT guild_id, 'week:' || date(revealed_at, '-6 days', 'weekday 1'), user_id, SUM(points),
           SUM(correct), COUNT(*), MAX(streak), MIN(revealed_at)
    FROM trivia_scores GROUP BY guild_id, date(revealed_at, '-6 days', 'weekday 1'), user_id;
INSERT INTO trivia_totals
    SELECT guild_id, 'month:' || date(revealed_at, 'start of month'), user_id, SUM(points),
           SUM(correct), COUNT(*), MAX(streak), MIN(revealed_at)
    FROM trivia_scores GROUP BY guild_id, date(revealed_at, 'start of month'), user_id;
