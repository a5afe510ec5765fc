-- Times are timestamptz (microsecond precision); NULL means "never" (the
-- zero time.Time). seq keeps insertion order for ties in created_at;
-- the stores order a NULL created_at as the oldest (NULLS FIRST ascending).
-- Flow.State is bytea, not jsonb: the flow's package owns its bytes and
-- they must round-trip exactly.

CREATE TABLE accounts (
	seq                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id                  text   NOT NULL UNIQUE,
	email               text   NOT NULL UNIQUE,
	email_verified_at   timestamptz,
	password_hash       text   NOT NULL DEFAULT '',
	password_changed_at timestamptz,
	language            text   NOT NULL DEFAULT '',
	status              text   NOT NULL DEFAULT 'active',
	created_at          timestamptz,
	updated_at          timestamptz,
	last_sign_in_at     timestamptz
);
CREATE INDEX accounts_created ON accounts (created_at NULLS FIRST, seq);

CREATE TABLE sessions (
	seq           bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id            text    NOT NULL UNIQUE,
	token_hash    bytea   NOT NULL UNIQUE,
	account_id    text    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	created_at    timestamptz,
	last_seen_at  timestamptz,
	expires_at    timestamptz,
	ip            text    NOT NULL DEFAULT '',
	user_agent    text    NOT NULL DEFAULT '',
	aal           integer NOT NULL DEFAULT 0,
	revoked_at    timestamptz,
	revoke_reason text    NOT NULL DEFAULT ''
);
CREATE INDEX sessions_account ON sessions (account_id, created_at NULLS FIRST, seq);
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE flows (
	id           text    PRIMARY KEY,
	kind         text    NOT NULL,
	binding_hash bytea   NOT NULL,
	account_id   text    REFERENCES accounts (id) ON DELETE CASCADE,
	step         text    NOT NULL DEFAULT '',
	state        bytea   NOT NULL,
	ip           text    NOT NULL DEFAULT '',
	user_agent   text    NOT NULL DEFAULT '',
	created_at   timestamptz,
	updated_at   timestamptz,
	expires_at   timestamptz,
	version      integer NOT NULL
);
CREATE INDEX flows_expires ON flows (expires_at);
CREATE INDEX flows_account ON flows (account_id) WHERE account_id IS NOT NULL;

CREATE TABLE tokens (
	seq        bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id         text    NOT NULL UNIQUE,
	account_id text    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	purpose    text    NOT NULL,
	email      text    NOT NULL DEFAULT '',
	code_hash  bytea   NOT NULL,
	link_hash  bytea   UNIQUE,
	attempts   integer NOT NULL DEFAULT 0,
	created_at timestamptz,
	expires_at timestamptz,
	used_at    timestamptz
);
CREATE INDEX tokens_account_purpose ON tokens (account_id, purpose, created_at NULLS FIRST, seq);
CREATE INDEX tokens_expires ON tokens (expires_at);

-- The outbox. account_id is informative, not a foreign key: a message
-- outlives the account it was about.
CREATE TABLE messages (
	seq             bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id              text    NOT NULL UNIQUE,
	account_id      text,
	channel         text    NOT NULL,
	to_addr         text    NOT NULL,
	template        text    NOT NULL DEFAULT '',
	language        text    NOT NULL DEFAULT '',
	subject         text    NOT NULL DEFAULT '',
	text_body       text    NOT NULL DEFAULT '',
	html_body       text    NOT NULL DEFAULT '',
	created_at      timestamptz,
	attempts        integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz,
	claimed_until   timestamptz,
	sent_at         timestamptz,
	parked_at       timestamptz,
	last_error      text    NOT NULL DEFAULT ''
);
-- Claiming looks only at pending messages: unsent and unparked.
CREATE INDEX messages_claim ON messages (next_attempt_at, created_at NULLS FIRST, seq)
	WHERE sent_at IS NULL AND parked_at IS NULL;
CREATE INDEX messages_created ON messages (created_at NULLS FIRST, seq);
CREATE INDEX messages_to ON messages (to_addr, created_at NULLS FIRST, seq);

CREATE TABLE secrets (
	name       text  PRIMARY KEY,
	value      bytea NOT NULL,
	created_at timestamptz
);
