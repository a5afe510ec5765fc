-- The risk engine: per-account history blobs, global popularity counts,
-- and the assessment recorded with each sign-in event.

CREATE TABLE risk_history (
	account_id TEXT    PRIMARY KEY,
	data       BLOB    NOT NULL,
	updated_at INTEGER
) STRICT;

CREATE TABLE risk_counts (
	key   TEXT    PRIMARY KEY,
	count INTEGER NOT NULL
) STRICT;

ALTER TABLE events ADD COLUMN risk TEXT NOT NULL DEFAULT '';
