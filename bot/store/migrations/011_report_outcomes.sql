-- 011: what became of a fan's trivia report (issue 22): open until a moderator marks the
-- question fixed or dismisses the report; who did, when; and when the reporter was told (once).
ALTER TABLE trivia_reports ADD COLUMN status TEXT NOT NULL DEFAULT 'open'
    CHECK (status IN ('open', 'fixed', 'dismissed'));
ALTER TABLE trivia_reports ADD COLUMN resolved_by INTEGER;
ALTER TABLE trivia_reports ADD COLUMN resolved_at TEXT;
ALTER TABLE trivia_reports ADD COLUMN told_at TEXT;
-- A server's open reports (/trivia reports), and the outcomes a reporter has not heard yet
-- (looked up after a fan's interactions: small, as it holds only those).
CREATE INDEX trivia_reports_open ON trivia_reports (guild_id, question_id) WHERE status = 'open';
CREATE INDEX trivia_reports_untold ON trivia_reports (reporter_id)
    WHERE status <> 'open' AND told_at IS NULL;
