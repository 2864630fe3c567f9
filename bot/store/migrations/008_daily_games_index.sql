-- 008: the server's daily games by id, for the daily reveal's streaks and /trivia stats
-- (the latest daily question of a server); PostgreSQL has had it from its first migration.
CREATE INDEX trivia_games_daily ON trivia_games (guild_id, id) WHERE kind = 'daily';
