package notify

import (
	"flag"
	"fmt"
	"html"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mamoru-id/mamoru"
	"github.com/mamoru-id/mamoru/catalog"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testBase = "https://id.example.com/auth/"

func testMailer(t *testing.T, opts ...MailerOption) *Mailer {
	t.Helper()
	base, _ := url.Parse(testBase)
	m, err := NewMailer(catalog.MustNew(), base, mamoru.NewFakeClock(time.Date(2026, 11, 21, 10, 2, 0, 0, time.UTC)), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var (
	// sampleTime is 18:04 in Tokyo and 04:04 in New York.
	sampleTime   = time.Date(2026, 11, 21, 9, 4, 0, 0, time.UTC)
	sampleTokyo  = mamoru.Place{Country: "JP", Region: "Tokyo", RegionJA: "東京都", City: "Shinjuku", CityJA: "新宿区", ASN: 2516, Org: "KDDI Corporation"}
	sampleChrome = mamoru.Device{Browser: "Chrome", BrowserVersion: "131", OS: "Windows", OSVersion: "10", Type: "desktop"}
)

// sampleZone is the account's time zone in the golden files.
func sampleZone(lang mamoru.Language) string {
	if lang == mamoru.Japanese {
		return "Asia/Tokyo"
	}
	return "America/New_York"
}

// sampleTo is the recipient on a channel.
func sampleTo(ch mamoru.Channel) string {
	if ch == mamoru.ChannelSMS {
		return "+819012345678"
	}
	return "user@example.com"
}

// sampleData has every key of every template.
func sampleData(m *Mailer, lang mamoru.Language) map[string]any {
	reason, name := "Unusual activity is being investigated.", "Work phone"
	if lang == mamoru.Japanese {
		reason, name = "不審な操作について調査しています。", "仕事用スマートフォン"
	}
	return map[string]any{
		"Code":           "123456",
		"Minutes":        15,
		"Link":           m.Link("/password/reset", url.Values{"token": {"TOKEN"}}),
		"SignInLink":     m.Link("/signin", nil),
		"ForgotLink":     m.Link("/password/forgot", nil),
		"YesLink":        m.Link("/events/feedback", url.Values{"answer": {"yes"}, "token": {"FEEDBACK"}}),
		"NoLink":         m.Link("/secure-account", url.Values{"token": {"FEEDBACK"}}),
		"HistoryLink":    m.Link("/account/history", nil),
		"RevertLink":     m.Link("/email/revert", url.Values{"token": {"REVERT"}}),
		"ApproveLink":    m.Link("/signin/approval-request", url.Values{"token": {"APPROVE"}, "answer": {"approve"}}),
		"DenyLink":       m.Link("/signin/approval-request", url.Values{"token": {"APPROVE"}, "answer": {"deny"}}),
		"Time":           sampleTime,
		"Until":          sampleTime.Add(10 * time.Minute),
		"Place":          sampleTokyo,
		"Device":         sampleChrome,
		"IP":             "203.0.113.7",
		"OldEmail":       "user@example.com",
		"NewEmailMasked": "n***@example.net",
		"Days":           7,
		"NewPhoneMasked": "+81 ••• •••• 5678",
		"OldPhoneMasked": "+81 ••• •••• 1234",
		"Reason":         reason,
		"SupportText":    "support@example.com",
		"Method":         TwoStepTOTP,
		"Name":           name,
	}
}

// channels lists the channels a template has.
func channels(m *Mailer, id string) []mamoru.Channel {
	var out []mamoru.Channel
	for _, ch := range []mamoru.Channel{mamoru.ChannelEmail, mamoru.ChannelSMS} {
		if m.HasChannel(id, ch) {
			out = append(out, ch)
		}
	}
	return out
}

type rendered struct {
	name string // template/lang/channel
	tmpl string
	lang mamoru.Language
	msg  *mamoru.Message
}

// renderAll renders every template in every language on every channel it
// has, with data from data.
func renderAll(t *testing.T, m *Mailer, data func(lang mamoru.Language) map[string]any) []rendered {
	t.Helper()
	var out []rendered
	for _, tmpl := range Templates {
		chs := channels(m, tmpl)
		if len(chs) == 0 {
			t.Errorf("%s has no template files", tmpl)
		}
		for _, lang := range mamoru.Languages {
			for _, ch := range chs {
				msg, err := m.Render(Mail{AccountID: "a1", To: sampleTo(ch), Language: lang, TimeZone: sampleZone(lang),
					Channel: ch, Template: tmpl, Data: data(lang)})
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", tmpl, lang, ch, err)
				}
				out = append(out, rendered{name: tmpl + "/" + string(lang) + "/" + string(ch), tmpl: tmpl, lang: lang, msg: msg})
			}
		}
	}
	return out
}

// parts returns the texts of a message people read.
func parts(msg *mamoru.Message) []string { return []string{msg.Subject, msg.Text, msg.HTML} }

// TestGolden renders every template in every language on every channel
// and compares it with testdata/<template>.<lang>.{txt,html,sms}; run
// with -update to rewrite them.
func TestGolden(t *testing.T) {
	m := testMailer(t)
	for _, r := range renderAll(t, m, func(lang mamoru.Language) map[string]any { return sampleData(m, lang) }) {
		files := map[string]string{}
		if r.msg.Channel == mamoru.ChannelSMS {
			files["sms"] = r.msg.Text + "\n"
		} else {
			files["txt"] = "Subject: " + r.msg.Subject + "\n\n" + r.msg.Text
			files["html"] = r.msg.HTML
		}
		for ext, body := range files {
			name := filepath.Join("testdata", r.tmpl+"."+string(r.lang)+"."+ext)
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
		for _, part := range parts(r.msg) {
			if strings.Contains(part, "[mail.") || strings.Contains(part, "[display.") || strings.Contains(part, "<no value>") || strings.Contains(part, "<nil>") {
				t.Errorf("%s: missing text in %q", r.name, part)
			}
			if strings.Contains(part, "<form") || strings.Contains(part, "<input") {
				t.Errorf("%s: a message must not contain a form", r.name)
			}
		}
	}
}

// TestTemplateFiles checks that the lists of templates match the files,
// that every email has both parts and a subject in every language.
func TestTemplateFiles(t *testing.T) {
	cat := catalog.MustNew()
	files, err := fs.Glob(templateFiles, "templates/*.tmpl")
	if err != nil {
		t.Fatal(err)
	}
	email, sms := map[string]int{}, map[string]bool{}
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".tmpl")
		id, ext, _ := strings.Cut(base, ".")
		if id == "layout" {
			continue
		}
		switch ext {
		case "txt", "html":
			email[id]++
		case "sms":
			sms[id] = true
		default:
			t.Errorf("unexpected template file %s", f)
		}
	}
	for id, n := range email {
		if n != 2 {
			t.Errorf("%s: an email needs both %s.txt.tmpl and %s.html.tmpl", id, id, id)
		}
		for _, lang := range mamoru.Languages {
			if !cat.Has(lang, "mail."+id+".subject") {
				t.Errorf("%s: no subject in %s", id, lang)
			}
		}
	}
	for _, id := range Templates {
		if email[id] == 0 && !sms[id] {
			t.Errorf("%s is listed but has no files", id)
		}
	}
	for id := range email {
		if !slices.Contains(Templates, id) {
			t.Errorf("%s has files but is not in Templates", id)
		}
	}
	for id := range sms {
		if !slices.Contains(Templates, id) || !slices.Contains(SMSTemplates, id) {
			t.Errorf("%s has an SMS template but is not in Templates and SMSTemplates", id)
		}
	}
	for _, id := range SMSTemplates {
		if !sms[id] {
			t.Errorf("%s is in SMSTemplates but has no .sms.tmpl", id)
		}
	}
}

// documented lists the Data keys each template is documented to read
// (next to its constant), less the optional ones: rendering with these
// alone must leave nothing missing.
var documented = map[string][]string{
	TemplateVerifyEmail:           {"Code", "Minutes", "Link"},
	TemplateAccountExists:         {"SignInLink", "ForgotLink"},
	TemplatePasswordReset:         {"Code", "Minutes", "Link"},
	TemplatePasswordResetDone:     {"Time", "Device", "Place", "IP"},
	TemplatePasswordChanged:       {"Time", "Device", "Place", "IP"},
	TemplateNewSignIn:             {"Time", "Device", "Place", "IP", "YesLink", "NoLink"},
	TemplateEmailChangeCode:       {"Code", "Minutes"},
	TemplateEmailChanged:          {"OldEmail", "NewEmailMasked", "Time", "Device", "Place", "IP", "RevertLink", "Days"},
	TemplatePhoneCode:             {"Code", "Minutes"},
	TemplatePhoneChanged:          {"NewPhoneMasked", "Time", "Device", "Place", "IP", "NoLink"},
	TemplateAccountLocked:         {},
	TemplateAccountRestricted:     {},
	TemplateAccountUnlocked:       {},
	TemplatePasswordResetRequired: {"Code", "Minutes", "Link"},
	TemplateSecureAccount:         {"Code", "Minutes"},
	TemplateSignInCode:            {"Code", "Minutes", "Time", "Device", "Place", "IP"},
	TemplateSignInLocked:          {"Until", "Link", "Time", "Device", "Place", "IP"},
	TemplateSignInApproval:        {"ApproveLink", "DenyLink", "Minutes", "Time", "Device", "Place", "IP"},
	TemplateTwoStepAdded:          {"Time", "Device", "Place", "IP", "Method", "NoLink"},
	TemplateTwoStepRemoved:        {"Time", "Device", "Place", "IP", "Method", "NoLink"},
	TemplateTwoStepCodeReplayed:   {"Time", "Device", "Place", "IP", "Method", "NoLink"},
}

func TestDocumentedKeysSuffice(t *testing.T) {
	m := testMailer(t)
	for _, tmpl := range Templates {
		keys, ok := documented[tmpl]
		if !ok {
			t.Errorf("%s: add its keys to documented", tmpl)
			continue
		}
		for _, lang := range mamoru.Languages {
			data := map[string]any{}
			for _, k := range keys {
				data[k] = sampleData(m, lang)[k]
			}
			for _, ch := range channels(m, tmpl) {
				msg, err := m.Render(Mail{To: sampleTo(ch), Language: lang, Channel: ch, Template: tmpl, Data: data})
				if err != nil {
					t.Fatalf("%s/%s/%s: %v", tmpl, lang, ch, err)
				}
				for _, part := range parts(msg) {
					if strings.Contains(part, "[mail.") || strings.Contains(part, "<no value>") || strings.Contains(part, "<nil>") {
						t.Errorf("%s/%s/%s with only %v: missing text in %q", tmpl, lang, ch, keys, part)
					}
				}
			}
		}
	}
}

var linkRE = regexp.MustCompile(`(?i)(https?:)?//[^\s"'<>]+|href="[^"]*"|src="[^"]*"|\bwww\.[^\s"'<>]+`)

// TestEveryLinkUnderBaseURL: every link in every message starts with the
// base URL, and texts carry none.
func TestEveryLinkUnderBaseURL(t *testing.T) {
	m := testMailer(t)
	got := m.Link("/verify/link", url.Values{"token": {"a b&c"}})
	if got != testBase+"verify/link?token=a+b%26c" {
		t.Errorf("link = %s", got)
	}
	seen := 0
	for _, r := range renderAll(t, m, func(lang mamoru.Language) map[string]any { return sampleData(m, lang) }) {
		for _, part := range parts(r.msg) {
			for _, l := range linkRE.FindAllString(html.UnescapeString(part), -1) {
				l = strings.TrimSuffix(strings.TrimPrefix(l, `href="`), `"`)
				seen++
				if !strings.HasPrefix(l, testBase) {
					t.Errorf("%s: link outside the base URL: %s", r.name, l)
				}
			}
		}
		if r.msg.Channel == mamoru.ChannelSMS && linkRE.MatchString(r.msg.Text) {
			t.Errorf("%s: a text message must carry no link: %q", r.name, r.msg.Text)
		}
	}
	if seen == 0 {
		t.Fatal("found no links at all: the check is broken")
	}
}

// TestTemplatesTakeLinksFromLinkKeys: a template puts into a link only a
// *Link key the caller built with Mailer.Link.
func TestTemplatesTakeLinksFromLinkKeys(t *testing.T) {
	files, _ := fs.Glob(templateFiles, "templates/*.html.tmpl")
	urlArg := regexp.MustCompile(`"URL" (\S+?)[ )]`)
	withLink := regexp.MustCompile(`\{\{with \.\w+Link\}\}`)
	for _, f := range files {
		b, _ := fs.ReadFile(templateFiles, f)
		src := string(b)
		if strings.Contains(src, "href=") && !strings.HasSuffix(f, "layout.html.tmpl") {
			t.Errorf("%s: write links with button.html", f)
		}
		for _, mm := range urlArg.FindAllStringSubmatch(src, -1) {
			arg := mm[1]
			if arg == "." && withLink.MatchString(src) {
				continue
			}
			if !regexp.MustCompile(`^\.\w*Link$`).MatchString(arg) {
				t.Errorf("%s: link from %s, not from a *Link key", f, arg)
			}
		}
	}
}

// A request for the reader's password or code, in either language. The
// footer's "we will never ask for your password" and advice such as "set a
// new password" or "don't share it" are not requests.
var (
	enAsk  = regexp.MustCompile(`(?i)\b(enter|type|re-?enter|confirm|verify|provide|send|reply with|tell|give|share|submit|forward|input|write)\s+(us\s+|me\s+)?(your|the|this|that)\s+(current\s+|old\s+|existing\s+|account\s+|one-time\s+|sign-in\s+)?(password|code|passcode)\b`)
	enNeg  = regexp.MustCompile(`(?i)\b(not|never|n't|don't|do not)\s+(\w+\s+)?$`)
	jaAsk  = regexp.MustCompile(`(現在の|今の|ご登録の|登録済みの)?(パスワード|確認コード|コード)を(ご)?(入力|返信|送信|記入|お知らせ|教え|伝え|お伝え|共有)(して|し|て)?(ください|下さい|願います|お願い)`)
	jaSafe = regexp.MustCompile(`(新しい|次の|画面で次の)$`)
)

// asksForSecret reports the first phrase of s that asks for a password or
// a code to be handed over, or "" if none does. Entering a code on our own
// page ("enter this code on the … page") is what codes are for; handing
// one over (reply, tell, share) is not.
func asksForSecret(s string) string {
	for _, loc := range enAsk.FindAllStringIndex(s, -1) {
		phrase := s[loc[0]:loc[1]]
		before := s[max(0, loc[0]-20):loc[0]]
		if enNeg.MatchString(before) {
			continue
		}
		lower := strings.ToLower(phrase)
		if strings.Contains(lower, "code") && strings.HasPrefix(lower, "enter ") {
			// "enter this code on the page": allowed, unless it says where
			// else to put it.
			rest := strings.ToLower(s[loc[1]:min(len(s), loc[1]+40)])
			if strings.HasPrefix(strings.TrimSpace(rest), "on the") {
				continue
			}
		}
		return phrase
	}
	for _, loc := range jaAsk.FindAllStringIndex(s, -1) {
		before := s[max(0, loc[0]-30):loc[0]]
		if !utf8.ValidString(before) {
			before = strings.ToValidUTF8(before, "")
		}
		phrase := s[loc[0]:loc[1]]
		if jaSafe.MatchString(before) {
			continue
		}
		if strings.Contains(phrase, "コード") && strings.Contains(phrase, "入力") && strings.Contains(before, "画面で") {
			continue
		}
		return phrase
	}
	return ""
}

func TestAsksForSecretDetector(t *testing.T) {
	for _, bad := range []string{
		"Please enter your password to keep your account.",
		"Reply with your current password.",
		"To unlock your account, confirm your password here.",
		"Tell us the code we sent you.",
		"Share this code with our support agent.",
		"パスワードを入力してください。",
		"現在のパスワードを返信してください。",
		"確認コードを教えてください。",
		"ご登録のパスワードをお知らせください。",
	} {
		if asksForSecret(bad) == "" {
			t.Errorf("not caught: %q", bad)
		}
	}
	for _, good := range []string{
		"We will never ask for your current password by email or in a link.",
		"Choose a new password and set a new password.",
		"Enter this code on the password reset page:",
		"Don't share it. If this wasn't you, change your password.",
		"Do not share this code with anyone.",
		"Reset your password",
		"新しいパスワードを入力してください。",
		"パスワード再設定画面で次の確認コードを入力してください。",
		"他人に教えないでください。心当たりがない場合はパスワードを変更してください。",
		"制限中は、正しいパスワードでもログインできません。",
		"メールやメール内のリンクで、現在のパスワードをお尋ねすることはありません。",
	} {
		if p := asksForSecret(good); p != "" {
			t.Errorf("wrongly caught %q in %q", p, good)
		}
	}
}

// TestNoMessageAsksForSecrets: no message asks the reader to type or hand
// over a password, or to hand over a code.
func TestNoMessageAsksForSecrets(t *testing.T) {
	m := testMailer(t)
	for _, r := range renderAll(t, m, func(lang mamoru.Language) map[string]any { return sampleData(m, lang) }) {
		for _, part := range []string{r.msg.Subject, r.msg.Text, htmlText(r.msg.HTML)} {
			if p := asksForSecret(part); p != "" {
				t.Errorf("%s asks for a secret: %q", r.name, p)
			}
		}
	}
}

// codeTemplates deliver a one-time code (or a link token); no other
// message may carry one.
var codeTemplates = []string{TemplateVerifyEmail, TemplatePasswordReset, TemplateEmailChangeCode,
	TemplatePhoneCode, TemplatePasswordResetRequired, TemplateSecureAccount, TemplateSignInCode}

func TestOnlyCodeMessagesCarryCodes(t *testing.T) {
	m := testMailer(t)
	for _, r := range renderAll(t, m, func(lang mamoru.Language) map[string]any { return sampleData(m, lang) }) {
		has := strings.Contains(r.msg.Text+r.msg.HTML, "123456")
		if want := slices.Contains(codeTemplates, r.tmpl); has != want {
			t.Errorf("%s: carries the code = %v, want %v", r.name, has, want)
		}
		// The link token of Link goes only where Link is read.
		if strings.Contains(r.msg.Text+r.msg.HTML, "TOKEN") && !slices.Contains(documented[r.tmpl], "Link") {
			t.Errorf("%s carries a reset link it does not need", r.name)
		}
	}
}

func TestFooterSaysWeNeverAskForPasswords(t *testing.T) {
	m := testMailer(t)
	cat := catalog.MustNew()
	for _, r := range renderAll(t, m, func(lang mamoru.Language) map[string]any { return sampleData(m, lang) }) {
		if r.msg.Channel != mamoru.ChannelEmail {
			continue
		}
		want := cat.T(r.lang, "mail.common.no_password", nil)
		if !strings.Contains(r.msg.Text, want) || !strings.Contains(html.UnescapeString(r.msg.HTML), want) {
			t.Errorf("%s: no %q", r.name, want)
		}
	}
}

// htmlText is what a reader sees of an HTML message, one block a line.
func htmlText(s string) string {
	s = regexp.MustCompile(`(?s)<head>.*?</head>`).ReplaceAllString(s, "")
	s = regexp.MustCompile(`(?i)<br>|</p>|<hr[^>]*>`).ReplaceAllString(s, "\n")
	s = regexp.MustCompile(`<[^>]+>`).ReplaceAllString(s, "")
	return html.UnescapeString(s)
}

// TestHTMLCarriesTheText: every line of the text part is in the HTML part.
func TestHTMLCarriesTheText(t *testing.T) {
	m := testMailer(t)
	for _, r := range renderAll(t, m, func(lang mamoru.Language) map[string]any { return sampleData(m, lang) }) {
		if r.msg.Channel != mamoru.ChannelEmail {
			continue
		}
		shown := htmlText(r.msg.HTML)
		for _, line := range strings.Split(r.msg.Text, "\n") {
			line = strings.TrimSpace(line)
			if line == "" || line == "--" {
				continue
			}
			if !strings.Contains(shown, line) {
				t.Errorf("%s: the HTML part lacks %q", r.name, line)
			}
		}
	}
}

func TestHTMLEscapesData(t *testing.T) {
	m := testMailer(t)
	evil := "<script>alert(1)</script>"
	for _, tmpl := range []string{TemplateNewSignIn, TemplateEmailChanged, TemplatePhoneChanged, TemplatePasswordChanged, TemplateAccountLocked,
		TemplateTwoStepAdded, TemplateTwoStepRemoved, TemplateTwoStepCodeReplayed} {
		for _, lang := range mamoru.Languages {
			data := sampleData(m, lang)
			data["Device"] = mamoru.Device{Browser: evil, OS: "Windows"}
			data["Place"] = mamoru.Place{Country: "JP", City: evil, CityJA: evil, ASN: 1, Org: evil}
			data["IP"] = evil
			data["OldEmail"], data["NewEmailMasked"] = evil, evil
			data["NewPhoneMasked"], data["OldPhoneMasked"] = evil, evil
			data["Reason"], data["SupportText"] = evil, evil
			data["Name"] = evil
			msg, err := m.Render(Mail{To: "x@example.com", Language: lang, Template: tmpl, Data: data})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(msg.HTML, "<script") {
				t.Errorf("%s/%s: data not escaped in HTML", tmpl, lang)
			}
			if !strings.Contains(msg.HTML, "&lt;script&gt;") {
				t.Errorf("%s/%s: data not shown escaped in HTML", tmpl, lang)
			}
			if !strings.Contains(msg.Text, evil) {
				t.Errorf("%s/%s: the text part should show the data as it is", tmpl, lang)
			}
		}
	}
}

func TestTimeInAccountZone(t *testing.T) {
	m := testMailer(t)
	for _, c := range []struct {
		lang    mamoru.Language
		zone    string
		want    string
		notWant string
	}{
		{mamoru.English, "America/New_York", "21 November 2026 04:04 (EST)", "09:04"},
		{mamoru.Japanese, "Asia/Tokyo", "2026年11月21日 18:04 (JST)", "09:04"},
		{mamoru.English, "Asia/Tokyo", "21 November 2026 18:04 (JST)", "09:04"},
		{mamoru.English, "", "21 November 2026 09:04 (UTC)", "18:04"},
		{mamoru.Japanese, "Not/AZone", "2026年11月21日 09:04 (UTC)", "18:04"},
	} {
		data := sampleData(m, c.lang)
		data["TimeZone"] = "Europe/Paris" // only Mail.TimeZone counts
		msg, err := m.Render(Mail{To: "x@example.com", Language: c.lang, TimeZone: c.zone, Template: TemplateNewSignIn, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{msg.Text, msg.HTML} {
			if !strings.Contains(part, c.want) || strings.Contains(part, c.notWant) {
				t.Errorf("%s %q: want %q in %q", c.lang, c.zone, c.want, part)
			}
		}
	}
}

func TestUnknownPlaceAndDevice(t *testing.T) {
	m := testMailer(t)
	cat := catalog.MustNew()
	for _, lang := range mamoru.Languages {
		data := sampleData(m, lang)
		data["Place"] = mamoru.Place{}
		data["Device"] = &mamoru.Device{}
		msg, err := m.Render(Mail{To: "x@example.com", Language: lang, Template: TemplateNewSignIn, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		unknown := cat.T(lang, "display.place.unknown", nil)
		for _, part := range []string{msg.Text, htmlText(msg.HTML)} {
			if !strings.Contains(part, cat.T(lang, "mail.common.detail.place", map[string]any{"PlaceText": unknown})) {
				t.Errorf("%s: an unknown place should read %q: %s", lang, unknown, part)
			}
			if !strings.Contains(part, cat.T(lang, "display.device.unknown", nil)) {
				t.Errorf("%s: an unknown device should read as unknown", lang)
			}
			if strings.Contains(part, cat.T(lang, "mail.common.place_note", nil)) || strings.Contains(part, "AS2516") {
				t.Errorf("%s: no note on an estimate and no network for an unknown place", lang)
			}
		}
	}
	// Without Place, Device or IP the lines are left out, not left blank.
	msg, err := m.Render(Mail{To: "x@example.com", Language: mamoru.English, Template: TemplatePasswordChanged,
		Data: map[string]any{"Time": sampleTime, "ForgotLink": m.Link("/password/forgot", nil)}})
	if err != nil {
		t.Fatal(err)
	}
	for _, label := range []string{"Device:", "Location:", "IP address:", "Network:"} {
		if strings.Contains(msg.Text, label) || strings.Contains(msg.HTML, label) {
			t.Errorf("password_changed without details shows %q", label)
		}
	}
}

// gsm7Septets counts the septets of s in the GSM 03.38 alphabet, ok false
// if s needs UCS-2.
func gsm7Septets(s string) (n int, ok bool) {
	const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	const ext = "^{}\\[~]|€\f"
	for _, r := range s {
		switch {
		case strings.ContainsRune(basic, r):
			n++
		case strings.ContainsRune(ext, r):
			n += 2
		default:
			return 0, false
		}
	}
	return n, true
}

// TestSMSLength: English texts fit one GSM-7 segment (160); Japanese ones
// (UCS-2, 70 a segment) stay within 140 characters, two segments.
func TestSMSLength(t *testing.T) {
	m := testMailer(t)
	for _, tmpl := range SMSTemplates {
		for _, purpose := range []string{"", PhoneCodeVerifyPhone, PhoneCodeSignIn, PhoneCodeConfirm} {
			for _, lang := range mamoru.Languages {
				data := sampleData(m, lang)
				data["Purpose"] = purpose
				msg, err := m.Render(Mail{To: "+819012345678", Language: lang, Channel: mamoru.ChannelSMS, Template: tmpl, Data: data})
				if err != nil {
					t.Fatal(err)
				}
				if msg.Channel != mamoru.ChannelSMS || msg.Subject != "" || msg.HTML != "" || msg.To != "+819012345678" {
					t.Errorf("%s/%s: not a plain text message: %+v", tmpl, lang, msg)
				}
				if strings.ContainsAny(msg.Text, "<>") {
					t.Errorf("%s/%s: markup in a text message: %q", tmpl, lang, msg.Text)
				}
				if lang == mamoru.Japanese {
					if n := utf8.RuneCountInString(msg.Text); n > 140 {
						t.Errorf("%s/%s: %d characters, more than 140: %q", tmpl, lang, n, msg.Text)
					}
					continue
				}
				n, ok := gsm7Septets(msg.Text)
				if !ok {
					t.Errorf("%s/%s: needs UCS-2 (70 characters a segment): %q", tmpl, lang, msg.Text)
				} else if n > 160 {
					t.Errorf("%s/%s: %d septets, more than 160: %q", tmpl, lang, n, msg.Text)
				}
			}
		}
	}
}

func TestPhoneCodePurposes(t *testing.T) {
	m := testMailer(t)
	seen := map[string]bool{}
	for _, purpose := range []string{PhoneCodeVerifyPhone, PhoneCodeSignIn, PhoneCodeConfirm} {
		for _, lang := range mamoru.Languages {
			msg, err := m.Render(Mail{To: "+819012345678", Language: lang, Channel: mamoru.ChannelSMS, Template: TemplatePhoneCode,
				Data: map[string]any{"Code": "123456", "Minutes": 10, "Purpose": purpose}})
			if err != nil {
				t.Fatal(err)
			}
			if seen[msg.Text] {
				t.Errorf("%s/%s: the same text as another purpose", purpose, lang)
			}
			seen[msg.Text] = true
			if !strings.Contains(msg.Text, "123456") || !strings.Contains(msg.Text, "10") || !strings.Contains(msg.Text, DefaultProductName) {
				t.Errorf("%s/%s: %q", purpose, lang, msg.Text)
			}
		}
	}
}

func TestChannels(t *testing.T) {
	m := testMailer(t)
	if _, err := m.Render(Mail{To: "x@example.com", Language: mamoru.English, Template: TemplatePhoneCode, Data: sampleData(m, mamoru.English)}); err == nil {
		t.Error("phone_code has no email")
	}
	if _, err := m.Render(Mail{To: "+819012345678", Channel: mamoru.ChannelSMS, Language: mamoru.English, Template: TemplateNewSignIn, Data: sampleData(m, mamoru.English)}); err == nil {
		t.Error("new_sign_in has no SMS")
	}
	if _, err := m.Render(Mail{To: "x", Channel: mamoru.ChannelWebhook, Language: mamoru.English, Template: TemplateNewSignIn}); err == nil {
		t.Error("webhooks are not rendered by the mailer")
	}
	msg, err := m.Render(Mail{To: "x@example.com", Language: mamoru.English, Template: TemplateNewSignIn, Data: sampleData(m, mamoru.English)})
	if err != nil || msg.Channel != mamoru.ChannelEmail || msg.Subject == "" || msg.HTML == "" {
		t.Errorf("an empty channel means email: %+v %v", msg, err)
	}
}

func TestProductName(t *testing.T) {
	m := testMailer(t, WithProductName("Example Shop"))
	msg, err := m.Render(Mail{To: "x@example.com", Language: mamoru.English, Template: TemplateNewSignIn, Data: sampleData(m, mamoru.English)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg.HTML, "Example Shop") || strings.Contains(msg.HTML, ">mamoru<") {
		t.Errorf("header does not name the product: %s", msg.HTML)
	}
	sms, err := m.Render(Mail{To: "+819012345678", Channel: mamoru.ChannelSMS, Language: mamoru.Japanese, Template: TemplatePhoneCode, Data: sampleData(m, mamoru.Japanese)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(sms.Text, "【Example Shop】") {
		t.Errorf("sms = %q", sms.Text)
	}
	// Data cannot rename the product or move the base URL.
	data := sampleData(m, mamoru.English)
	data["Product"], data["BaseURL"] = "Evil", "https://evil.example/"
	msg, _ = m.Render(Mail{To: "x@example.com", Language: mamoru.English, Template: TemplateNewSignIn, Data: data})
	if strings.Contains(msg.Text+msg.HTML, "Evil") || strings.Contains(msg.Text+msg.HTML, "evil.example") {
		t.Error("data replaced Product or BaseURL")
	}
}

// TestOldCallersStillWork: password_changed and password_reset_done with
// only the keys callers passed before (Time, ForgotLink).
func TestOldCallersStillWork(t *testing.T) {
	m := testMailer(t)
	cat := catalog.MustNew()
	for _, tmpl := range []string{TemplatePasswordChanged, TemplatePasswordResetDone} {
		for _, lang := range mamoru.Languages {
			msg, err := m.Render(Mail{To: "x@example.com", Language: lang, Template: tmpl,
				Data: map[string]any{"Time": sampleTime, "ForgotLink": m.Link("/password/forgot", nil)}})
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{cat.T(lang, "mail.common.not_you_reset", nil), testBase + "password/forgot", "09:04 (UTC)"} {
				if !strings.Contains(msg.Text, want) || !strings.Contains(htmlText(msg.HTML), want) {
					t.Errorf("%s/%s: no %q", tmpl, lang, want)
				}
			}
			if strings.Contains(msg.Text, cat.T(lang, "mail.common.not_you_secure", nil)) {
				t.Errorf("%s/%s: offers to secure the account without a NoLink", tmpl, lang)
			}
		}
	}
}

func TestPhoneChangedWording(t *testing.T) {
	m := testMailer(t)
	cat := catalog.MustNew()
	for _, c := range []struct {
		newP, oldP string
		id         string
	}{
		{"+81 ••• •••• 5678", "+81 ••• •••• 1234", "mail.phone_changed.intro_changed"},
		{"+81 ••• •••• 5678", "", "mail.phone_changed.intro_set"},
		{"", "+81 ••• •••• 1234", "mail.phone_changed.intro_removed"},
		{"", "", "mail.phone_changed.intro"},
	} {
		for _, lang := range mamoru.Languages {
			data := sampleData(m, lang)
			data["NewPhoneMasked"], data["OldPhoneMasked"] = c.newP, c.oldP
			msg, err := m.Render(Mail{To: "x@example.com", Language: lang, Template: TemplatePhoneChanged, Data: data})
			if err != nil {
				t.Fatal(err)
			}
			if want := cat.T(lang, c.id, data); !strings.Contains(msg.Text, want) {
				t.Errorf("%s/%s: no %q in %s", c.id, lang, want, msg.Text)
			}
		}
	}
}

func TestAccountLanguageNotRequester(t *testing.T) {
	m := testMailer(t)
	msg, err := m.Render(Mail{To: "x@example.com", Language: mamoru.Japanese, Template: TemplatePasswordChanged, Data: sampleData(m, mamoru.Japanese)})
	if err != nil {
		t.Fatal(err)
	}
	if msg.Subject != "パスワードが変更されました" || msg.Language != mamoru.Japanese {
		t.Errorf("subject %q lang %q", msg.Subject, msg.Language)
	}
	if !strings.Contains(msg.Text, "Windows 10 の Chrome 131") || !strings.Contains(msg.Text, "日本 東京都 新宿区 付近") {
		t.Errorf("device and place not in Japanese: %s", msg.Text)
	}
	msg, _ = m.Render(Mail{To: "x@example.com", Language: "fr", Template: TemplatePasswordChanged, Data: sampleData(m, mamoru.English)})
	if msg.Language != mamoru.English {
		t.Errorf("unknown language should fall back to English, got %q", msg.Language)
	}
}

// TestTwoStepMethods: every method is named in every language, in
// two_step_added and two_step_removed, whether the caller passes a string
// or a mamoru.CredentialKind; an unknown method names none.
func TestTwoStepMethods(t *testing.T) {
	m := testMailer(t)
	cat := catalog.MustNew()
	for _, tmpl := range []string{TemplateTwoStepAdded, TemplateTwoStepRemoved} {
		for _, lang := range mamoru.Languages {
			seen := map[string]bool{}
			for _, method := range []any{TwoStepTOTP, TwoStepWebAuthn, TwoStepPasskey, TwoStepBackupCodes, TwoStepSMS,
				mamoru.CredentialTOTP, mamoru.CredentialBackupCodes, "backup_code"} {
				data := sampleData(m, lang)
				data["Method"] = method
				msg, err := m.Render(Mail{To: "x@example.com", Language: lang, Template: tmpl, Data: data})
				if err != nil {
					t.Fatal(err)
				}
				key := fmt.Sprint(method)
				if key == "backup_code" {
					key = TwoStepBackupCodes
				}
				name := cat.T(lang, "mail.two_step.method."+key, nil)
				line := cat.T(lang, "mail.two_step.detail.method", map[string]any{"MethodText": name})
				if !strings.Contains(msg.Text, line) || !strings.Contains(htmlText(msg.HTML), line) {
					t.Errorf("%s/%s/%v: no %q in %s", tmpl, lang, method, line, msg.Text)
				}
				seen[name] = true
			}
			if len(seen) != 5 {
				t.Errorf("%s/%s: %d method names, want 5 different ones: %v", tmpl, lang, len(seen), seen)
			}
			data := sampleData(m, lang)
			data["Method"], data["Name"] = "carrier_pigeon", ""
			msg, err := m.Render(Mail{To: "x@example.com", Language: lang, Template: tmpl, Data: data})
			if err != nil {
				t.Fatal(err)
			}
			label := strings.TrimSpace(strings.Split(cat.T(lang, "mail.two_step.detail.method", map[string]any{"MethodText": ""}), "<")[0])
			for _, part := range []string{msg.Text, htmlText(msg.HTML)} {
				if strings.Contains(part, label) || strings.Contains(part, "[mail.") || strings.Contains(part, "carrier_pigeon") {
					t.Errorf("%s/%s: an unknown method should name none: %s", tmpl, lang, part)
				}
			}
		}
	}
}

// TestTwoStepRegenerated: two_step_added with Regenerated says that new
// backup codes replaced the old ones, and not that a method was added.
func TestTwoStepRegenerated(t *testing.T) {
	m := testMailer(t)
	cat := catalog.MustNew()
	for _, lang := range mamoru.Languages {
		data := sampleData(m, lang)
		data["Method"], data["Regenerated"] = TwoStepBackupCodes, true
		msg, err := m.Render(Mail{To: "x@example.com", Language: lang, Template: TemplateTwoStepAdded, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range []string{msg.Text, htmlText(msg.HTML)} {
			for _, want := range []string{"mail.two_step_added.intro_regenerated", "mail.two_step_added.after_regenerated", "mail.two_step.not_you"} {
				if !strings.Contains(part, cat.T(lang, want, nil)) {
					t.Errorf("%s: no %s in %s", lang, want, part)
				}
			}
			for _, not := range []string{"mail.two_step_added.intro", "mail.two_step_added.after"} {
				if strings.Contains(part, cat.T(lang, not, nil)) {
					t.Errorf("%s: %s in a regeneration: %s", lang, not, part)
				}
			}
		}
		if want := cat.T(lang, "mail.two_step_added.subject", nil); msg.Subject != want {
			t.Errorf("%s: subject %q, want %q", lang, msg.Subject, want)
		}
	}
}

// TestTwoStepCodeReplayedWording: the message names the kind of code that
// was replayed, and a generic code for any other method.
func TestTwoStepCodeReplayedWording(t *testing.T) {
	m := testMailer(t)
	cat := catalog.MustNew()
	for _, c := range []struct {
		method any
		id     string
	}{
		{TwoStepTOTP, "mail.two_step_code_replayed.intro_totp"},
		{TwoStepBackupCodes, "mail.two_step_code_replayed.intro_backup_codes"},
		{"backup_code", "mail.two_step_code_replayed.intro_backup_codes"},
		{mamoru.CredentialTOTP, "mail.two_step_code_replayed.intro_totp"},
		{TwoStepSMS, "mail.two_step_code_replayed.intro"},
		{nil, "mail.two_step_code_replayed.intro"},
	} {
		for _, lang := range mamoru.Languages {
			data := sampleData(m, lang)
			data["Method"] = c.method
			if c.method == nil {
				delete(data, "Method")
			}
			msg, err := m.Render(Mail{To: "x@example.com", Language: lang, Template: TemplateTwoStepCodeReplayed, Data: data})
			if err != nil {
				t.Fatal(err)
			}
			want := cat.T(lang, c.id, nil)
			if !strings.Contains(msg.Text, want) || !strings.Contains(htmlText(msg.HTML), want) {
				t.Errorf("%v/%s: no %q in %s", c.method, lang, want, msg.Text)
			}
			if !strings.Contains(msg.Text, testBase+"secure-account") {
				t.Errorf("%v/%s: no secure-account link", c.method, lang)
			}
		}
	}
}
