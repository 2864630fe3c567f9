-- 012: who used 50/50 on which question of a game (issue 23). A right answer after it scores
-- half, also when the question is revealed after a restart; /trivia stats counts them.
CREATE TABLE trivia_halves (
    game_id        INTEGER NOT NULL REFERENCES trivia_games (id) ON DELETE CASCADE,
    question_index INTEGER NOT NULL,
    user_id        INTEGER NOT NULL,
    used_at        TEXT    NOT NULL,
    PRIMARY KEY (game_id, question_index, user_id)
);
CREATE INDEX trivia_halves_by_user ON trivia_halves (user_id);
