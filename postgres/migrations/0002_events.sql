-- Security events, account phone/time zone/forced reset, token data, and
-- ordered delivery keys in the outbox.

ALTER TABLE accounts ADD COLUMN time_zone text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN phone text NOT NULL DEFAULT '';
ALTER TABLE accounts ADD COLUMN reset_required_at timestamptz;

ALTER TABLE tokens ADD COLUMN data text NOT NULL DEFAULT '';

ALTER TABLE messages ADD COLUMN order_key text NOT NULL DEFAULT '';
CREATE INDEX messages_order ON messages (order_key, seq)
	WHERE sent_at IS NULL AND parked_at IS NULL AND order_key <> '';
CREATE INDEX messages_parked ON messages (parked_at) WHERE parked_at IS NOT NULL;

-- account_id is not a foreign key: attempts on unknown addresses have
-- none. place, device and details are JSON kept as text so that they
-- round-trip exactly.
CREATE TABLE events (
	seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id          text   NOT NULL UNIQUE,
	account_id  text,
	type        text   NOT NULL,
	at          timestamptz NOT NULL,
	ip          text   NOT NULL DEFAULT '',
	user_agent  text   NOT NULL DEFAULT '',
	place       text   NOT NULL DEFAULT '{}',
	device      text   NOT NULL DEFAULT '{}',
	session_id  text   NOT NULL DEFAULT '',
	outcome     text   NOT NULL DEFAULT '',
	details     text   NOT NULL DEFAULT '{}',
	feedback    text   NOT NULL DEFAULT '',
	feedback_at timestamptz
);
CREATE INDEX events_account ON events (account_id, at, seq);
CREATE INDEX events_at ON events (at, seq);
