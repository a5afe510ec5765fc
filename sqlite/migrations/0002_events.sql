-- Security events, account phone/time zone/forced reset, token data, and
-- ordered delivery keys in the outbox.

ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN reset_required_at INTEGER;

ALTER TABLE tokens ADD COLUMN data TEXT NOT NULL DEFAULT '';

ALTER TABLE messages ADD COLUMN order_key TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_order ON messages (order_key, seq)
	WHERE sent_at IS NULL AND parked_at IS NULL AND order_key <> '';
CREATE INDEX messages_parked ON messages (parked_at) WHERE parked_at IS NOT NULL;

-- account_id is not a foreign key: the history of an account outlives
-- nothing, but attempts on unknown addresses have none. place, device and
-- details are JSON.
CREATE TABLE events (
	seq         INTEGER PRIMARY KEY,
	id          TEXT    NOT NULL UNIQUE,
	account_id  TEXT,
	type        TEXT    NOT NULL,
	at          INTEGER NOT NULL,
	ip          TEXT    NOT NULL DEFAULT '',
	user_agent  TEXT    NOT NULL DEFAULT '',
	place       TEXT    NOT NULL DEFAULT '{}',
	device      TEXT    NOT NULL DEFAULT '{}',
	session_id  TEXT    NOT NULL DEFAULT '',
	outcome     TEXT    NOT NULL DEFAULT '',
	details     TEXT    NOT NULL DEFAULT '{}',
	feedback    TEXT    NOT NULL DEFAULT '',
	feedback_at INTEGER
) STRICT;
CREATE INDEX events_account ON events (account_id, at, seq);
CREATE INDEX events_at ON events (at, seq);
