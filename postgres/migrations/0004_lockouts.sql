-- Attack protection: failure counts and locks per sign-in identifier (a
-- keyed hash of the canonical address; unknown addresses lock too).

CREATE TABLE lockouts (
	key          bytea       PRIMARY KEY,
	failures     integer     NOT NULL,
	window_start timestamptz,
	locked_at    timestamptz,
	locked_until timestamptz,
	notified_at  timestamptz,
	updated_at   timestamptz NOT NULL,
	generation   bigint      NOT NULL DEFAULT 0
);

CREATE INDEX lockouts_updated_at ON lockouts (updated_at);
