package webhook

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/notify"
)

// receiver is a webhook endpoint that verifies signatures and records what
// it accepted, in order; fail decides which deliveries it refuses.
type receiver struct {
	t    *testing.T
	mu   sync.Mutex
	log  []arrival            // every request, accepted or not, in arrival order
	seen map[string]int       // accepted deliveries by Mamoru-Delivery-Id
	acc  map[string][]string  // accepted event IDs by account, in order
	fail func(p Payload) bool // called under mu
}

type arrival struct {
	eventID  string
	accepted bool
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	if err := Verify([]byte(testSecret), r.Header.Get(HeaderSignature), body, time.Now(), time.Minute); err != nil {
		rc.t.Errorf("receiver: %v", err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		rc.t.Errorf("receiver: %v", err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.fail != nil && rc.fail(p) {
		rc.log = append(rc.log, arrival{p.ID, false})
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	rc.log = append(rc.log, arrival{p.ID, true})
	rc.seen[r.Header.Get(HeaderDeliveryID)]++
	rc.acc[p.AccountID] = append(rc.acc[p.AccountID], p.ID)
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) accepted() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	n := 0
	for _, ids := range rc.acc {
		n += len(ids)
	}
	return n
}

// TestOrderPerAccount: events of accounts A and B are enqueued interleaved;
// the receiver refuses A's first delivery until all of B's are through
// (and at least three times). B is not held up by A, A's later events wait
// for its first, each account's events arrive in order, and two workers on
// one database deliver nothing twice.
func TestOrderPerAccount(t *testing.T) {
	const perAccount = 5
	store := openStore(t)
	rc := &receiver{t: t, seen: map[string]int{}, acc: map[string][]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	cfg := Config{Endpoints: []Endpoint{endpoint("app", srv.URL+"/hook", "")}}
	d, err := NewDispatcher(cfg, testIssuer, nil, nil)
	if err != nil {
		t.Fatal(err)
	}

	want := map[string][]string{}
	for i := 0; i < perAccount; i++ {
		for _, account := range []string{"A", "B"} {
			e := eventOf(mamoru.EventSignInSucceeded, account)
			want[account] = append(want[account], e.ID)
			if err := store.Update(ctx, func(tx mamoru.Tx) error { return d.EventRecorded(ctx, tx, e) }); err != nil {
				t.Fatal(err)
			}
		}
	}
	firstA := want["A"][0]
	refusals := 0
	rc.fail = func(p Payload) bool {
		if p.ID != firstA {
			return false
		}
		if len(rc.acc["B"]) < perAccount || refusals < 3 {
			refusals++
			return true
		}
		return false
	}

	sender, err := NewSender(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sender.Close()
	wcfg := notify.WorkerConfig{PollInterval: 5 * time.Millisecond, Batch: 4, MaxAttempts: 1000,
		BaseBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, SendTimeout: 5 * time.Second}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for i := 0; i < 2; i++ {
		w := notify.NewWorker(store, sender, mamoru.SystemClock{}, quiet, wcfg)
		wg.Go(func() { w.Run(runCtx) })
	}
	deadline := time.Now().Add(30 * time.Second)
	for rc.accepted() < 2*perAccount && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // room for a duplicate to show up
	stop()
	wg.Wait()

	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, account := range []string{"A", "B"} {
		if !slices.Equal(rc.acc[account], want[account]) {
			t.Errorf("account %s: accepted %q, want %q (enqueue order)", account, rc.acc[account], want[account])
		}
	}
	for id, n := range rc.seen {
		if n != 1 {
			t.Errorf("delivery %s accepted %d times", id, n)
		}
	}
	if refusals < 3 {
		t.Errorf("A's first delivery was refused %d times, want at least 3", refusals)
	}
	// Nothing of A's came before A's first was accepted.
	laterA := map[string]bool{}
	for _, id := range want["A"][1:] {
		laterA[id] = true
	}
	for _, a := range rc.log {
		if a.eventID == firstA && a.accepted {
			break
		}
		if laterA[a.eventID] {
			t.Errorf("A's event %s arrived before A's first was delivered", a.eventID)
		}
	}
}

// TestParkedDeliveryReleasesTheOrder: once a delivery is parked, the next
// one of its account goes out.
func TestParkedDeliveryReleasesTheOrder(t *testing.T) {
	store := openStore(t)
	rc := &receiver{t: t, seen: map[string]int{}, acc: map[string][]string{}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	cfg := Config{Endpoints: []Endpoint{endpoint("app", srv.URL, "")}}
	d, _ := NewDispatcher(cfg, testIssuer, nil, nil)
	first, second := eventOf(mamoru.EventPasswordChanged, "A"), eventOf(mamoru.EventSessionEnded, "A")
	for _, e := range []*mamoru.Event{first, second} {
		if err := store.Update(ctx, func(tx mamoru.Tx) error { return d.EventRecorded(ctx, tx, e) }); err != nil {
			t.Fatal(err)
		}
	}
	rc.fail = func(p Payload) bool { return p.ID == first.ID }
	sender, _ := NewSender(cfg, nil)
	defer sender.Close()
	w := notify.NewWorker(store, sender, mamoru.SystemClock{}, quiet,
		notify.WorkerConfig{MaxAttempts: 2, BaseBackoff: time.Millisecond, MaxBackoff: time.Millisecond})
	for i := 0; i < 200 && rc.accepted() == 0; i++ {
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !slices.Equal(rc.acc["A"], []string{second.ID}) {
		t.Errorf("accepted %q, want only the second event after the first was parked", rc.acc["A"])
	}
	var parked []*mamoru.Message
	store.View(ctx, func(tx mamoru.Tx) error {
		var err error
		parked, err = tx.ListMessages(ctx, mamoru.MessageFilter{Parked: true, Channel: mamoru.ChannelWebhook})
		return err
	})
	if len(parked) != 1 || parked[0].Subject != first.ID || parked[0].LastError == "" {
		t.Errorf("parked: %+v", parked)
	}
}
