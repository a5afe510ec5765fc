-- The risk engine: per-account history blobs, global popularity counts,
-- and the assessment recorded with each sign-in event.

CREATE TABLE risk_history (
	account_id text  PRIMARY KEY,
	data       bytea NOT NULL,
	updated_at timestamptz
);

CREATE TABLE risk_counts (
	key   text   PRIMARY KEY,
	count bigint NOT NULL
);

ALTER TABLE events ADD COLUMN risk text NOT NULL DEFAULT '';
