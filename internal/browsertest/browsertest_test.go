package browsertest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serve starts handler on 127.0.0.1 and returns its URL with the host
// localhost: a secure context for Chromium, as the real server's pages are.
func serve(t *testing.T, handler http.Handler) string {
	t.Helper()
	ts := httptest.NewServer(handler)
	t.Cleanup(ts.Close)
	addr := ts.Listener.Addr().(*net.TCPAddr)
	if !addr.IP.Equal(net.IPv4(127, 0, 0, 1)) {
		t.Fatalf("the test server listens on %v, not on 127.0.0.1 only", addr)
	}
	return fmt.Sprintf("http://localhost:%d", addr.Port)
}

// greeter is a tiny site with a form and a __Host- cookie (Secure, as
// mamoru's cookies are): POST /hello remembers a name, GET /hello greets
// the name in the cookie.
func greeter() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>form</title>
<form method="post" action="/hello"><input id="name" name="name" required><button id="go" type="submit">Go</button></form>
<button id="js" type="button" onclick="this.textContent = 'clicked'">click me</button>`)
	})
	mux.HandleFunc("POST /hello", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "__Host-name", Value: r.PostFormValue("name"), Path: "/",
			Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/hello", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		name := "nobody"
		if c, err := r.Cookie("__Host-name"); err == nil {
			name = c.Value
		}
		fmt.Fprintf(w, `<!doctype html><title>hello</title><p id="greeting">hello %s</p>`, html.EscapeString(name))
	})
	return mux
}

// TestFormsCookiesAndTwoContexts: a form typed into and submitted, a
// __Host- Secure cookie kept on http://localhost, and a second browser
// context that does not see it.
func TestFormsCookiesAndTwoContexts(t *testing.T) {
	t.Parallel()
	base := serve(t, greeter())
	b := New(t)
	ada, other := b.Context(t), b.Context(t)

	ada.Go(base + "/")
	ada.Click("#js")
	if got := ada.Text("#js"); got != "clicked" {
		t.Errorf("after the click: %q", got)
	}
	ada.Fill("#name", "Ada & co")
	shot := ada.Screenshot("form")
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 || !strings.HasSuffix(shot, filepath.Join(t.Name(), "01-form.png")) {
		t.Fatalf("screenshot %s: %v", shot, err)
	}
	if status := ada.Submit("#go"); status != http.StatusOK {
		t.Fatalf("submit: HTTP %d", status)
	}
	if got := ada.Text("#greeting"); got != "hello Ada & co" {
		t.Fatalf("after the form: %q (Chromium did not keep a Secure __Host- cookie on http://localhost?)", got)
	}
	if got := ada.URL(); got != base+"/hello" {
		t.Errorf("URL after the redirect: %s", got)
	}

	other.Go(base + "/hello")
	if got := other.Text("#greeting"); got != "hello nobody" {
		t.Fatalf("the second context sees the first one's cookie: %q", got)
	}
	other.Screenshot("other")
	ada.Go(base + "/hello")
	if got := ada.Text("#greeting"); got != "hello Ada & co" {
		t.Fatalf("the first context lost its cookie: %q", got)
	}
}

// webauthnPage registers a passkey and signs in with it, in the page's own
// script: create and get resolve to what the test checks.
const webauthnPage = `<!doctype html><title>passkey</title><p>passkey test</p><script>
const b64url = (buf) => btoa(String.fromCharCode(...new Uint8Array(buf))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
const clientData = (cred) => JSON.parse(new TextDecoder().decode(cred.response.clientDataJSON));
async function register(challenge, userID) {
	const cred = await navigator.credentials.create({publicKey: {
		challenge: new TextEncoder().encode(challenge),
		rp: {id: "localhost", name: "browsertest"},
		user: {id: new TextEncoder().encode(userID), name: "ada@example.com", displayName: "Ada"},
		pubKeyCredParams: [{type: "public-key", alg: -7}],
		authenticatorSelection: {residentKey: "required", userVerification: "required"},
		attestation: "none",
		timeout: 10000,
	}});
	return {id: cred.id, type: cred.type, attachment: cred.authenticatorAttachment, clientData: clientData(cred)};
}
async function signIn(challenge) {
	const cred = await navigator.credentials.get({publicKey: {
		challenge: new TextEncoder().encode(challenge),
		rpId: "localhost",
		userVerification: "required",
		timeout: 10000,
	}});
	return {id: cred.id, userHandle: new TextDecoder().decode(cred.response.userHandle), clientData: clientData(cred)};
}
</script>`

type clientData struct {
	Type      string `json:"type"`
	Challenge string `json:"challenge"`
	Origin    string `json:"origin"`
}

// TestVirtualAuthenticator: this Chromium's virtual authenticator creates
// a passkey for a localhost page and signs in with it, without a prompt.
func TestVirtualAuthenticator(t *testing.T) {
	t.Parallel()
	base := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, webauthnPage) }))
	b := New(t)
	tab := b.Context(t)
	id := tab.AddVirtualAuthenticator()
	tab.Go(base + "/")
	if got := Eval[bool](tab, "window.isSecureContext"); !got {
		t.Fatal("http://localhost is not a secure context")
	}

	reg := Eval[struct {
		ID, Type, Attachment string
		ClientData           clientData
	}](tab, `register("fixed-challenge-1", "user-1")`)
	want := base64.RawURLEncoding.EncodeToString([]byte("fixed-challenge-1"))
	if reg.Type != "public-key" || reg.Attachment != "platform" || reg.ClientData.Type != "webauthn.create" ||
		reg.ClientData.Challenge != want || reg.ClientData.Origin != base {
		t.Fatalf("registration: %+v", reg)
	}
	creds := tab.Credentials(id)
	if len(creds) != 1 {
		t.Fatalf("%d credentials, want 1", len(creds))
	}
	c := creds[0]
	if base64.RawURLEncoding.EncodeToString(c.CredentialID) != reg.ID || c.RpID != "localhost" ||
		!c.IsResidentCredential || !bytes.Equal(c.UserHandle, []byte("user-1")) {
		t.Fatalf("credential: id %x rp %q resident %v user %q; the page saw id %s",
			c.CredentialID, c.RpID, c.IsResidentCredential, c.UserHandle, reg.ID)
	}

	got := Eval[struct {
		ID, UserHandle string
		ClientData     clientData
	}](tab, `signIn("fixed-challenge-2")`)
	if got.ID != reg.ID || got.UserHandle != "user-1" || got.ClientData.Type != "webauthn.get" ||
		got.ClientData.Challenge != base64.RawURLEncoding.EncodeToString([]byte("fixed-challenge-2")) {
		t.Fatalf("assertion: %+v", got)
	}
	if n := tab.Credentials(id)[0].SignCount; n < 1 {
		t.Errorf("sign count %v after one assertion", n)
	}
	tab.Screenshot("passkey")
}

// TestFailureScreenshot: a failing action leaves a "failure" screenshot and
// fails the test within the tab's timeout. The failing test runs in a
// child process (this test binary), as a test cannot watch itself fail.
func TestFailureScreenshot(t *testing.T) {
	if os.Getenv("BROWSERTEST_FAILING_CHILD") == "1" {
		base := serve(t, greeter())
		tab := New(t).Context(t)
		tab.SetTimeout(time.Second)
		tab.Go(base + "/")
		tab.WaitVisible("#not-on-the-page")
		t.Fatal("WaitVisible returned for an element that does not exist")
	}
	t.Parallel()
	Require(t)
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestFailureScreenshot$", "-test.v")
	cmd.Env = append(os.Environ(), "BROWSERTEST_FAILING_CHILD=1", "MAMORU_TEST_ARTIFACTS="+dir)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("the failing child passed:\n%s", out)
	}
	shot := filepath.Join(dir, "TestFailureScreenshot", "01-failure.png")
	if st, err := os.Stat(shot); err != nil || st.Size() == 0 {
		t.Fatalf("no failure screenshot (%v):\n%s", err, out)
	}
	for _, want := range []string{"failure screenshot " + shot, "wait for #not-on-the-page", "deadline exceeded (after 1s)"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("the child's output lacks %q:\n%s", want, out)
		}
	}
}
