package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"sort"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru"
)

var _ mamoru.RiskStore = (*tx)(nil)

// RiskHistory returns the account's history blob or ENotFound.
func (t *tx) RiskHistory(ctx context.Context, accountID string) ([]byte, error) {
	var data []byte
	err := t.queryRow(ctx, `SELECT data FROM risk_history WHERE account_id = ?`, accountID).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound("risk history")
	}
	return data, internal("risk history", err)
}

// SaveRiskHistory inserts or replaces the account's history blob.
func (t *tx) SaveRiskHistory(ctx context.Context, accountID string, data []byte, at time.Time) error {
	_, err := t.exec(ctx, `INSERT INTO risk_history (account_id, data, updated_at) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		accountID, blob(data), t.tm(at))
	return internal("save risk history", err)
}

// RiskCounts returns the counts of the keys; missing keys are 0.
func (t *tx) RiskCounts(ctx context.Context, keys []string) (map[string]uint64, error) {
	out := make(map[string]uint64, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
		out[k] = 0
	}
	rows, err := t.query(ctx, `SELECT key, count FROM risk_counts WHERE key IN (`+
		strings.Repeat("?, ", len(keys)-1)+`?)`, args...)
	if err != nil {
		return nil, internal("risk counts", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, internal("risk counts", err)
		}
		out[k] = uint64(n)
	}
	return out, internal("risk counts", rows.Err())
}

// AddRiskCounts adds the deltas, in key order so that concurrent
// transactions lock rows in the same order (no deadlocks).
func (t *tx) AddRiskCounts(ctx context.Context, deltas map[string]uint64) error {
	keys := make([]string, 0, len(deltas))
	for k := range deltas {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n := int64(deltas[k])
		if n == 0 {
			continue
		}
		if _, err := t.exec(ctx, `INSERT INTO risk_counts (key, count) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET count = risk_counts.count + excluded.count`, k, n); err != nil {
			return internal("add risk counts", err)
		}
	}
	return nil
}
