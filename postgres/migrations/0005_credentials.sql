-- 2-step credentials (authenticator apps, security keys, backup codes, SMS).
-- secret is sealed (AES-256-GCM, the credential ID as additional data);
-- data holds only hashes or public material (bytea, not jsonb: package mfa
-- owns its bytes). webauthn_id is NULL for the kinds that have none, so
-- that the unique index ignores them. version increases with each update
-- (optimistic concurrency: of two concurrent uses of one code, one wins).

CREATE TABLE credentials (
	seq            bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	id             text    NOT NULL UNIQUE,
	account_id     text    NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
	kind           text    NOT NULL,
	name           text    NOT NULL DEFAULT '',
	secret         bytea   NOT NULL,
	data           bytea   NOT NULL,
	webauthn_id    bytea   UNIQUE,
	last_used_step bigint  NOT NULL DEFAULT 0,
	created_at     timestamptz,
	last_used_at   timestamptz,
	version        integer NOT NULL
);

CREATE INDEX credentials_account ON credentials (account_id, created_at NULLS FIRST, seq);
