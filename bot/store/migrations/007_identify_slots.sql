-- 007: IDENTIFY turns (SPEC §8): per max_concurrency bucket, the last moment a process of the
-- bot reserved to IDENTIFY, so the next one waits its 5 s (`claim_identify_slot`).
CREATE TABLE identify_slots (
    bucket  INTEGER PRIMARY KEY,
    slot_at TEXT    NOT NULL  -- UTC ISO instant
);
