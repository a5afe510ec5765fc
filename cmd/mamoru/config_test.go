package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite generated parts of docs/")

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAreValid(t *testing.T) {
	cfg := DefaultConfig()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.Database.Driver != "sqlite" || cfg.Database.Path != "mamoru.db" {
		t.Fatalf("defaults %+v", cfg)
	}
}

func TestFileThenEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mamoru.yaml")
	os.WriteFile(path, []byte("listen: 127.0.0.1:9000\nbase_url: https://id.example.com\npassword:\n  argon2:\n    memory_kib: 65536\nsessions:\n  idle_timeout: 2h\n"), 0o600)
	cfg, err := LoadConfig(path, env(map[string]string{
		"MAMORU_PASSWORD_ARGON2_TIME":  "3",
		"MAMORU_SESSIONS_IDLE_TIMEOUT": "90m",
		"MAMORU_DEV":                   "true",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != "127.0.0.1:9000" || cfg.Password.Argon2.MemoryKiB != 65536 || cfg.Password.Argon2.Time != 3 ||
		cfg.Sessions.IdleTimeout != 90*time.Minute || !cfg.Dev || cfg.BaseURL != "https://id.example.com" {
		t.Fatalf("%+v", cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestUnknownKeyAndBadEnvAreErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mamoru.yaml")
	os.WriteFile(path, []byte("listne: 127.0.0.1:9000\n"), 0o600)
	if _, err := LoadConfig(path, env(nil)); err == nil || !strings.Contains(err.Error(), "listne") {
		t.Fatalf("unknown key: %v", err)
	}
	_, err := LoadConfig("", env(map[string]string{"MAMORU_DEV": "yes please", "MAMORU_PASSWORD_MIN_LENGTH": "eight"}))
	if err == nil || !strings.Contains(err.Error(), "MAMORU_DEV") || !strings.Contains(err.Error(), "MAMORU_PASSWORD_MIN_LENGTH") {
		t.Fatalf("both bad variables must be reported: %v", err)
	}
	if _, err := LoadConfig(filepath.Join(t.TempDir(), "missing.yaml"), env(nil)); err == nil {
		t.Fatal("missing file accepted")
	}
	empty := filepath.Join(t.TempDir(), "empty.yaml")
	os.WriteFile(empty, nil, 0o600)
	if _, err := LoadConfig(empty, env(nil)); err != nil {
		t.Fatalf("empty file: %v", err)
	}
}

func TestValidateReportsEverything(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Listen = "nope"
	cfg.BaseURL = "http://id.example.com"
	cfg.Database.Driver = "mysql"
	cfg.Password.MinLength = 6
	cfg.Password.MaxLength = 32
	cfg.Password.Argon2.MemoryKiB = 1024
	cfg.Sessions.IdleTimeout = 0
	cfg.Tokens.ResetTTL = time.Hour
	err := cfg.Validate()
	if err == nil {
		t.Fatal("accepted")
	}
	for _, key := range []string{"listen", "base_url", "database.driver", "password.min_length", "password.max_length",
		"password.argon2.memory_kib", "sessions.idle_timeout", "tokens.reset_ttl"} {
		if !strings.Contains(err.Error(), key+":") {
			t.Errorf("no error for %s in:\n%v", key, err)
		}
	}
}

func TestBaseURLMustBeHTTPSOffLoopback(t *testing.T) {
	for url, ok := range map[string]bool{
		"https://id.example.com":     true,
		"http://127.0.0.1:8080":      true,
		"http://localhost:8080/auth": true,
		"http://[::1]:8080":          true,
		"http://id.example.com":      false,
		"https://id.example.com/?x":  false,
		"ftp://id.example.com":       false,
		"/relative":                  false,
	} {
		cfg := DefaultConfig()
		cfg.BaseURL = url
		if err := cfg.Validate(); (err == nil) != ok {
			t.Errorf("%s: %v", url, err)
		}
	}
}

// TestConfigDocs keeps the table in docs/configuration.md in step with the
// Config struct; run with -update to regenerate it.
func TestConfigDocs(t *testing.T) {
	const begin, end = "<!-- BEGIN GENERATED: keys -->\n", "<!-- END GENERATED: keys -->"
	var b strings.Builder
	b.WriteString(begin)
	b.WriteString("| YAML key | environment variable | default | meaning |\n|---|---|---|---|\n")
	def := reflect.ValueOf(DefaultConfig())
	walkConfig(reflect.TypeOf(Config{}), "MAMORU", "", func(envName, key string, f reflect.StructField) {
		v := def
		for _, part := range strings.Split(key, ".") {
			v = fieldByTag(v, part)
		}
		val := fmt.Sprint(v.Interface())
		if d, ok := v.Interface().(time.Duration); ok {
			val = d.String()
		}
		if val == "" {
			val = "—"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | `%s` | %s |\n", key, envName, val, f.Tag.Get("doc"))
	})
	b.WriteString(end)
	path := "../../docs/configuration.md"
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < 0 {
		t.Fatalf("%s lacks the generated markers", path)
	}
	got := s[:i] + b.String() + s[j+len(end):]
	if got == s {
		return
	}
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("%s is out of date with the Config struct: run go test ./cmd/mamoru -run TestConfigDocs -update", path)
}

func fieldByTag(v reflect.Value, tag string) reflect.Value {
	for i := 0; i < v.NumField(); i++ {
		if v.Type().Field(i).Tag.Get("yaml") == tag {
			return v.Field(i)
		}
	}
	panic("no field " + tag)
}
