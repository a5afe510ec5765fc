package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/notify"
)

// newSender returns a Sender for one endpoint "app" at url.
func newSender(t *testing.T, ep Endpoint) *Sender {
	t.Helper()
	s, err := NewSender(Config{Endpoints: []Endpoint{ep}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// message returns a delivery of a JSON payload to endpoint "app".
func message(text string) *mamoru.Message {
	return &mamoru.Message{ID: mamoru.NewID(), Channel: mamoru.ChannelWebhook, To: "app",
		Template: "password.changed", Subject: "ev1", Text: text}
}

func isPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}

func TestSendHeadersAndSignature(t *testing.T) {
	keys := testKeys(t)
	d, err := NewDispatcher(Config{Endpoints: []Endpoint{endpoint("j", "http://127.0.0.1:1/", ""),
		endpoint("s", "http://127.0.0.1:1/", "set")}}, testIssuer, keys, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := sampleEvents()["password.changed"]
	tx := &captureTx{}
	if err := d.EventRecorded(ctx, tx, e); err != nil {
		t.Fatal(err)
	}

	for _, m := range tx.msgs {
		type request struct {
			header http.Header
			body   string
		}
		got := make(chan request, 1)
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			got <- request{r.Header, string(b)}
			w.WriteHeader(http.StatusAccepted) // RFC 8935 success
		}))
		ep := endpoint(m.To, srv.URL+"/hook", "")
		m := *m
		if err := newSender(t, ep).Send(ctx, &m); err != nil {
			t.Fatalf("%s: Send: %v", m.To, err)
		}
		srv.Close()
		r := <-got
		wantType := ContentTypeJSON
		if m.To == "s" {
			wantType = ContentTypeSET
		}
		for k, want := range map[string]string{
			"Content-Type": wantType, HeaderEventID: e.ID, HeaderEventType: "password.changed", HeaderDeliveryID: m.ID,
		} {
			if r.header.Get(k) != want {
				t.Errorf("%s: %s = %q, want %q", m.To, k, r.header.Get(k), want)
			}
		}
		if r.body != m.Text {
			t.Errorf("%s: body %q, want the stored payload %q", m.To, r.body, m.Text)
		}
		sig := r.header.Get(HeaderSignature)
		if !strings.HasPrefix(sig, "t="+r.header.Get(HeaderTimestamp)+",") {
			t.Errorf("%s: signature %q does not carry Mamoru-Timestamp %s", m.To, sig, r.header.Get(HeaderTimestamp))
		}
		if err := Verify([]byte(testSecret), sig, []byte(r.body), time.Now(), time.Minute); err != nil {
			t.Errorf("%s: Verify: %v", m.To, err)
		}
	}
}

func TestSendOutcomes(t *testing.T) {
	var hits atomic.Int32
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer elsewhere.Close()

	cases := []struct {
		name      string
		status    int
		body      string
		set       bool
		permanent bool
		mention   string
	}{
		{"200", 200, "ok", false, false, ""},
		{"202 (RFC 8935)", 202, "", true, false, ""},
		{"204", 204, "", false, false, ""},
		{"302 not followed", 302, "", false, false, "302 Found (redirects are not followed)"},
		{"400 JSON", 400, `{"err":"invalid_request"}`, false, false, "400"},
		{"400 SET without an error", 400, "bad", true, false, "400"},
		{"400 SET rejected", 400, `{"err":"invalid_audience","description":"aud is wrong"}`, true, true, "rejected the SET: invalid_audience"},
		{"401", 401, "", false, false, "401"},
		{"404", 404, "", false, false, "404"},
		{"408", 408, "", false, false, "408"},
		{"410 Gone", 410, "", false, true, "410 Gone"},
		{"429", 429, "", false, false, "429"},
		{"500", 500, "", false, false, "500"},
		{"503", 503, "", true, false, "503"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if c.status == 302 {
					http.Redirect(w, r, elsewhere.URL, http.StatusFound)
					return
				}
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			// A token in the URL must not reach error messages either.
			s := newSender(t, endpoint("app", srv.URL+"/hook?token=url-token-7c1d", ""))
			text := `{"id":"ev1"}`
			if c.set {
				text = "eyJhbGciOiJFUzI1NiJ9.e30.sig"
			}
			err := s.Send(ctx, message(text))
			if c.mention == "" {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("Send: nil, want an error")
			}
			if isPermanent(err) != c.permanent {
				t.Errorf("Send: %v; permanent = %v, want %v", err, isPermanent(err), c.permanent)
			}
			if !strings.Contains(err.Error(), c.mention) {
				t.Errorf("Send: %v, want it to mention %q", err, c.mention)
			}
			if strings.Contains(err.Error(), testSecret) || strings.Contains(err.Error(), "url-token-7c1d") {
				t.Errorf("Send: the error leaks the secret or the URL: %v", err)
			}
		})
	}
	if hits.Load() != 0 {
		t.Errorf("the redirect was followed (%d requests elsewhere)", hits.Load())
	}
}

func TestSendPermanentWithoutRequest(t *testing.T) {
	s := newSender(t, endpoint("app", "http://127.0.0.1:1/", ""))
	m := message(`{}`)
	m.To = "gone-endpoint"
	if err := s.Send(ctx, m); !isPermanent(err) || !strings.Contains(err.Error(), `"gone-endpoint"`) {
		t.Errorf("unknown endpoint: %v, want a permanent error naming it", err)
	}
	m = message(`{}`)
	m.Channel = mamoru.ChannelEmail
	if err := s.Send(ctx, m); !isPermanent(err) {
		t.Errorf("email message: %v, want a permanent error", err)
	}
	var pe *PermanentError
	if err := s.Send(ctx, &mamoru.Message{Channel: mamoru.ChannelWebhook, To: "x"}); !errors.As(err, &pe) || !pe.Permanent() {
		t.Errorf("errors.As(*PermanentError) failed for %v", err)
	}
}

func TestSendConnectsOnlyToTheEndpoint(t *testing.T) {
	s := newSender(t, endpoint("app", "http://127.0.0.1:8123/hook", ""))
	dial := s.client.Transport.(*http.Transport).DialContext
	if _, err := dial(ctx, "tcp", "127.0.0.1:9999"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("dial to another port: %v", err)
	}
	if _, err := dial(ctx, "tcp", "10.0.0.1:8123"); err == nil || !strings.Contains(err.Error(), "refusing") {
		t.Errorf("dial to another host: %v", err)
	}
	if s.client.Transport.(*http.Transport).Proxy != nil {
		t.Error("the transport uses a proxy")
	}
}

func TestSendSlowEndpointIsRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client leaving
		if calls.Add(1) == 1 {
			select { // far beyond the timeout; ends when the client gives up
			case <-time.After(10 * time.Second):
			case <-r.Context().Done():
			}
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	ep := endpoint("app", srv.URL, "")
	ep.Timeout = 200 * time.Millisecond
	s := newSender(t, ep)

	start := time.Now()
	err := s.Send(ctx, message(`{}`))
	if err == nil || isPermanent(err) || !strings.Contains(err.Error(), "no answer within 200ms") {
		t.Fatalf("slow endpoint: %v, want a temporary timeout error", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Send took %s with a 200ms timeout", d)
	}

	// Through the worker: the first attempt times out, the retry delivers.
	calls.Store(0)
	store := openStore(t)
	m := message(`{"id":"ev1"}`)
	m.CreatedAt, m.NextAttemptAt = time.Now(), time.Now()
	if err := store.Update(ctx, func(tx mamoru.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
		t.Fatal(err)
	}
	w := notify.NewWorker(store, s, mamoru.SystemClock{}, quiet, notify.WorkerConfig{BaseBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	deadline := time.Now().Add(10 * time.Second)
	var got *mamoru.Message
	for time.Now().Before(deadline) {
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		store.View(ctx, func(tx mamoru.Tx) error {
			var err error
			got, err = tx.MessageByID(ctx, m.ID)
			return err
		})
		if !got.SentAt.IsZero() {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got.SentAt.IsZero() || got.Attempts != 1 || !strings.Contains(got.LastError, "no answer") {
		t.Errorf("after a timeout and a retry: sent %v, attempts %d, last error %q", got.SentAt, got.Attempts, got.LastError)
	}
}

func TestSendOversizedAnswer(t *testing.T) {
	const size = 50 << 20
	var written atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		chunk := make([]byte, 64<<10)
		for written.Load() < size {
			n, err := w.Write(chunk)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	s := newSender(t, endpoint("app", srv.URL, ""))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := s.Send(ctx, message(`{}`)); err != nil {
		t.Fatalf("2xx with a huge body: %v, want delivered", err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("Send allocated %d MiB for a 50 MiB answer", alloc>>20)
	}
	srv.CloseClientConnections()
	time.Sleep(50 * time.Millisecond)
	if written.Load() >= size {
		t.Errorf("the whole 50 MiB answer was read")
	}
}

// TestSendReusesConnections: deliveries to one endpoint share a connection.
func TestSendReusesConnections(t *testing.T) {
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	s := newSender(t, endpoint("app", srv.URL, ""))
	for i := 0; i < 5; i++ {
		if err := s.Send(context.Background(), message(`{}`)); err != nil {
			t.Fatal(err)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("5 deliveries opened %d connections, want 1", n)
	}
}

// TestGoneIsParkedAtOnce: through the real worker, 410 parks the delivery
// after one attempt, and notify.Permanent recognises the error.
func TestGoneIsParkedAtOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusGone)
	}))
	defer srv.Close()
	s := newSender(t, endpoint("app", srv.URL, ""))
	if err := s.Send(ctx, message(`{}`)); !notify.Permanent(err) {
		t.Fatalf("410: notify.Permanent(%v) = false", err)
	}
	store := openStore(t)
	m := message(`{"id":"ev1"}`)
	m.CreatedAt, m.NextAttemptAt = time.Now(), time.Now()
	if err := store.Update(ctx, func(tx mamoru.Tx) error { return tx.EnqueueMessage(ctx, m) }); err != nil {
		t.Fatal(err)
	}
	w := notify.NewWorker(store, s, mamoru.SystemClock{}, quiet, notify.WorkerConfig{MaxAttempts: 10})
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	var got *mamoru.Message
	store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		got, err = tx.MessageByID(ctx, m.ID)
		return err
	})
	if got.ParkedAt.IsZero() || got.Attempts != 1 || !strings.Contains(got.LastError, "410 Gone") {
		t.Errorf("after a 410: parked %v, attempts %d, last error %q", got.ParkedAt, got.Attempts, got.LastError)
	}
}
