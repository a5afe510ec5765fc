package captcha

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
)

func TestSolverJS(t *testing.T) {
	file, err := os.ReadFile("assets/altcha-solver.js")
	if err != nil {
		t.Fatal(err)
	}
	js := SolverJS()
	if !bytes.Equal(js, file) || !bytes.Contains(js, []byte("crypto.subtle.digest")) {
		t.Fatal("SolverJS is not assets/altcha-solver.js")
	}
	js[0] = 'x'
	if SolverJS()[0] == 'x' {
		t.Fatal("SolverJS shares its bytes")
	}
}

type domReport struct {
	Working struct {
		State, Text    string
		ButtonDisabled bool
	}
	EarlySubmitPrevented bool
	After                struct {
		State, Text    string
		ButtonDisabled bool
	}
	Submissions          []string
	LaterSubmitPrevented bool
}

// runInPage runs our solver script in testdata/solver_dom.mjs (a stand-in
// DOM in node) against challengeURL.
func runInPage(t *testing.T, node, challengeURL string) domReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "solver_dom.mjs", challengeURL)
	cmd.Dir = "testdata"
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node solver_dom.mjs: %v\n%s", err, stderr.Bytes())
	}
	var r domReport
	if err := json.Unmarshal(out, &r); err != nil {
		t.Fatalf("report %s: %v", out, err)
	}
	return r
}

// TestSolverScriptInPage: the script fetches a challenge from the page's
// URL, keeps submit disabled and a submit waiting while it works, shows
// the page's texts, and submits an answer that Verify accepts; when the
// challenge cannot be had, it says so and lets the form go.
func TestSolverScriptInPage(t *testing.T) {
	node := nodeBinary(t)
	p, err := NewPoW(testKey, mamoru.SystemClock{}, newOnceMap(mamoru.SystemClock{}), PoWConfig{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /challenge", func(w http.ResponseWriter, r *http.Request) {
		ch, err := p.Challenge(Low)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(ch)
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	r := runInPage(t, node, srv.URL+"/challenge")
	if r.Working.State != "working" || r.Working.Text != "確認中…" || !r.Working.ButtonDisabled {
		t.Fatalf("while working: %+v", r.Working)
	}
	if !r.EarlySubmitPrevented {
		t.Fatal("a submit before the answer was not held back")
	}
	if r.After.State != "done" || r.After.Text != "確認しました" || r.After.ButtonDisabled {
		t.Fatalf("after solving: %+v", r.After)
	}
	if len(r.Submissions) != 2 || r.Submissions[0] == "" || r.Submissions[1] != r.Submissions[0] || r.LaterSubmitPrevented {
		t.Fatalf("submissions %q, later submit prevented %v; want the held-back submit, then the click, with one answer",
			r.Submissions, r.LaterSubmitPrevented)
	}
	if err := p.Verify(context.Background(), r.Submissions[0], ""); err != nil {
		t.Fatalf("the page's answer: %v", err)
	}

	r = runInPage(t, node, srv.URL+"/broken")
	if r.After.State != "error" || r.After.Text != "確認できませんでした" || r.After.ButtonDisabled {
		t.Fatalf("after a failed fetch: %+v", r.After)
	}
	if len(r.Submissions) != 1 || r.Submissions[0] != "" || r.LaterSubmitPrevented {
		t.Fatalf("submissions %q: want the click to go through without an answer", r.Submissions)
	}
}
