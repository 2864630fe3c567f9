-- 006: what became of a fan's trivia report (SQLite's 011): open until a moderator marks the
-- question fixed or dismisses the report; who did, when; and when the reporter was told (once).
ALTER TABLE trivia_reports
    ADD COLUMN status TEXT NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'fixed', 'dismissed')),
    ADD COLUMN resolved_by BIGINT,
    ADD COLUMN resolved_at TIMESTAMPTZ,
    ADD COLUMN told_at TIMESTAMPTZ;
CREATE INDEX trivia_reports_open ON trivia_reports (guild_id, question_id) WHERE status = 'open';
CREATE INDEX trivia_reports_untold ON trivia_reports (reporter_id)
    WHERE status <> 'open' AND told_at IS NULL;
