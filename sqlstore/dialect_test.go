package sqlstore

import "testing"

func TestDollarPlaceholders(t *testing.T) {
	cases := map[string]string{
		`SELECT 1`:                              `SELECT 1`,
		`a = ? AND b = ?`:                       `a = $1 AND b = $2`,
		`x LIKE ? ESCAPE '\' AND y = '?' AND ?`: `x LIKE $1 ESCAPE '\' AND y = '?' AND $2`,
		`"odd?name" = ? AND 'it''s?' = ?`:       `"odd?name" = $1 AND 'it''s?' = $2`,
		`VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`: `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
	}
	for in, want := range cases {
		if got := DollarPlaceholders(in); got != want {
			t.Errorf("DollarPlaceholders(%q) = %q, want %q", in, got, want)
		}
	}
}
