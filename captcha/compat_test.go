package captcha

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

const compatDir = "testdata/altcha"

// needNode returns the node binary, or skips the test when node or the
// installed altcha-lib (scripts/deps runs npm ci) is missing; under
// CI=true it fails instead.
func needNode(t testing.TB) string {
	t.Helper()
	node := nodeBinary(t)
	if _, err := os.Stat(compatDir + "/node_modules/altcha-lib/package.json"); err != nil {
		skipOrFail(t, compatDir+"/node_modules is missing: run scripts/deps (npm ci --prefix captcha/"+compatDir+")")
	}
	return node
}

// nodeBinary returns the node binary, or skips (fails under CI=true).
func nodeBinary(t testing.TB) string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		skipOrFail(t, "node is not installed")
	}
	return node
}

func skipOrFail(t testing.TB, missing string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (required under CI=true)", missing)
	}
	t.Skip(missing)
}

// compat runs compat.mjs with args and stdin and returns what it printed.
func compat(t testing.TB, node, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, append([]string{"compat.mjs"}, args...)...)
	cmd.Dir = compatDir
	cmd.Stdin = strings.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node compat.mjs %s: %v\n%s", args[0], err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out))
}

func challengeJSON(t testing.TB, ch *Challenge) string {
	b, err := json.Marshal(ch)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestALTCHACompat checks our proof of work against the reference ALTCHA
// library (altcha-lib, protocol v1), and our solver script against both.
// altcha-lib reads the real clock, so PoW does too here.
func TestALTCHACompat(t *testing.T) {
	node := needNode(t)
	ctx := context.Background()
	p, err := NewPoW(testKey, mamoru.SystemClock{}, newOnceMap(mamoru.SystemClock{}), PoWConfig{})
	if err != nil {
		t.Fatal(err)
	}
	key := string(testKey)

	t.Run("our challenge, solved by altcha-lib, passes our Verify", func(t *testing.T) {
		ch, err := p.Challenge(Low)
		if err != nil {
			t.Fatal(err)
		}
		answer := compat(t, node, challengeJSON(t, ch), "solve-altcha")
		if err := p.Verify(ctx, answer, ""); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		wantCode(t, p.Verify(ctx, answer, ""), mamoru.EInvalidRequest, ErrInvalid)
	})

	t.Run("altcha-lib's challenge, solved by our script, passes our Verify", func(t *testing.T) {
		expires := time.Now().Add(5 * time.Minute).Unix()
		out := compat(t, node, "", "create-altcha", key, strconv.Itoa(DefaultMaxNumberLow), strconv.FormatInt(expires, 10))
		var ch Challenge
		if err := json.Unmarshal([]byte(out), &ch); err != nil {
			t.Fatalf("altcha-lib's challenge %s: %v", out, err)
		}
		if ch.MaxNumber != DefaultMaxNumberLow || !strings.HasSuffix(ch.Salt, "&") {
			t.Fatalf("altcha-lib's challenge %+v", ch)
		}
		answer := compat(t, node, out, "solve-mamoru")
		if err := p.Verify(ctx, answer, ""); err != nil {
			t.Fatalf("Verify: %v", err)
		}
		// It names no level: enough for Verify, not for VerifyLevel.
		answer = compat(t, node, compat(t, node, "", "create-altcha", key, "1000", strconv.FormatInt(expires, 10)), "solve-altcha")
		wantCode(t, p.VerifyLevel(ctx, answer, Low), mamoru.EInvalidRequest, ErrInvalid)
		if err := p.Verify(ctx, answer, ""); err != nil {
			t.Fatalf("Verify of altcha-lib's own answer: %v", err)
		}
	})

	t.Run("our script's and our reference solver's answers pass altcha-lib's verifySolution", func(t *testing.T) {
		ch, err := p.Challenge(Low)
		if err != nil {
			t.Fatal(err)
		}
		answer := compat(t, node, challengeJSON(t, ch), "solve-mamoru")
		raw, _ := base64.StdEncoding.DecodeString(answer)
		var fields map[string]any
		if err := json.Unmarshal(raw, &fields); err != nil {
			t.Fatalf("our script's answer %q: %v", raw, err)
		}
		if int(fields["number"].(float64)) != solveGo(ch) {
			t.Fatalf("our script found %v, the reference solver %d", fields["number"], solveGo(ch))
		}
		if got := compat(t, node, answer, "verify-altcha", key); got != "true" {
			t.Fatalf("altcha-lib's verifySolution: %s", got)
		}
		if got := compat(t, node, answer, "verify-altcha", key+"x"); got != "false" {
			t.Fatalf("altcha-lib's verifySolution with another key: %s", got)
		}
		ch2, goAnswer := solved(t, p, Medium)
		if got := compat(t, node, goAnswer, "verify-altcha", key); got != "true" {
			t.Fatalf("altcha-lib's verifySolution of %+v: %s", ch2, got)
		}
		if err := p.Verify(ctx, answer, ""); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
}
