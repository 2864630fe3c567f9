-- 004: a scheduled trivia question belongs to one scheduled run, so a resend of that run after
-- a crash finds the same game (same question, same choices) instead of making a new one.

ALTER TABLE trivia_games ADD COLUMN run_key TEXT;
CREATE UNIQUE INDEX trivia_games_by_run_key ON trivia_games (run_key) WHERE run_key IS NOT NULL;
