-- 009: each server's latest revealed daily question, in the order the reveals were recorded.
-- A daily streak carries on only from the question revealed just before, and two questions
-- due at the same minute are revealed one after the other, not necessarily in id order.
CREATE TABLE daily_latest (
    guild_id  INTEGER PRIMARY KEY,
    game_id   INTEGER NOT NULL
);
INSERT INTO daily_latest (guild_id, game_id)
SELECT guild_id, MAX(id) FROM trivia_games WHERE kind = 'daily' AND revealed > 0
GROUP BY guild_id;
