package eval

import (
	"container/heap"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/mamoru-id/mamoru/risk"
)

// Options say how to evaluate.
type Options struct {
	Config risk.Config // the policy; Run validates it
	// Attackers is the number of simulated attempts per attacker model
	// (default 1000; negative: none). They are spread over a uniform
	// sample of at most that many users who had at least MinHistory
	// legitimate sign-ins.
	Attackers  int
	MinHistory int       // default 3
	Seed       uint64    // seeds the samples and the simulated attackers
	RARTargets []float64 // default DefaultRARTargets
	TPRTargets []float64 // default DefaultTPRTargets
	// Reorder is how many rows are held to put a log that is almost in
	// time order in order (default 16384). Rows that come later than that
	// are replayed when they come, and counted (Input.Late).
	Reorder int
}

// DefaultRARTargets are the re-authentication rates at which the report
// gives the true-positive rate of each attacker model.
var DefaultRARTargets = []float64{0.005, 0.01, 0.02, 0.05, 0.10}

// DefaultTPRTargets are the shares of each attacker model for which the
// report gives the re-authentication rate it takes to catch them (the
// measure of Wiefling et al.).
var DefaultTPRTargets = []float64{0.90, 0.99, 0.999}

func (o *Options) defaults() {
	if o.Attackers == 0 {
		o.Attackers = 1000
	}
	if o.Attackers < 0 {
		o.Attackers = 0
	}
	if o.MinHistory <= 0 {
		o.MinHistory = 3
	}
	if len(o.RARTargets) == 0 {
		o.RARTargets = DefaultRARTargets
	}
	if len(o.TPRTargets) == 0 {
		o.TPRTargets = DefaultTPRTargets
	}
	if o.Reorder <= 0 {
		o.Reorder = 16384
	}
}

// The groups of rows of the log, as reported.
const (
	GroupReturning   = "legitimate"           // successful sign-ins of users with a history
	GroupFirst       = "legitimate_first"     // each user's first successful sign-in
	GroupFailed      = "legitimate_failed"    // the users' own failed sign-ins (not assessed)
	GroupAttackFail  = "attack_ip_failed"     // failed sign-ins from attack IPs
	GroupAttackOK    = "attack_ip_successful" // successful ones: takeovers
	GroupTakeover    = "takeover_unlisted"    // takeovers from other addresses
	GroupAttackTotal = "attack"               // all attack rows together
	groupCount       = 6                      // the groups above but the total
)

var groupNames = []string{GroupReturning, GroupFirst, GroupFailed, GroupAttackFail, GroupAttackOK, GroupTakeover}

// userState is what the replay keeps per user.
type userState struct {
	h      *risk.History
	n      int       // legitimate sign-ins learned
	last   time.Time // the last one
	asns   [4]uint32 // the last distinct ASNs of those sign-ins
	victim *victim   // in the attackers' sample
}

func (u *userState) usedASN(asn uint32) bool {
	if u == nil || asn == 0 {
		return false
	}
	for _, a := range u.asns {
		if a == asn {
			return true
		}
	}
	return false
}

func (u *userState) learnedASN(asn uint32) {
	if asn == 0 || u.asns[0] == asn {
		return
	}
	i := 1
	for i < len(u.asns)-1 && u.asns[i] != asn {
		i++
	}
	copy(u.asns[1:i+1], u.asns[:i])
	u.asns[0] = asn
}

// group accumulates the outcome of one group of rows.
type group struct {
	rows      int64
	decisions [5]int64
	scores    hist
	reasons   counter
}

func (g *group) add(a risk.Assessment) {
	g.rows++
	if l := a.Decision.Level(); l >= 0 {
		g.decisions[l]++
	}
	g.scores.add(a.Score)
	if g.reasons == nil {
		g.reasons = counter{}
	}
	for _, r := range a.Reasons {
		g.reasons[r.Code]++
	}
}

// replay is the state of one evaluation.
type replay struct {
	o       Options
	engine  *risk.Engine
	global  *risk.MemGlobal
	window  *risk.Window
	users   map[string]*userState
	pop     *population
	rng     *rand.Rand
	victims reservoir[*victim]
	groups  [groupCount]group
	late    int64
	rows    int64
	from    time.Time
	to      time.Time
}

// Run replays the log read from r through the risk engine and the
// simulated attackers, and reports. Bad records are counted, not fatal;
// Run fails on an unreadable header, an invalid policy, a failing reader
// or ctx's end.
func Run(ctx context.Context, r io.Reader, o Options) (*Report, error) {
	o.defaults()
	engine, err := risk.New(o.Config)
	if err != nil {
		return nil, err
	}
	rd, err := NewReader(r)
	if err != nil {
		return nil, err
	}
	window := o.Config.FailureWindow
	if window <= 0 {
		window = time.Hour
	}
	rp := &replay{
		o:       o,
		engine:  engine,
		global:  risk.NewMemGlobal(),
		window:  risk.NewWindow(window),
		users:   map[string]*userState{},
		pop:     newPopulation(),
		rng:     rand.New(rand.NewPCG(o.Seed, 0x6d616d6f7275)),
		victims: reservoir[*victim]{size: o.Attackers},
	}

	// Reading and parsing run beside the replay, a batch at a time.
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []Row, 4)
	free := make(chan []Row, 6)
	var readErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer close(batches)
		readErr = rp.read(ctx, rd, batches, free)
	}()
	for b := range batches {
		for i := range b {
			rp.step(&b[i])
		}
		select {
		case free <- b[:0]:
		default:
		}
		if parent.Err() != nil {
			break
		}
	}
	cancel()
	for range batches { // let the reader finish
	}
	<-done
	if err := parent.Err(); err != nil {
		return nil, err
	}
	if readErr != nil {
		return nil, readErr
	}
	rep := rp.report(rd)
	rp.attack(rep)
	return rep, nil
}

// read parses rows, puts them in time order within the reorder window and
// sends them in batches.
func (rp *replay) read(ctx context.Context, rd *Reader, out chan<- []Row, free chan []Row) error {
	const batchSize = 256
	newBatch := func() []Row {
		select {
		case b := <-free:
			return b
		default:
			return make([]Row, 0, batchSize)
		}
	}
	batch := newBatch()
	send := func() bool {
		select {
		case out <- batch:
			batch = newBatch()
			return true
		case <-ctx.Done():
			return false
		}
	}
	// Rows not earlier than every row before them (all of them, in a log
	// in time order) wait in a FIFO, the others in a heap; when more than
	// Reorder rows wait, the earlier of the two heads goes out.
	var (
		fifo    []queued
		head    int
		q       rowHeap
		seq     int64
		maxSeen time.Time
		lastOut time.Time
	)
	emit := func(r *Row) bool {
		if r.Time.Before(lastOut) {
			rp.late++ // counted by the reading goroutine only
		} else {
			lastOut = r.Time
		}
		batch = append(batch, *r)
		if len(batch) == cap(batch) {
			return send()
		}
		return true
	}
	pop := func() bool {
		if head < len(fifo) && (q.Len() == 0 || q.less(&fifo[head], &q[0])) {
			ok := emit(&fifo[head].Row)
			fifo[head] = queued{}
			head++
			if head >= 4096 && head*2 >= len(fifo) { // reuse the front
				n := copy(fifo, fifo[head:])
				clear(fifo[n:])
				fifo, head = fifo[:n], 0
			}
			return ok
		}
		x := heap.Pop(&q).(queued)
		return emit(&x.Row)
	}
	for {
		var r Row
		err := rd.Next(&r)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("reading the log: %w", err)
		}
		seq++
		if !r.Time.Before(maxSeen) {
			maxSeen = r.Time
			fifo = append(fifo, queued{r, seq})
		} else {
			heap.Push(&q, queued{r, seq})
		}
		if len(fifo)-head+q.Len() > rp.o.Reorder && !pop() {
			return ctx.Err()
		}
	}
	for len(fifo)-head+q.Len() > 0 {
		if !pop() {
			return ctx.Err()
		}
	}
	if len(batch) > 0 && !send() {
		return ctx.Err()
	}
	return nil
}

type queued struct {
	Row
	seq int64
}

// rowHeap orders rows by time, then by their order in the file.
type rowHeap []queued

func (h rowHeap) Len() int           { return len(h) }
func (h rowHeap) Less(i, j int) bool { return h.less(&h[i], &h[j]) }
func (h rowHeap) less(a, b *queued) bool {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c < 0
	}
	return a.seq < b.seq
}
func (h rowHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *rowHeap) Push(x any)   { *h = append(*h, x.(queued)) }
func (h *rowHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	old[len(old)-1] = queued{}
	*h = old[:len(old)-1]
	return x
}

// step replays one row: assess it as the engine would have (for a failed
// row: as if the password had been right), then let the history, the
// global counts and the reputation window learn what the server would.
func (rp *replay) step(r *Row) {
	rp.rows++
	if rp.from.IsZero() || r.Time.Before(rp.from) {
		rp.from = r.Time
	}
	if r.Time.After(rp.to) {
		rp.to = r.Time
	}
	u := rp.users[r.User]
	var h *risk.History
	if u != nil {
		h = u.h
	}
	a := r.Attempt()
	switch {
	case r.Attack():
		g := &rp.groups[3] // attack IP, failed
		switch {
		case !r.AttackIP:
			g = &rp.groups[5]
		case r.Success:
			g = &rp.groups[4]
		}
		g.add(rp.engine.Assess(a, h, rp.global, rp.window))
		rp.pop.add(rp.rng, r)
	case r.Success:
		as := rp.engine.Assess(a, h, rp.global, rp.window)
		if u == nil || u.n == 0 {
			rp.groups[1].add(as)
		} else {
			rp.groups[0].add(as)
		}
		if u == nil {
			u = &userState{h: risk.NewHistory()}
			rp.users[strings.Clone(r.User)] = u
		}
		u.h.Learn(a, rp.o.Config.Limits)
		rp.global.Add(a)
		u.n++
		u.last = r.Time
		u.learnedASN(r.Place.ASN)
		rp.pop.add(rp.rng, r)
		rp.sample(u, r)
	default:
		rp.groups[2].rows++
	}
	if !r.Success {
		rp.window.Fail(r.IP, r.Place.ASN, r.Time)
	}
}

// sample keeps a uniform sample of the users who reached MinHistory
// legitimate sign-ins, and what the targeted attacker knows of them.
func (rp *replay) sample(u *userState, r *Row) {
	if u.victim != nil {
		u.victim.see(r)
		return
	}
	if u.n != rp.o.MinHistory || rp.o.Attackers == 0 {
		return
	}
	i := rp.victims.slot(rp.rng)
	if i < 0 {
		return
	}
	if old := rp.victims.items[i]; old != nil {
		old.user.victim = nil
	}
	v := &victim{user: u}
	v.see(r)
	u.victim = v
	rp.victims.items[i] = v
}

// attack runs the simulated attackers against the sampled users and adds
// their results to the report. Each attempt comes a while after the
// victim's last sign-in, against the history and global counts at the end
// of the log, without reputation (it is a single attempt, not part of a
// wave).
func (rp *replay) attack(rep *Report) {
	vs := rp.victims.items
	if len(vs) == 0 || rp.o.Attackers == 0 {
		return
	}
	legit := &rp.groups[0].scores
	att := &Attackers{Attempts: rp.o.Attackers, Users: len(vs), MinHistory: rp.o.MinHistory, Seed: rp.o.Seed}
	for _, model := range Models {
		var g group
		rng := rand.New(rand.NewPCG(rp.o.Seed, uint64(len(model))<<32|uint64(model[0])))
		for k := range rp.o.Attackers {
			v := vs[k%len(vs)]
			a, ok := rp.pop.simulate(rng, model, v, rp.o.Config.Lists)
			if !ok {
				continue
			}
			a.Time = v.user.last.Add(time.Hour + time.Duration(rng.Int64N(int64(47*time.Hour))))
			g.add(rp.engine.Assess(a, v.user.h, rp.global, nil))
		}
		m := Model{Name: model, Attempts: g.rows}
		m.Decisions, m.Challenged = decisions(&g)
		m.Scores = g.scores.quantiles()
		m.Reasons = g.reasons.shares(g.rows)
		if curve, at, auc := roc(legit, &g.scores, rp.o.RARTargets); curve != nil {
			m.AUC = &auc
			m.AtRAR = at
			m.AtTPR = atTPR(curve, rp.o.TPRTargets)
			m.Curve = thin(curve, 200)
		}
		att.Models = append(att.Models, m)
	}
	rep.Attackers = att
}
