-- 008: the daily challenge, /daily (SQLite's 013). A day's questions are pinned the first time
-- anyone plays it (`challenge_days`); a fan's attempt is one row, written when they start, and
-- each answer a row of its own, written before they see the next question, so a restart or a
-- second device never gives a second try. `challenge_streaks` is a fan's run of days played;
-- `challenge_boards` says who played (or shared their result) in which server, for its board.
CREATE TABLE challenge_days (
    day          INTEGER     PRIMARY KEY,  -- the challenge's number: #1 is 24 January 2024 in Korea
    question_ids TEXT        NOT NULL,     -- JSON, in the order asked
    choices      TEXT        NOT NULL,     -- JSON, each question's choices in the order shown
    created_at   TIMESTAMPTZ NOT NULL
);
CREATE TABLE challenge_attempts (
    user_id     BIGINT      NOT NULL,
    day         INTEGER     NOT NULL REFERENCES challenge_days (day),
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    correct     INTEGER,
    seconds     INTEGER,
    streak      INTEGER,
    PRIMARY KEY (user_id, day)
);
CREATE TABLE challenge_answers (
    user_id        BIGINT      NOT NULL,
    day            INTEGER     NOT NULL,
    question_index INTEGER     NOT NULL,
    choice_index   INTEGER     NOT NULL,
    correct        INTEGER     NOT NULL,
    answered_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, day, question_index),
    FOREIGN KEY (user_id, day) REFERENCES challenge_attempts (user_id, day) ON DELETE CASCADE
);
CREATE TABLE challenge_streaks (
    user_id  BIGINT  PRIMARY KEY,
    current  INTEGER NOT NULL,
    best     INTEGER NOT NULL,
    last_day INTEGER NOT NULL
);
CREATE TABLE challenge_boards (
    guild_id  BIGINT      NOT NULL,
    day       INTEGER     NOT NULL,
    user_id   BIGINT      NOT NULL,
    shared_at TIMESTAMPTZ,
    PRIMARY KEY (guild_id, day, user_id)
);
CREATE INDEX challenge_boards_by_user ON challenge_boards (guild_id, user_id);
