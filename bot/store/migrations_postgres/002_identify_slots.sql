-- 002: IDENTIFY turns across processes (SPEC §8): per max_concurrency bucket, the last moment
-- a process reserved to IDENTIFY (`claim_identify_slot`, under an advisory lock per bucket).
CREATE TABLE identify_slots (
    bucket  INTEGER PRIMARY KEY,
    slot_at TIMESTAMPTZ NOT NULL
);
