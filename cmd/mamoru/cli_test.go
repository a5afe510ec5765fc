package main

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// cli runs the program like a shell would and returns stdout, stderr.
func cli(t *testing.T, stdin string, envm map[string]string, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, env(envm), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), err
}

func TestVersionAndUsage(t *testing.T) {
	out, _, err := cli(t, "", nil, "version")
	if err != nil || !strings.HasPrefix(out, "mamoru ") {
		t.Fatalf("%q %v", out, err)
	}
	_, _, err = cli(t, "", nil)
	if exitCode(err) != 2 {
		t.Fatalf("no command: %v", err)
	}
	_, _, err = cli(t, "", nil, "frobnicate")
	if exitCode(err) != 2 {
		t.Fatalf("unknown command: %v", err)
	}
	_, _, err = cli(t, "", nil, "serve", "--no-such-flag")
	if exitCode(err) != 2 {
		t.Fatalf("unknown flag: %v", err)
	}
}

func TestConfigCheck(t *testing.T) {
	if out, _, err := cli(t, "", nil, "config", "check"); err != nil || !strings.Contains(out, "ok") {
		t.Fatalf("%q %v", out, err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("password:\n  min_length: 4\n  argon2:\n    memory_kib: 100\n"), 0o600)
	_, _, err := cli(t, "", nil, "config", "check", "--config", bad)
	if err == nil || !strings.Contains(err.Error(), "password.min_length") || !strings.Contains(err.Error(), "password.argon2.memory_kib") {
		t.Fatalf("every problem must be reported: %v", err)
	}
}

func TestUserCommands(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	out, _, err := cli(t, "tsukiji-market-2026\n", nil, "user", "create", "--db", db, "--email", "Ops@Example.com", "--language", "ja", "--verified")
	if err != nil || !strings.Contains(out, "ops@example.com") {
		t.Fatalf("create: %q %v", out, err)
	}
	if _, _, err := cli(t, "tsukiji-market-2026\n", nil, "user", "create", "--db", db, "--email", "ops@example.com"); err == nil {
		t.Fatal("duplicate accepted")
	}
	if _, _, err := cli(t, "password1\n", nil, "user", "create", "--db", db, "--email", "x@example.com"); err == nil || !strings.Contains(err.Error(), "common") {
		t.Fatalf("common password: %v", err)
	}
	out, _, err = cli(t, "", nil, "user", "show", "--db", db, "OPS@example.com")
	if err != nil || !strings.Contains(out, "argon2id") || !strings.Contains(out, "active") || !strings.Contains(out, "ja") {
		t.Fatalf("show: %q %v", out, err)
	}
	if out, _, err = cli(t, "", nil, "user", "lock", "--db", db, "ops@example.com"); err != nil || !strings.Contains(out, "locked") {
		t.Fatalf("lock: %q %v", out, err)
	}
	if out, _, err = cli(t, "", nil, "user", "unlock", "--db", db, "ops@example.com"); err != nil || !strings.Contains(out, "active") {
		t.Fatalf("unlock: %q %v", out, err)
	}
	if out, _, err = cli(t, "", nil, "user", "list", "--db", db); err != nil || !strings.Contains(out, "ops@example.com") {
		t.Fatalf("list: %q %v", out, err)
	}
	if _, _, err = cli(t, "", nil, "user", "show", "--db", db, "nobody@example.com"); err == nil {
		t.Fatal("show of a missing account succeeded")
	}
}

// importHashes returns a bcrypt and a Django-style PBKDF2 hash of pw.
func importHashes(t testing.TB, pw string) (string, string) {
	b, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key, err := pbkdf2.Key(sha256.New, pw, []byte("somesalt"), 1000, 32)
	if err != nil {
		t.Fatal(err)
	}
	return string(b), fmt.Sprintf("pbkdf2_sha256$1000$somesalt$%s", base64.StdEncoding.EncodeToString(key))
}

func TestUserImport(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "m.db")
	bc, pb := importHashes(t, "imported-password-1")
	good := filepath.Join(dir, "good.jsonl")
	os.WriteFile(good, []byte(fmt.Sprintf(`{"email":"a@example.com","password_hash":%q,"language":"ja","email_verified":true}
{"email":"B@Example.com","password_hash":%q}

`, bc, pb)), 0o600)
	bad := filepath.Join(dir, "bad.jsonl")
	os.WriteFile(bad, []byte(fmt.Sprintf(`{"email":"c@example.com","password_hash":"md5:abc"}
not json
{"email":"nope","password_hash":%q}
{"email":"d@example.com","password_hash":%q,"language":"fr"}
{"email":"e@example.com","password_hash":%q,"extra":1}
`, bc, bc, bc)), 0o600)
	_, _, err := cli(t, "", nil, "user", "import", "--db", db, bad)
	if err == nil {
		t.Fatal("bad file imported")
	}
	for _, line := range []string{"line 1", "line 2", "line 3", "line 4", "line 5"} {
		if !strings.Contains(err.Error(), line+":") {
			t.Errorf("problem of %s not reported in:\n%v", line, err)
		}
	}
	if out, _, _ := cli(t, "", nil, "user", "list", "--db", db); strings.Contains(out, "c@example.com") {
		t.Fatal("a bad file imported some lines")
	}
	out, _, err := cli(t, "", nil, "user", "import", "--db", db, good)
	if err != nil || !strings.Contains(out, "imported 2") {
		t.Fatalf("import: %q %v", out, err)
	}
	if _, _, err := cli(t, "", nil, "user", "import", "--db", db, good); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("re-import: %v", err)
	}
	if out, _, err := cli(t, "", nil, "user", "import", "--db", db, "--skip-existing", good); err != nil || !strings.Contains(out, "skipped 2") {
		t.Fatalf("re-import with --skip-existing: %q %v", out, err)
	}
	if out, _, _ := cli(t, "", nil, "user", "show", "--db", db, "b@example.com"); !strings.Contains(out, "PBKDF2") {
		t.Fatalf("show: %q", out)
	}
}

func TestMigrateCommand(t *testing.T) {
	db := filepath.Join(t.TempDir(), "m.db")
	out, _, err := cli(t, "", nil, "migrate", "--db", db)
	if err != nil || !strings.Contains(out, "applied") {
		t.Fatalf("first: %q %v", out, err)
	}
	out, _, err = cli(t, "", nil, "migrate", "--db", db)
	if err != nil || !strings.Contains(out, "up to date") {
		t.Fatalf("second: %q %v", out, err)
	}
}
