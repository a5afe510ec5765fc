-- Times are INTEGER microseconds since the Unix epoch, UTC; NULL means
-- "never" (the zero time.Time). seq keeps insertion order for ties in
-- created_at.

CREATE TABLE accounts (
	seq                 INTEGER PRIMARY KEY,
	id                  TEXT    NOT NULL UNIQUE,
	email               TEXT    NOT NULL UNIQUE,
	email_verified_at   INTEGER,
	password_hash       TEXT    NOT NULL DEFAULT '',
	password_changed_at INTEGER,
	language            TEXT    NOT NULL DEFAULT '',
	status              TEXT    NOT NULL DEFAULT 'active',
	created_at          INTEGER,
	updated_at          INTEGER,
	last_sign_in_at     INTEGER
) STRICT;
CREATE INDEX accounts_created ON accounts (created_at, seq);

CREATE TABLE sessions (
	seq           INTEGER PRIMARY KEY,
	id            TEXT    NOT NULL UNIQUE,
	token_hash    BLOB    NOT NULL UNIQUE,
	account_id    TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at    INTEGER,
	last_seen_at  INTEGER,
	expires_at    INTEGER,
	ip            TEXT    NOT NULL DEFAULT '',
	user_agent    TEXT    NOT NULL DEFAULT '',
	aal           INTEGER NOT NULL DEFAULT 0,
	revoked_at    INTEGER,
	revoke_reason TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX sessions_account ON sessions (account_id, created_at, seq);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE flows (
	id           TEXT    PRIMARY KEY,
	kind         TEXT    NOT NULL,
	binding_hash BLOB    NOT NULL,
	account_id   TEXT    REFERENCES accounts (id) ON DELETE CASCADE,
	step         TEXT    NOT NULL DEFAULT '',
	state        BLOB    NOT NULL,
	ip           TEXT    NOT NULL DEFAULT '',
	user_agent   TEXT    NOT NULL DEFAULT '',
	created_at   INTEGER,
	updated_at   INTEGER,
	expires_at   INTEGER,
	version      INTEGER NOT NULL
) STRICT;
CREATE INDEX flows_expires ON flows (expires_at);
CREATE INDEX flows_account ON flows (account_id) WHERE account_id IS NOT NULL;

CREATE TABLE tokens (
	seq        INTEGER PRIMARY KEY,
	id         TEXT    NOT NULL UNIQUE,
	account_id TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	purpose    TEXT    NOT NULL,
	email      TEXT    NOT NULL DEFAULT '',
	code_hash  BLOB    NOT NULL,
	link_hash  BLOB    UNIQUE,
	attempts   INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER,
	expires_at INTEGER,
	used_at    INTEGER
) STRICT;
CREATE INDEX tokens_account_purpose ON tokens (account_id, purpose, created_at, seq);
CREATE INDEX tokens_expires ON tokens (expires_at);

-- The outbox. account_id is informative, not a foreign key: a message
-- outlives the account it was about.
CREATE TABLE messages (
	seq             INTEGER PRIMARY KEY,
	id              TEXT    NOT NULL UNIQUE,
	account_id      TEXT,
	channel         TEXT    NOT NULL,
	to_addr         TEXT    NOT NULL,
	template        TEXT    NOT NULL DEFAULT '',
	language        TEXT    NOT NULL DEFAULT '',
	subject         TEXT    NOT NULL DEFAULT '',
	text_body       TEXT    NOT NULL DEFAULT '',
	html_body       TEXT    NOT NULL DEFAULT '',
	created_at      INTEGER,
	attempts        INTEGER NOT NULL DEFAULT 0,
	next_attempt_at INTEGER,
	claimed_until   INTEGER,
	sent_at         INTEGER,
	parked_at       INTEGER,
	last_error      TEXT    NOT NULL DEFAULT ''
) STRICT;
-- Claiming looks only at pending messages: unsent and unparked.
CREATE INDEX messages_claim ON messages (next_attempt_at, created_at, seq)
	WHERE sent_at IS NULL AND parked_at IS NULL;
CREATE INDEX messages_created ON messages (created_at, seq);
CREATE INDEX messages_to ON messages (to_addr, created_at, seq);

CREATE TABLE secrets (
	name       TEXT    PRIMARY KEY,
	value      BLOB    NOT NULL,
	created_at INTEGER
) STRICT;
