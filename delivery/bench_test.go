package delivery_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/delivery"
	"github.com/mamoru-id/mamoru/internal/smtpd"
	"github.com/mamoru-id/mamoru/notify"
)

// TestBenchOutboxSMTP measures outbox delivery to the local Exim over
// SQLite and prints a report (docs/benchmarks.md). It runs only with
// MAMORU_BENCH=1:
//
//	MAMORU_BENCH=1 go test -run TestBenchOutboxSMTP -v -count=1 ./delivery
//
// MAMORU_BENCH_N (default 1000) is the number of messages of the
// throughput runs, MAMORU_BENCH_BATCH (default 20, the worker's default)
// the batch size.
func TestBenchOutboxSMTP(t *testing.T) {
	if os.Getenv("MAMORU_BENCH") != "1" {
		t.Skip("set MAMORU_BENCH=1 to run the outbox benchmark")
	}
	n := envInt("MAMORU_BENCH_N", 1000)
	batch := envInt("MAMORU_BENCH_BATCH", 20)
	var report []string
	row := func(format string, args ...any) { report = append(report, fmt.Sprintf(format, args...)) }
	row("| run | messages | batch | msgs/s | latency p50 | p99 | max |")
	row("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")

	// SMTP alone, no outbox: what the server and the sender can do,
	// directly and through a proxy that adds 10 ms of round-trip time
	// (a mail provider on the network rather than on this machine).
	for _, rtt := range []time.Duration{0, 10 * time.Millisecond} {
		srv := smtpd.Start(t)
		cfg := smtpConfig(t, srv)
		where := "loopback"
		k := n
		if rtt > 0 {
			cfg.Port = delayProxy(t, srv.Addr, rtt/2)
			where = fmt.Sprintf("+%v RTT", rtt)
			k = min(n, 200)
		}
		snd := newSMTP(t, cfg)
		ms := make([]*mamoru.Message, k)
		for i := range ms {
			ms[i] = emailMessage(fmt.Sprintf("user%d@example.jp", i), i)
		}
		start := time.Now()
		for _, m := range ms {
			if err := snd.Send(context.Background(), m); err != nil {
				t.Fatal(err)
			}
		}
		d := time.Since(start)
		row("| SMTP only (%s), Send: a connection per message | %d | 1 | %.0f | | | |", where, k, float64(k)/d.Seconds())
		start = time.Now()
		for i := 0; i < k; i += batch {
			for _, err := range snd.SendBatch(context.Background(), ms[i:min(i+batch, k)]) {
				if err != nil {
					t.Fatal(err)
				}
			}
		}
		d = time.Since(start)
		row("| SMTP only (%s), SendBatch: a connection per batch | %d | %d | %.0f | | | |", where, k, batch, float64(k)/d.Seconds())
		srv.WaitMessages(t, 2*k, time.Minute)
		srv.Stop()
	}

	// Throughput: N messages committed at once, the worker drains them.
	for _, mode := range []string{"worker", "batch"} {
		r := runOutbox(t, mode, n, batch, 0, 0, false)
		name := "outbox, notify.Worker + Send (a connection per message)"
		if mode == "batch" {
			name = "outbox, notify.Worker + SendBatch (a connection per batch)"
		}
		row("| %s, backlog | %d | %d | %.0f | %s | %s | %s |", name, n, batch, r.rate, ms(r.p50), ms(r.p99), ms(r.max))
	}
	// Latency: one message per transaction, 20 per second.
	const m, every = 200, 50 * time.Millisecond
	for _, kick := range []bool{false, true} {
		r := runOutbox(t, "worker", m, batch, every, time.Second, kick)
		name := "notify.Worker, poll every 1s (no Kick)"
		if kick {
			name = "notify.Worker, poll every 1s, Kick after each commit"
		}
		row("| latency: %s, 20 msgs/s | %d | %d | %.0f | %s | %s | %s |", name, m, batch, r.rate, ms(r.p50), ms(r.p99), ms(r.max))
	}
	fmt.Println("\n" + strings.Join(report, "\n"))
}

type benchResult struct {
	rate          float64 // messages/s from the first commit to the last acceptance
	p50, p99, max time.Duration
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// timing wraps a sender and notes when each message was accepted.
type timing struct {
	inner    *delivery.SMTPSender
	mu       sync.Mutex
	accepted map[string]time.Time
}

func (s *timing) Send(ctx context.Context, m *mamoru.Message) error {
	err := s.inner.Send(ctx, m)
	if err == nil {
		s.mu.Lock()
		s.accepted[m.ID] = time.Now()
		s.mu.Unlock()
	}
	return err
}

func (s *timing) SendBatch(ctx context.Context, ms []*mamoru.Message) []error {
	errs := s.inner.SendBatch(ctx, ms)
	now := time.Now()
	s.mu.Lock()
	for i, err := range errs {
		if err == nil {
			s.accepted[ms[i].ID] = now
		}
	}
	s.mu.Unlock()
	return errs
}

func (s *timing) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.accepted)
}

// runOutbox enqueues n messages (all in one transaction when every is 0,
// else one per transaction every `every`, with a Kick after each commit
// if kick) and lets the real notify.Worker deliver them, with SendBatch
// (mode "batch": a connection per batch) or without (mode "worker": a
// connection per message), polling every poll (0: 20ms).
func runOutbox(t *testing.T, mode string, n, batch int, every, poll time.Duration, kick bool) benchResult {
	srv := smtpd.Start(t)
	defer srv.Stop()
	store := openStore(t)
	snd := &timing{inner: newSMTP(t, smtpConfig(t, srv)), accepted: map[string]time.Time{}}
	if poll == 0 {
		poll = 20 * time.Millisecond
	}
	cfg := notify.WorkerConfig{PollInterval: poll, Batch: batch, SendTimeout: 30 * time.Second}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	var sender notify.Sender = sendOnly{snd}
	if mode == "batch" {
		sender = snd
	}
	w := notify.NewWorker(store, sender, mamoru.SystemClock{}, log, cfg)
	go func() {
		defer close(done)
		w.Run(ctx)
	}()

	committed := map[string]time.Time{}
	var first time.Time
	if every == 0 {
		var ms []*mamoru.Message
		for i := 0; i < n; i++ {
			ms = append(ms, emailMessage(fmt.Sprintf("user%d@example.jp", i), i))
		}
		enqueueAll(t, store, ms...)
		first = time.Now()
		for _, m := range ms {
			committed[m.ID] = first
		}
	} else {
		tick := time.NewTicker(every)
		for i := 0; i < n; i++ {
			<-tick.C
			m := emailMessage(fmt.Sprintf("user%d@example.jp", i), i)
			enqueueAll(t, store, m)
			committed[m.ID] = time.Now()
			if i == 0 {
				first = committed[m.ID]
			}
			if kick {
				w.Kick()
			}
		}
		tick.Stop()
	}
	deadline := time.Now().Add(5 * time.Minute)
	for snd.count() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted after 5 minutes", snd.count(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	var lat []time.Duration
	var last time.Time
	for id, c := range committed {
		a := snd.accepted[id]
		lat = append(lat, a.Sub(c))
		if a.After(last) {
			last = a
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	srv.WaitMessages(t, n, time.Minute)
	return benchResult{
		rate: float64(n) / last.Sub(first).Seconds(),
		p50:  lat[len(lat)/2], p99: lat[len(lat)*99/100], max: lat[len(lat)-1],
	}
}

// sendOnly hides SendBatch, so that the worker sends one message per
// connection.
type sendOnly struct{ delivery.Sender }

// delayProxy forwards TCP connections to target, delivering every chunk
// oneWay later than it was read, in each direction. It returns its port.
func delayProxy(t *testing.T, target string, oneWay time.Duration) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	type chunk struct {
		due  time.Time
		data []byte
	}
	pipe := func(src, dst net.Conn) {
		ch := make(chan chunk, 1024)
		go func() {
			defer dst.Close()
			for c := range ch {
				time.Sleep(time.Until(c.due))
				if _, err := dst.Write(c.data); err != nil {
					return
				}
			}
		}()
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{time.Now().Add(oneWay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go pipe(c, d)
			go pipe(d, c)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}
