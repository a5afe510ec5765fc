-- Attack protection: failure counts and locks per sign-in identifier (a
-- keyed hash of the canonical address; unknown addresses lock too).

CREATE TABLE lockouts (
	key          BLOB    PRIMARY KEY,
	failures     INTEGER NOT NULL,
	window_start INTEGER,
	locked_at    INTEGER,
	locked_until INTEGER,
	notified_at  INTEGER,
	updated_at   INTEGER NOT NULL,
	generation   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX lockouts_updated_at ON lockouts (updated_at);
