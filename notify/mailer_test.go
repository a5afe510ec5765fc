package notify

import (
	"flag"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func testMailer(t *testing.T) *Mailer {
	t.Helper()
	base, _ := url.Parse("https://id.example.com/auth/")
	m, err := NewMailer(catalog.MustNew(), base, mamoru.NewFakeClock(time.Date(2026, 11, 21, 10, 2, 0, 0, time.UTC)))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func sampleData(m *Mailer) map[string]any {
	return map[string]any{
		"Code":       "123456",
		"Minutes":    15,
		"Link":       m.Link("/password/reset", url.Values{"token": {"TOKEN"}}),
		"SignInLink": m.Link("/signin", nil),
		"ForgotLink": m.Link("/password/forgot", nil),
		"Time":       time.Date(2026, 11, 21, 10, 2, 0, 0, time.UTC),
	}
}

// TestGolden renders every template in every language and compares it with
// testdata/<template>.<lang>.{txt,html}; run with -update to rewrite them.
func TestGolden(t *testing.T) {
	m := testMailer(t)
	for _, tmpl := range Templates {
		for _, lang := range mamoru.Languages {
			msg, err := m.Render(Mail{AccountID: "a1", To: "user@example.com", Language: lang, Template: tmpl, Data: sampleData(m)})
			if err != nil {
				t.Fatalf("%s/%s: %v", tmpl, lang, err)
			}
			got := "Subject: " + msg.Subject + "\n\n" + msg.Text
			for ext, body := range map[string]string{"txt": got, "html": msg.HTML} {
				name := filepath.Join("testdata", tmpl+"."+string(lang)+"."+ext)
				if *update {
					if err := os.WriteFile(name, []byte(body), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(name)
				if err != nil {
					t.Fatalf("%v (run go test ./notify -update)", err)
				}
				if string(want) != body {
					t.Errorf("%s differs from the golden file (run go test ./notify -update and review the diff)", name)
				}
			}
			for _, part := range []string{msg.Subject, msg.Text, msg.HTML} {
				if strings.Contains(part, "[mail.") || strings.Contains(part, "<no value>") {
					t.Errorf("%s/%s: missing text in %q", tmpl, lang, part)
				}
				if strings.Contains(part, "<form") || strings.Contains(part, "<input") {
					t.Errorf("%s/%s: a message must not contain a form", tmpl, lang)
				}
			}
		}
	}
}

func TestLinksOnlyFromBaseURL(t *testing.T) {
	m := testMailer(t)
	got := m.Link("/verify/link", url.Values{"token": {"a b&c"}})
	if got != "https://id.example.com/auth/verify/link?token=a+b%26c" {
		t.Errorf("link = %s", got)
	}
	msg, err := m.Render(Mail{To: "x@example.com", Language: mamoru.English, Template: TemplatePasswordReset, Data: sampleData(m)})
	if err != nil {
		t.Fatal(err)
	}
	for _, field := range strings.Fields(msg.Text + " " + msg.HTML) {
		if i := strings.Index(field, "http"); i >= 0 && !strings.Contains(field[i:], "https://id.example.com/auth/") {
			t.Errorf("link outside the base URL: %s", field)
		}
	}
}

func TestAccountLanguageNotRequester(t *testing.T) {
	m := testMailer(t)
	msg, err := m.Render(Mail{To: "x@example.com", Language: mamoru.Japanese, Template: TemplatePasswordChanged, Data: sampleData(m)})
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "パスワードが変更されました" || msg.Language != mamoru.Japanese {
		t.Errorf("subject %q lang %q", msg.Subject, msg.Language)
	}
	msg, _ = m.Render(Mail{To: "x@example.com", Language: "fr", Template: TemplatePasswordChanged, Data: sampleData(m)})
	if msg.Language != mamoru.English {
		t.Errorf("unknown language should fall back to English, got %q", msg.Language)
	}
}
