-- 004: each server's latest revealed daily question, in the order the reveals were recorded
-- (SQLite's 009): a daily streak carries on only from the question revealed just before.
CREATE TABLE daily_latest (
    guild_id  BIGINT PRIMARY KEY,
    game_id   BIGINT NOT NULL
);
INSERT INTO daily_latest (guild_id, game_id)
SELECT guild_id, MAX(id) FROM trivia_games WHERE kind = 'daily' AND revealed > 0
GROUP BY guild_id;
