-- Contract: the previous release still reads legacy_note, so this may only run once the old
-- color has been drained.
ALTER TABLE orders DROP COLUMN IF EXISTS legacy_note;
