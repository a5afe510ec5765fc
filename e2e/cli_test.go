package e2e

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

func mamoru(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("mamoru %v: %v\n%s%s", args, err, out.String(), errb.String())
	}
	return out.String()
}

// TestImportedHashesSignInAndAreRehashed: accounts imported with bcrypt and
// PBKDF2 hashes sign in with their old passwords and are stored as
// argon2id afterwards.
func TestImportedHashesSignInAndAreRehashed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	db := filepath.Join(dir, "mamoru.db")
	const pwA, pwB = "old-shop-password-1", "old-shop-password-2"
	bc, _ := bcrypt.GenerateFromPassword([]byte(pwA), bcrypt.MinCost)
	key, _ := pbkdf2.Key(sha256.New, pwB, []byte("NaCl"), 2000, 32)
	pb := fmt.Sprintf("pbkdf2_sha256$2000$NaCl$%s", base64.StdEncoding.EncodeToString(key))
	file := filepath.Join(dir, "users.jsonl")
	os.WriteFile(file, []byte(fmt.Sprintf("{\"email\":\"a@example.com\",\"password_hash\":%q}\n{\"email\":\"b@example.com\",\"password_hash\":%q,\"language\":\"ja\"}\n", bc, pb)), 0o600)
	if out := mamoru(t, "", "user", "import", "--db", db, file); !strings.Contains(out, "imported 2") {
		t.Fatal(out)
	}
	s := start(t, database{name: "sqlite", args: []string{"--db", db}})
	c := newClient(t, s)
	for email, pw := range map[string]string{"a@example.com": pwA, "b@example.com": pwB} {
		if r := c.do("POST", "/api/v1/signin", map[string]any{"email": email, "password": pw + "x"}); r.Status != 401 {
			t.Fatalf("%s wrong password: %d %s", email, r.Status, r.Body)
		}
		if r := c.do("POST", "/api/v1/signin", map[string]any{"email": email, "password": pw}); r.Status != 200 {
			t.Fatalf("%s: %d %s", email, r.Status, r.Body)
		}
		if out := mamoru(t, "", "user", "show", "--db", db, email); !strings.Contains(out, "argon2id") {
			t.Fatalf("%s not rehashed:\n%s", email, out)
		}
		if r := c.do("POST", "/api/v1/signin", map[string]any{"email": email, "password": pw}); r.Status != 200 {
			t.Fatalf("%s after rehash: %d %s", email, r.Status, r.Body)
		}
	}
}

// TestKilledProcessLosesNothing: a server killed with SIGKILL right after a
// sign-up keeps the account and its verification mail; a restarted server
// on the same database continues the flow, and the operator's lock is
// honoured by the running server.
func TestKilledProcessLosesNothing(t *testing.T) {
	t.Parallel()
	db := database{name: "sqlite", args: []string{"--db", filepath.Join(t.TempDir(), "mamoru.db")}}
	s := start(t, db)
	c := newClient(t, s)
	const pw = "hakone-onsen-ryokan-3"
	if r := c.do("POST", "/api/v1/signup", map[string]any{"email": "kill@example.com", "password": pw, "language": "en"}); r.Status != 202 {
		t.Fatal(r.Status)
	}
	s.cmd.Process.Kill()
	<-s.done
	s.done <- nil

	s2 := start(t, db)
	c2 := newClient(t, s2)
	m := c2.mail("kill@example.com", nil, "Confirm")
	if r := c2.do("POST", "/api/v1/verify", map[string]any{"email": "kill@example.com", "code": code(t, m)}); r.Status != 200 {
		t.Fatalf("verify after restart: %d %s", r.Status, r.Body)
	}
	if r := c2.do("POST", "/api/v1/signin", map[string]any{"email": "kill@example.com", "password": pw}); r.Status != 200 {
		t.Fatalf("signin after restart: %d %s", r.Status, r.Body)
	}
	mamoru(t, "", "user", "lock", "--db", db.args[1], "kill@example.com")
	if r := c2.do("GET", "/api/v1/sessions", nil); r.Status != 401 {
		t.Fatalf("session survived the operator's lock: %d", r.Status)
	}
	if r := c2.do("POST", "/api/v1/signin", map[string]any{"email": "kill@example.com", "password": pw}); r.Status != 401 || string(r.Body) != `{"status":"invalid_credentials"}` {
		t.Fatalf("locked account: %d %s", r.Status, r.Body)
	}
}
