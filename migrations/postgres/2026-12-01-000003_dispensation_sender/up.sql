-- Who sent each eDispensation (the sender's homeCommunityId, or "national"): only that sender may
-- discard it again.
ALTER TABLE dispensations ADD COLUMN dispensed_by TEXT NOT NULL DEFAULT '';
