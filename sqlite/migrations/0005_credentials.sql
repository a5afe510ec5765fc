-- 2-step credentials (authenticator apps, security keys, backup codes, SMS).
-- secret is sealed (AES-256-GCM, the credential ID as additional data);
-- data holds only hashes or public material. webauthn_id is NULL for the
-- kinds that have none, so that the unique index ignores them. version
-- increases with each update (optimistic concurrency: of two concurrent
-- uses of one code, one wins).

CREATE TABLE credentials (
	seq            INTEGER PRIMARY KEY,
	id             TEXT    NOT NULL UNIQUE,
	account_id     TEXT    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind           TEXT    NOT NULL,
	name           TEXT    NOT NULL DEFAULT '',
	secret         BLOB    NOT NULL,
	data           BLOB    NOT NULL,
	webauthn_id    BLOB    UNIQUE,
	last_used_step INTEGER NOT NULL DEFAULT 0,
	created_at     INTEGER,
	last_used_at   INTEGER,
	version        INTEGER NOT NULL
) STRICT;

CREATE INDEX credentials_account ON credentials (account_id, created_at, seq);
