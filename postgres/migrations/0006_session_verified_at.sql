-- 2-step verification: when the session's owner last proved a second
-- factor or re-entered their credentials in this session (sign-in with
-- 2-step verification, or step-up); NULL: never.

ALTER TABLE sessions ADD COLUMN verified_at timestamptz;
