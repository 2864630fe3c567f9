-- 003: which process claimed a scheduled run (SPEC §8). A process holds an advisory lock on
-- its own id while it lives; at start, a process takes over only the unfinished runs of
-- owners whose lock is free (they died), never those a live process is still sending.
ALTER TABLE schedule_runs ADD COLUMN claimed_by TEXT;
