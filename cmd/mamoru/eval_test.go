package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const evalSample = "../../risk/eval/testdata/sample.csv"

func TestEval(t *testing.T) {
	// Text, the plot, flags after the file.
	svg := filepath.Join(t.TempDir(), "plot.svg")
	out, errOut, err := cli(t, "", nil, "eval", evalSample, "--plot", svg, "--attackers", "300")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	for _, want := range []string{
		"Log: 3600 rows", "Skipped: 0 bad rows", "Policy: score bands notify 2.0, challenge 4.0",
		"legitimate, returning", "Re-authentication rate (RAR) of legitimate sign-ins:", "Detection rate of attack rows:",
		"300 attempts per model", "naive", "vpn", "targeted", "TPR@1.00%",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errOut, "3600 rows in") || !strings.Contains(errOut, "rows/s") {
		t.Errorf("stderr %q", errOut)
	}
	if b, err := os.ReadFile(svg); err != nil || !strings.HasPrefix(string(b), "<svg ") || !strings.Contains(string(b), "targeted") {
		t.Errorf("plot: %v %.100s", err, b)
	}

	// JSON from standard input, the policy from the configuration.
	log, err := os.ReadFile(evalSample)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(t.TempDir(), "mamoru.yaml")
	os.WriteFile(cfg, []byte("risk:\n  notify_at: 1\n  challenge_at: 3\n"), 0o600)
	out, errOut, err = cli(t, string(log), nil, "eval", "--json", "--config", cfg, "--attackers", "0", "-")
	if err != nil {
		t.Fatalf("%v\n%s", err, errOut)
	}
	var rep struct {
		Input struct {
			Rows    int `json:"rows"`
			BadRows int `json:"bad_rows"`
		} `json:"input"`
		Policy struct {
			Notify    *float64 `json:"notify"`
			Challenge *float64 `json:"challenge"`
			Deny      *float64 `json:"deny"`
		} `json:"policy"`
		RAR       float64   `json:"rar"`
		Detection float64   `json:"detection_rate"`
		Attackers *struct{} `json:"attackers"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if rep.Input.Rows != 3600 || rep.Policy.Notify == nil || *rep.Policy.Notify != 1 || *rep.Policy.Challenge != 3 || rep.Policy.Deny != nil ||
		rep.Attackers != nil || !(rep.Detection > rep.RAR) {
		t.Errorf("%+v", rep)
	}
	if !strings.Contains(errOut, "standard input: 3600 rows") {
		t.Errorf("stderr %q", errOut)
	}

	// Mistakes.
	for _, args := range [][]string{
		{"eval"},
		{"eval", "a.csv", "b.csv"},
		{"eval", "--attackers", "-1", evalSample},
		{"eval", "--no-such-flag", evalSample},
	} {
		if _, _, err := cli(t, "", nil, args...); exitCode(err) != 2 {
			t.Errorf("%v: %v", args, err)
		}
	}
	if _, _, err := cli(t, "", nil, "eval", filepath.Join(t.TempDir(), "missing.csv")); err == nil || exitCode(err) != 1 {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := cli(t, "a,b\n1,2\n", nil, "eval", "-"); err == nil || !strings.Contains(err.Error(), "Login Timestamp") {
		t.Errorf("no columns: %v", err)
	}
	os.WriteFile(cfg, []byte("risk:\n  notify_at: 5\n  challenge_at: 3\n"), 0o600)
	if _, _, err := cli(t, "", nil, "eval", "--config", cfg, evalSample); err == nil {
		t.Error("no error for an invalid policy")
	}
}
