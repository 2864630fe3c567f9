-- 014: a game's topic, when one was chosen (issue 23): "Play again" under the standings of a
-- game that a restart resumed starts the same topic again.
ALTER TABLE trivia_games ADD COLUMN topic TEXT;
