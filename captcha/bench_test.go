package captcha

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"testing"
)

// Benchmarks of the server's side (docs/captcha.md has the figures):
//
//	go test -run '^$' -bench 'Challenge|Verify' -benchmem ./captcha
//
// and of the browser's side, the worst case of each level (the number is
// the max number, so every candidate is tried):
//
//	go test -run '^$' -bench 'Solve' -benchtime 3x ./captcha

func BenchmarkChallenge(b *testing.B) {
	p, _, _ := newTestPoW(b, PoWConfig{})
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Challenge(Medium); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerify verifies right answers, each once (the counters are the
// in-test map).
func BenchmarkVerify(b *testing.B) {
	p, _, _ := newTestPoW(b, PoWConfig{})
	answers := make([]string, 0, 1024)
	for range cap(answers) {
		answers = append(answers, answerFor(p.challenge(Medium, DefaultMaxNumberMedium, 1), 1))
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == len(answers) {
			b.StopTimer()
			p.used = newOnceMap(p.clock) // so that the answers are fresh again
			i = 0
			b.StartTimer()
		}
		if err := p.Verify(ctx, answers[i], ""); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkVerifyForged refuses answers with a wrong signature: the cost
// of garbage.
func BenchmarkVerifyForged(b *testing.B) {
	p, _, _ := newTestPoW(b, PoWConfig{})
	ch := p.challenge(Medium, DefaultMaxNumberMedium, 1)
	ch.Signature = "00" + ch.Signature[2:]
	answer := answerFor(ch, 1)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Verify(ctx, answer, ""); err == nil {
			b.Fatal("forged answer accepted")
		}
	}
}

var levels = []Level{Low, Medium, High}

// BenchmarkSolveGo: the reference solver (native SHA-256, one core), worst
// case per level. A bot with native code solves at least this fast.
func BenchmarkSolveGo(b *testing.B) {
	p, _, _ := newTestPoW(b, PoWConfig{})
	for _, level := range levels {
		b.Run(level.String(), func(b *testing.B) {
			maxNum, _ := p.MaxNumber(level)
			ch := p.challenge(level, maxNum, maxNum)
			for b.Loop() {
				if solveGo(ch) != maxNum {
					b.Fatal("not solved")
				}
			}
			b.ReportMetric(float64(maxNum+1)*float64(b.N)/b.Elapsed().Seconds(), "hashes/s")
		})
	}
}

// BenchmarkSolveNode: our solver script in Node (crypto.subtle, as in a
// browser), worst case per level; solve-ms is the script's own timing,
// without Node's start-up. Skips without node and altcha-lib.
func BenchmarkSolveNode(b *testing.B) {
	node := needNode(b)
	p, _, _ := newTestPoW(b, PoWConfig{})
	for _, level := range levels {
		b.Run(level.String(), func(b *testing.B) {
			maxNum, _ := p.MaxNumber(level)
			ch := challengeJSON(b, p.challenge(level, maxNum, maxNum))
			var took float64
			for b.Loop() {
				raw, _ := base64.StdEncoding.DecodeString(compat(b, node, ch, "solve-mamoru"))
				var a struct{ Number, Took float64 }
				if err := json.Unmarshal(raw, &a); err != nil || int(a.Number) != maxNum {
					b.Fatalf("answer %s: %v", raw, err)
				}
				took += a.Took
			}
			b.ReportMetric(took/float64(b.N), "solve-ms")
			b.ReportMetric(float64(maxNum+1)*float64(b.N)/(took/1000), "hashes/s")
		})
	}
}
