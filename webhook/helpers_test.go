package webhook

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/sqlite"
)

var ctx = context.Background()

const (
	testIssuer = "https://id.example.com"
	testSecret = "0123456789abcdef0123456789abcdef-test" // 38 bytes
)

var (
	t0    = time.Date(2026, 11, 21, 10, 0, 0, 123456000, time.UTC)
	quiet = slog.New(slog.NewTextHandler(io.Discard, nil))
)

// openStore returns a fresh SQLite database in a temporary directory.
func openStore(t testing.TB) mamoru.Store {
	t.Helper()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "webhook.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// testKeys returns a KeySet stored in a fresh database.
func testKeys(t testing.TB) *KeySet {
	t.Helper()
	k, err := NewKeySet(ctx, openStore(t))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// endpoint returns a valid endpoint named name at url.
func endpoint(name, url, format string) Endpoint {
	return Endpoint{Name: name, URL: url, Secret: testSecret, Format: format}
}

// sampleEvents are events of several kinds with every field set, keyed by
// a short name used for golden files.
func sampleEvents() map[string]*mamoru.Event {
	place := mamoru.Place{Country: "JP", Region: "Tokyo", RegionJA: "東京都", City: "Shinjuku", CityJA: "新宿区",
		Latitude: 35.6938, Longitude: 139.7034, HasCoords: true, RadiusKM: 20, ASN: 2516, Org: "KDDI CORPORATION"}
	device := mamoru.Device{Browser: "Chrome", BrowserVersion: "131", OS: "Windows", OSVersion: "10", Type: "desktop"}
	return map[string]*mamoru.Event{
		"sign_in.succeeded": {
			ID: "evsignin0000000000000000aa", AccountID: "acct0000000000000000000001", Type: mamoru.EventSignInSucceeded,
			Time: t0, IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (Windows NT 10.0) Chrome/131.0", Place: place, Device: device,
			SessionID: "sess000000000000000000001", Outcome: mamoru.OutcomeSuccess,
			// "code" is not an allowed detail: it must not reach the payload.
			Details: map[string]string{mamoru.DetailNew: "device,place", "code": "123456"},
		},
		"sign_in.failed": {
			ID: "evfailed0000000000000000aa", Type: mamoru.EventSignInFailed, Time: t0, IP: "198.51.100.9",
			Outcome: "invalid_credentials", Details: map[string]string{},
		},
		"session.ended": {
			ID: "evsessend000000000000000aa", AccountID: "acct0000000000000000000001", Type: mamoru.EventSessionEnded,
			Time: t0, IP: "203.0.113.7", SessionID: "sess000000000000000000001",
			Details: map[string]string{mamoru.DetailReason: mamoru.RevokeSignOut, mamoru.DetailActor: "owner"},
		},
		"password.changed": {
			ID: "evpwchange00000000000000aa", AccountID: "acct0000000000000000000001", Type: mamoru.EventPasswordChanged,
			Time: t0, IP: "2001:db8::1", Device: device, Details: map[string]string{mamoru.DetailActor: "owner"},
		},
		"email.changed": {
			ID: "evemailchg00000000000000aa", AccountID: "acct0000000000000000000001", Type: mamoru.EventEmailChanged,
			Time: t0, IP: "203.0.113.7",
			Details: map[string]string{mamoru.DetailOldEmail: "alice@example.com", mamoru.DetailNewEmail: "alice@example.org"},
		},
		"account.locked": {
			ID: "evlocked0000000000000000aa", AccountID: "acct0000000000000000000001", Type: mamoru.EventAccountLocked,
			Time: t0, Details: map[string]string{mamoru.DetailReason: "hijacking", mamoru.DetailActor: "system"},
		},
		"phone.changed": {
			ID: "evphonechg00000000000000aa", AccountID: "acct0000000000000000000001", Type: mamoru.EventPhoneChanged,
			Time: t0, Details: map[string]string{mamoru.DetailNewPhone: "+81 90-****-5678", mamoru.DetailActor: "owner"},
		},
		"settings.changed": {
			ID: "evsettings000000000000000aa", AccountID: "acct0000000000000000000001", Type: mamoru.EventSettingsChanged,
			Time: t0, IP: "203.0.113.7", Details: map[string]string{"language": "en", "time_zone": "Asia/Tokyo"},
		},
		"event.denied": {
			ID: "evdenied0000000000000000aa", AccountID: "acct0000000000000000000001", Type: mamoru.EventDenied,
			Time: t0, Details: map[string]string{mamoru.DetailEventID: "evsignin0000000000000000aa"},
		},
	}
}

// eventOf returns a minimal event of type typ on account.
func eventOf(typ mamoru.EventType, account string) *mamoru.Event {
	return &mamoru.Event{ID: mamoru.NewID(), AccountID: account, Type: typ, Time: time.Now(), IP: "192.0.2.1",
		SessionID: "sess1", Details: map[string]string{}}
}

func contains(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
