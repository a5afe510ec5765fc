package sqlstore

import (
	"database/sql"
	"fmt"
	"time"
)

// tm binds a time: NULL for the zero time ("never"), otherwise the
// dialect's encoding of the UTC time truncated to the microsecond.
func (t *tx) tm(v time.Time) any {
	return encodeTime(t.db.d, v)
}

func encodeTime(d *Dialect, v time.Time) any {
	if v.IsZero() {
		return nil
	}
	return d.EncodeTime(v.UTC().Truncate(time.Microsecond))
}

// scanTime returns a destination for Scan that decodes a time column into
// *dst: NULL becomes the zero time, anything else a UTC time.
func (t *tx) scanTime(dst *time.Time) sql.Scanner {
	return timeScanner{d: t.db.d, dst: dst}
}

type timeScanner struct {
	d   *Dialect
	dst *time.Time
}

// Scan implements sql.Scanner.
func (s timeScanner) Scan(src any) error {
	if src == nil {
		*s.dst = time.Time{}
		return nil
	}
	v, err := s.d.DecodeTime(src)
	if err != nil {
		return fmt.Errorf("decode time %v (%T): %w", src, src, err)
	}
	if v.IsZero() {
		*s.dst = time.Time{}
		return nil
	}
	*s.dst = v.UTC()
	return nil
}

// blob binds bytes that must not be NULL: nil becomes empty.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nullBlob binds bytes that are NULL when empty (so that a unique index
// ignores them).
func nullBlob(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// nullString binds a string that is NULL when empty (an optional foreign
// key).
func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// scanNullString returns a destination for Scan that reads NULL as "".
func scanNullString(dst *string) sql.Scanner {
	return nullStringScanner{dst}
}

type nullStringScanner struct{ dst *string }

// Scan implements sql.Scanner.
func (s nullStringScanner) Scan(src any) error {
	var ns sql.NullString
	if err := ns.Scan(src); err != nil {
		return err
	}
	*s.dst = ns.String
	return nil
}

// requireTime refuses the zero time where it would store NULL and so undo
// the change (a token "used" at the zero time would still be unused).
func requireTime(op string, at time.Time) error {
	if at.IsZero() {
		return fmt.Errorf("sqlstore: %s: the time is zero", op)
	}
	return nil
}
