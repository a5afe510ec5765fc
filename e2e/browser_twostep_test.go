package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/mamoru-id/mamoru/internal/browsertest"
)

// appCode is an authenticator app's code for secret, at + offset.
func appCode(t *testing.T, secret string, offset time.Duration) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, time.Now().Add(offset), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// passwordStep signs in on the sign-in page and expects the second step.
func passwordStep(t *testing.T, tab *browsertest.Tab, base, email, pw string) {
	t.Helper()
	tab.Go(base + "/signin")
	tab.Fill("#email", email)
	tab.Fill("#password", pw)
	tab.Submit(`form[action="/signin"] button[type=submit]`)
	tab.WaitVisible(`form[action="/signin/code"]`)
}

// TestBrowserTwoStepAppAndBackupCodes: an owner makes backup codes (after
// a step-up with the password), adds an authenticator app (after a
// step-up with a backup code: the account now has a second factor), signs
// in on another browser with the app's code and "remember this device",
// and on a third with a backup code; the remembered browser later signs
// in with the password alone; a used backup code is refused.
func TestBrowserTwoStepAppAndBackupCodes(t *testing.T) {
	t.Parallel()
	s, base := startForBrowser(t)
	const email, pw = "twostep@example.com", "himeji-castle-1609"
	signUpByAPI(t, s, email, pw)
	b := browsertest.New(t)
	laptop := b.Context(t)
	signInPage(t, laptop, base, email, pw)

	// Backup codes first: the settings need a step-up, with the password
	// while there is no second factor.
	laptop.Go(base + "/account/two-step")
	laptop.Screenshot("two-step-empty")
	laptop.Go(base + "/account/step-up?next=/account/two-step")
	laptop.Fill("#password", pw)
	laptop.Screenshot("step-up-password")
	laptop.Submit(`form[action="/account/step-up"] button[type=submit]`)
	expectPath(t, laptop, "/account/two-step")
	if status := laptop.Submit(`form[action="/account/two-step/backup"] button[type=submit]`); status != http.StatusOK {
		t.Fatalf("backup codes: HTTP %d", status)
	}
	codes := strings.Fields(laptop.Text("ol"))
	if len(codes) != 10 {
		t.Fatalf("backup codes page:\n%s", laptop.Text("main"))
	}
	laptop.Screenshot("backup-codes")

	// The app: a step-up again, now with a backup code.
	laptop.Go(base + "/account/two-step/totp")
	expectPath(t, laptop, "/account/step-up")
	laptop.Fill("#code", codes[0])
	laptop.Screenshot("step-up-backup-code")
	laptop.Submit(`form[action="/account/step-up"] button[type=submit]`)
	expectPath(t, laptop, "/account/two-step/totp")
	secret := strings.ReplaceAll(laptop.Text("main code"), " ", "")
	if len(secret) < 16 {
		t.Fatalf("no secret on the app page:\n%s", laptop.Text("main"))
	}
	if ok := browsertest.Eval[bool](laptop, `(() => { const i = document.querySelector("main img"); return !!i && i.complete && i.naturalWidth > 100 })()`); !ok {
		t.Error("the QR code did not load")
	}
	laptop.Screenshot("add-app")
	laptop.Fill("#name", "Pixel")
	laptop.Fill("#code", appCode(t, secret, 0))
	laptop.Submit(`form[action="/account/two-step/totp"] button[type=submit]`)
	expectPath(t, laptop, "/account/two-step")
	if text := laptop.Text("table.methods"); !strings.Contains(text, "Pixel") || !strings.Contains(text, "9") {
		t.Errorf("methods table:\n%s", text)
	}
	laptop.Screenshot("two-step-methods")
	if n := outboxCount(t, newClient(t, s), email, "sign-in method was added"); n != 2 {
		t.Errorf("%d mails about added methods, want 2", n)
	}

	// Another browser: the password alone is not enough.
	phone := b.Context(t)
	passwordStep(t, phone, base, email, pw)
	phone.Screenshot("second-step-app")
	if text := phone.Text("main"); !strings.Contains(text, "change") {
		t.Errorf("the second step lacks the not-you advice:\n%s", text)
	}
	phone.Fill("#code", appCode(t, secret, 30*time.Second))
	phone.Click(`form[action="/signin/code"] input[name=remember]`)
	phone.Submit(`form[action="/signin/code"] button[type=submit]`)
	expectPath(t, phone, "/account")
	phone.Screenshot("signed-in-with-app")

	// A third: a backup code instead.
	tablet := b.Context(t)
	passwordStep(t, tablet, base, email, pw)
	tablet.Submit(`form[action="/signin/code/method"] button[value=backup_code]`)
	tablet.Fill("#code", codes[0]) // used for the step-up: refused
	tablet.Submit(`form[action="/signin/code"] button[type=submit]`)
	tablet.WaitVisible(".error")
	tablet.Screenshot("second-step-used-backup-code")
	tablet.Fill("#code", codes[1])
	tablet.Submit(`form[action="/signin/code"] button[type=submit]`)
	expectPath(t, tablet, "/account")
	tablet.Screenshot("signed-in-with-backup-code")

	// The remembered browser: password only.
	phone.Submit(`form[action="/signout"] button[type=submit]`)
	signInPage(t, phone, base, email, pw)
	// That session passed only the password: the settings want a step-up.
	phone.Go(base + "/account/two-step/totp")
	expectPath(t, phone, "/account/step-up")
	phone.Screenshot("remembered-needs-step-up")
}

// TestBrowserSecurityKeyAndPasskey: an owner adds a security key (after
// a step-up with the password), which then proves the second step of a
// password sign-in; then a passkey, with which the owner signs in alone
// from the sign-in page (its passkey button, or the browser's autofill,
// which a virtual authenticator answers by itself). The browser holds CDP
// virtual authenticators: a USB key without resident credentials, then a
// platform authenticator.
func TestBrowserSecurityKeyAndPasskey(t *testing.T) {
	t.Parallel()
	s, base := startForBrowser(t)
	const email, pw = "passkey@example.com", "matsumoto-castle-1594"
	signUpByAPI(t, s, email, pw)
	tab := browsertest.New(t).Context(t)
	key := tab.AddVirtualAuthenticator(func(o *cdpwebauthn.VirtualAuthenticatorOptions) {
		o.Transport = cdpwebauthn.AuthenticatorTransportUsb
		o.HasResidentKey = false
		o.HasUserVerification = false
		o.IsUserVerified = false
	})
	signInPage(t, tab, base, email, pw)

	tab.Go(base + "/account/step-up?next=/account/two-step")
	tab.Fill("#password", pw)
	tab.Submit(`form[action="/account/step-up"] button[type=submit]`)
	expectPath(t, tab, "/account/two-step")
	tab.Fill("#key_name", "Blue key")
	tab.Screenshot("add-security-key")
	tab.Submit(`form[data-webauthn="create"]:has(input[name=passkey][value="0"]) button[type=submit]`)
	expectPath(t, tab, "/account/two-step")
	if text := tab.Text("table.methods"); !strings.Contains(text, "Blue key") {
		t.Fatalf("methods table:\n%s", text)
	}
	if creds := tab.Credentials(key); len(creds) != 1 || creds[0].IsResidentCredential {
		t.Fatalf("the key holds %d credentials", len(creds))
	}
	tab.Screenshot("security-key-added")

	// Sign out; the password now needs the key as second step.
	tab.Submit(`form[action="/signout"] button[type=submit]`)
	passwordStep(t, tab, base, email, pw)
	tab.Screenshot("second-step-security-key")
	tab.Submit(`form[action="/signin/code"][data-webauthn] button[type=submit]`)
	expectPath(t, tab, "/account")
	tab.Screenshot("signed-in-password-and-key")

	// That sign-in was AAL2: a passkey may be added at once.
	tab.RemoveVirtualAuthenticator(key)
	platform := tab.AddVirtualAuthenticator()
	tab.Go(base + "/account/two-step")
	tab.Fill("#passkey_name", "This laptop")
	tab.Submit(`form[data-webauthn="create"]:has(input[name=passkey][value="1"]) button[type=submit]`)
	expectPath(t, tab, "/account/two-step")
	if text := tab.Text("table.methods"); !strings.Contains(text, "This laptop") {
		t.Fatalf("methods table:\n%s", text)
	}
	if creds := tab.Credentials(platform); len(creds) != 1 || !creds[0].IsResidentCredential {
		t.Fatalf("the platform authenticator holds %d credentials", len(creds))
	}
	tab.Screenshot("passkey-added")

	// Passkey-first: no email, no password.
	tab.Submit(`form[action="/signout"] button[type=submit]`)
	tab.Go(base + "/signin")
	// (No screenshot here: the autofill may be signing in already.)
	if !becomes(tab, "/account", 3*time.Second) {
		// No autofill: the button.
		tab.Submit(`form[action="/signin/passkey"] button[type=submit]`)
	}
	waitPath(t, tab, "/account", 10*time.Second)
	if text := tab.Text("main"); !strings.Contains(text, email) {
		t.Errorf("account page after the passkey:\n%s", text)
	}
	tab.Screenshot("signed-in-with-passkey")
	// A passkey session is AAL2: the settings need no step-up.
	tab.Go(base + "/account/two-step/totp")
	expectPath(t, tab, "/account/two-step/totp")
}

// becomes reports whether the tab reaches path within d.
func becomes(tab *browsertest.Tab, path string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if u, err := url.Parse(tab.URL()); err == nil && u.Path == path {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}
